"""Simulated programs of the simulated Windows host, and how a command line finds them.

Two resolution rules, as on Windows:

* CreateProcess (WinRM commands, win_command, run_process): the first token is the program;
  no extension -> ``.exe`` is appended; a bare name is looked for in the working directory,
  System32, the Windows directory, then PATH. Not found -> Win32 error 2.
* cmd.exe: internal commands first, then the working directory and PATH, trying each PATHEXT
  extension (``.COM;.EXE;.BAT;.CMD``...) when none is given. Not found -> "is not recognized",
  rc 9009.

Programs are built-ins (cmd.exe, reg.exe, msiexec.exe, ...), ``.bat``/``.cmd`` files (run by
the cmd.exe subset), or *declared*: a file in the state with a ``program`` record saying what
it prints, returns, how long it runs and what it changes. Anything else cannot be run.
Test fixture: never shipped. Where a detail of Windows is guessed the code says ``guess:``.
"""

from __future__ import annotations

import ntpath
import re
import threading

from tests.winsim.machine import SYSTEM_USERS, ExecResult, FsError, Session, reg_display, reg_norm

NOT_FOUND = "The system cannot find the file specified."
PATH_NOT_FOUND = "The system cannot find the path specified."
BAD_EXE_FORMAT = "%1 is not a valid Win32 application."
NOT_RECOGNIZED = "'{0}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"


class ProgramNotFound(Exception):
    """CreateProcess could not start the program (the message is Windows' own)."""

    def __init__(self, message: str = NOT_FOUND, code: int = 2):
        super().__init__(message)
        self.code = code


class Context:
    """What a running simulated process sees."""

    def __init__(self, machine, env: dict, cwd: str, user: str, cancel: threading.Event, wow64: bool = False,
                 session: Session | None = None, stdin: bytes = b""):
        self.machine, self.env, self.cwd, self.user, self.cancel = machine, env, cwd, user, cancel
        self.wow64, self.stdin = wow64, stdin
        self.session = session or Session(user, machine.boot_id())

    def child(self, **changes) -> Context:
        """A child process: a copy of this environment and directory."""
        ctx = Context(self.machine, dict(self.env), self.cwd, self.user, self.cancel, self.wow64, self.session,
                      self.stdin)
        for key, value in changes.items():
            setattr(ctx, key, value)
        return ctx

    def getenv(self, name: str) -> str | None:
        for key, value in self.env.items():
            if key.lower() == name.lower():
                return value
        return None

    def setenv(self, name: str, value: str | None) -> None:
        for key in [k for k in self.env if k.lower() == name.lower()]:
            del self.env[key]
        if value is not None:
            self.env[name] = value

    def abspath(self, path: str) -> str:
        path = path.strip().strip('"')
        m = re.match(r"^([A-Za-z]):(.*)$", path)
        if m and self.session.connections.get(m.group(1).upper() + ":"):
            # A drive letter this logon session connected to a share.
            path = self.session.connections[m.group(1).upper() + ":"] + "\\" + m.group(2).lstrip("\\")
        elif m and not m.group(2).startswith("\\"):
            base = self.cwd if self.cwd[:1].lower() == m.group(1).lower() else m.group(1) + ":\\"
            path = ntpath.join(base, m.group(2))
        if path.startswith("\\\\"):
            return "\\\\" + ntpath.normpath(path).lstrip("\\")
        if re.match(r"^[A-Za-z]:\\", path):
            return ntpath.normpath(path)
        return ntpath.normpath(ntpath.join(self.cwd, path))

    def check_access(self, path: str) -> None:
        """UNC paths need a connection of this logon session when the share wants credentials."""
        if not path.startswith("\\\\"):
            return
        share = self.machine.share_of(path)
        if share is None:
            raise FsError("The network path was not found.")
        if share not in self.session.connections.values() and self.machine.check_share_credentials(share, None, None):
            raise FsError("Access is denied.")

    def exists(self, path: str) -> bool:
        full = self.abspath(path)
        try:
            self.check_access(full)
        except FsError:
            return False
        return self.machine.fs_exists(full)

    def read(self, path: str) -> bytes:
        full = self.abspath(path)
        self.check_access(full)
        return self.machine.fs_read(full)

    def write(self, path: str, data: bytes, append: bool = False) -> None:
        if path.strip().strip('"').lower() == "nul":
            return
        full = self.abspath(path)
        self.check_access(full)
        self.machine.fs_write(full, data, append=append)


def process_env(machine, extra: dict | None, user: str | None = None) -> dict:
    """The environment a new process gets: the machine's, its logon's, then the task's."""
    env = dict(machine.state["environment"])
    for source in (machine.user_env(user) if user else {}, extra or {}):
        for key, value in source.items():
            for existing in [k for k in env if k.lower() == key.lower()]:
                del env[existing]
            env[key] = str(value)
    return env


def env_get(env: dict, name: str, default: str | None = None) -> str | None:
    """An environment variable, by Windows' case-insensitive name."""
    return next((v for k, v in env.items() if k.lower() == name.lower()), default)


def split_program(command_line: str) -> tuple[str, str]:
    """The first token of a command line and the rest.

    CommandLineToArgvW's rule for argv[0] (which CreateProcess with a NULL lpApplicationName and
    Process.psm1:203 both use): a leading quote runs to the next quote, with no backslash
    escapes; otherwise the name ends at the first blank.
    """
    cmd = command_line.lstrip(" \t")
    if cmd.startswith('"'):
        end = cmd.find('"', 1)
        end = len(cmd) if end < 0 else end
        return cmd[1:end], cmd[end + 1:].lstrip(" \t")
    parts = re.split(r"[ \t]+", cmd, maxsplit=1)
    return (parts[0] if parts else ""), (parts[1] if len(parts) > 1 else "")


def argv(args: str) -> list[str]:
    """How a C program (CommandLineToArgvW / the MSVC runtime) splits its arguments.

    2n backslashes before a quote -> n backslashes and the quote toggles quoting; 2n+1 -> n and
    a literal quote; other backslashes are literal; blanks outside quotes separate arguments.
    guess: a doubled quote inside quotes is one literal quote and quoting goes on (the MSVC
    2008+ rule); CommandLineToArgvW's handling of that corner differs between Windows versions.
    """
    out, buf, i, quoted, have = [], "", 0, False, False
    while i < len(args):
        c = args[i]
        if c == "\\":
            j = i
            while j < len(args) and args[j] == "\\":
                j += 1
            if j < len(args) and args[j] == '"':
                buf += "\\" * ((j - i) // 2)
                if (j - i) % 2:
                    buf += '"'
                    j += 1
                i, have = j, True
                continue
            buf += args[i:j]
            i, have = j, True
            continue
        if c == '"':
            if quoted and args[i + 1:i + 2] == '"':
                buf += '"'
                i += 2
                continue
            quoted, have = not quoted, True
            i += 1
            continue
        if c in " \t" and not quoted:
            if have:
                out.append(buf)
                buf, have = "", False
            i += 1
            continue
        buf += c
        have = True
        i += 1
    if have:
        out.append(buf)
    return out


def escape_argument(arg: str) -> str:
    """ConvertTo-EscapedArgument (ansible.windows Process.psm1:91-115): quote only when needed, C rules."""
    if not arg:
        return '""'
    if not re.search(r'[\s"]', arg):
        return arg
    arg = arg.replace('"', '\\"')
    arg = re.sub(r'(\\+)\\"', r'\1\1\\"', arg)
    arg = re.sub(r"(\\+)$", r"\1\1", arg)
    return f'"{arg}"'


POWERSHELL_DIR = "System32\\WindowsPowerShell\\v1.0"   # under %SystemRoot%: the image folder of a module's host


def _has_dir(name: str) -> bool:
    return "\\" in name or "/" in name or re.match(r"^[A-Za-z]:", name) is not None


def is_abs_path(name: str) -> bool:
    """[IO.Path]::GetFullPath(name) -eq name, near enough: a drive-rooted or UNC path."""
    return re.match(r"^[A-Za-z]:\\", name) is not None or name.startswith("\\\\")


def search_folders(ctx: Context, image_dir: str | None = None) -> list[str]:
    """SearchPath's order (SafeProcessSearchMode off, the default), which CreateProcess uses for a NULL lpApplicationName.

    Sources: the CreateProcessW documentation, lpCommandLine: "1. The directory from which the
    application loaded. 2. The current directory for the parent process. 3. The 32-bit Windows
    system directory. 4. The 16-bit Windows system directory. 5. The Windows directory. 6. The
    directories that are listed in the PATH environment variable"; SearchPathW with lpPath NULL
    searches the same folders. ``ctx`` is the *parent* (its cwd is the parent's, not the child's
    lpCurrentDirectory); ``image_dir`` the folder of the parent's executable, when known.
    """
    windir = ctx.getenv("SystemRoot") or "C:\\Windows"
    folders = [image_dir] if image_dir else []
    folders += [ctx.cwd, windir + "\\System32", windir + "\\System", windir]
    return folders + [d for d in (ctx.getenv("PATH") or "").split(";") if d.strip()]


def resolve(ctx: Context, name: str, *, cmd_style: bool = False, extensions: tuple | None = None,
            folders: list | None = None, image_dir: str | None = None) -> tuple[str, dict]:
    """(path, file record) of the program ``name`` names; ProgramNotFound (Win32 error 2) if none.

    Default: CreateProcess with a NULL lpApplicationName (ctx is the parent): ".exe" appended when
    the name has no extension, and only .exe ("If the file name does not contain an extension,
    .exe is appended", CreateProcessW docs, lpCommandLine), unless it has a path; a name with a path is taken as it is;
    a bare name is searched in ``search_folders``. ``cmd_style``: cmd.exe's own search (current
    directory, then PATH; every PATHEXT extension). ``folders``: only these folders.
    """
    name = name.strip().strip('"')
    if not name:
        raise ProgramNotFound()
    exts: tuple = ("",)
    # CreateProcessW docs: "If the file name ends in a period (.) with no extension, or if the file
    # name contains a path, .exe is not appended." (cmd.exe tries PATHEXT either way.)
    if not ntpath.splitext(name)[1] and not name.endswith(".") and (cmd_style or extensions is not None
                                                                    or not _has_dir(name)):
        if extensions is not None:
            exts = extensions
        elif cmd_style:
            exts = tuple(e.lower() for e in (ctx.getenv("PATHEXT") or ".COM;.EXE;.BAT;.CMD").split(";") if e)
        else:
            exts = (".exe",)
    if _has_dir(name):
        full = ctx.abspath(name)
        try:
            ctx.check_access(full)
        except FsError as e:
            raise ProgramNotFound(str(e), 5 if "denied" in str(e) else 53) from None
        bases = [full]
    else:
        if folders is None:
            folders = [ctx.cwd] if cmd_style else search_folders(ctx, image_dir)
            if cmd_style:
                folders += [d for d in (ctx.getenv("PATH") or "").split(";") if d.strip()]
        bases = [ntpath.join(ctx.abspath(d), name) for d in folders]
    # Every folder for one extension, then the next extension (cmd.exe and ConfigMgr order).
    for ext in exts:
        for base in bases:
            rec = ctx.machine.fs_get(base + ext)
            if rec and rec.get("type") == "file":
                return rec["path"], rec
    if _has_dir(name) and not cmd_style and not ctx.machine.fs_isdir(ntpath.dirname(bases[0])):
        raise ProgramNotFound(PATH_NOT_FOUND, 3)   # ERROR_PATH_NOT_FOUND: the folder itself is missing
    raise ProgramNotFound()


def application(ctx: Context, application_name: str) -> tuple[str, dict]:
    """CreateProcess with lpApplicationName set: no search and no default extension.

    CreateProcessW docs, lpApplicationName: "In the case of a partial name, the function uses the
    current drive and current directory to complete the specification. The function will not
    use the search path. This parameter must include the file name extension; no default
    extension is assumed." The current directory is the caller's (``ctx``, the parent), not
    lpCurrentDirectory.
    """
    full = ctx.abspath(application_name)
    try:
        ctx.check_access(full)
    except FsError as e:
        raise ProgramNotFound(str(e), 5 if "denied" in str(e) else 53) from None
    rec = ctx.machine.fs_get(full)
    if rec and rec.get("type") == "file":
        return rec["path"], rec
    if not ctx.machine.fs_isdir(ntpath.dirname(full)):
        raise ProgramNotFound(PATH_NOT_FOUND, 3)
    raise ProgramNotFound()


def run_command_line(machine, command_line: str, *, env: dict | None, cwd: str | None, user: str, cancel,
                     wow64: bool = False, session: Session | None = None, stdin: bytes = b"") -> ExecResult:
    """What a WinRM command runs: CreateProcess; rc 2 with Windows' message when it cannot."""
    user = user or "Administrator"
    # guess: a WinRM command starts in the account's profile folder
    ctx = Context(machine, process_env(machine, env, user), cwd or machine.user_env(user)["USERPROFILE"], user, cancel,
                  wow64, session, stdin)
    try:
        return start(ctx, command_line)
    except ProgramNotFound as e:
        return ExecResult(b"", f"{e}\r\n".encode(), e.code)   # guess: how WinRM reports a command it cannot start


def start(ctx: Context, command_line: str, *, cmd_style: bool = False, image_dir: str | None = None,
          cwd: str | None = None) -> ExecResult:
    """Run one program as CreateProcess with a NULL lpApplicationName (or cmd.exe, with cmd_style) finds it.

    ``ctx`` is the parent: the program is looked up from its current directory; ``cwd`` is the
    child's lpCurrentDirectory (default: the parent's), which plays no part in the lookup.
    """
    name, args = split_program(command_line)
    path, rec = resolve(ctx, name, cmd_style=cmd_style, image_dir=image_dir)
    return run_file(ctx.child(cwd=cwd) if cwd else ctx, path, rec, args)


def run_file(ctx: Context, path: str, rec: dict, args: str) -> ExecResult:
    """Run the program file found for a command line; ``ctx`` is the new process (its cwd is lpCurrentDirectory).

    A ``.bat``/``.cmd`` runs in cmd.exe: CreateProcess starts "%ComSpec% /c" for a batch file
    named as the application (documented by Microsoft in the BatBadBut advisory, CVE-2024-24576,
    and the CreateProcessW remarks on batch files); anything else that is not an .exe/.com is
    ERROR_BAD_EXE_FORMAT (193): CreateProcess starts no documents.
    """
    ctx.machine.count("programs")
    program = rec.get("program")
    ext = ntpath.splitext(path)[1].lower()
    if program and program.get("builtin"):
        handler = BUILTINS.get(program["builtin"])
        if handler is None:
            return ExecResult(b"", f"simulated host: the program '{program['builtin']}' is not emulated\r\n".encode(), 1)
        return handler(ctx, args)
    if program is not None:
        return declared(ctx, path, program, args)
    if ext in (".bat", ".cmd"):
        return run_batch(ctx, path, args)
    if ext not in (".exe", ".com"):
        raise ProgramNotFound(BAD_EXE_FORMAT, 193)   # CreateProcess starts no documents
    return ExecResult(b"", f"simulated host: '{path}' has no declared behaviour (give its file a 'program' "
                           "record in the state)\r\n".encode(), 1)


def _fill(text: str, ctx: Context, args: str) -> str:
    text = str(text).replace("{args}", args).replace("{cwd}", ctx.cwd).replace("{user}", ctx.user)
    text = text.replace("{stdin}", ctx.stdin.decode("utf-8", "replace"))
    return re.sub(r"\{env:([^}]+)\}", lambda m: ctx.getenv(m.group(1)) or "", text)


def declared(ctx: Context, path: str, program: dict, args: str) -> ExecResult:
    """A program whose behaviour a test declared in the state (installers, tools)."""
    behaviour = dict(program)
    for case in program.get("cases") or []:
        if re.search(case.get("args", ""), args, re.IGNORECASE):
            behaviour.update({k: v for k, v in case.items() if k != "args"})
            break
    seconds = float(behaviour.get("seconds") or 0)
    if seconds and not ctx.machine.sleep(seconds, ctx.cancel):
        return ExecResult(b"", b"", 1)   # killed (guess: rc 1, as taskkill /F leaves it): no effects
    apply_effects(ctx, behaviour.get("effects") or [], args)
    # "encoding": the code page the program writes in. guess: UTF-8 by default, the console code page
    # 65001 that Ansible's CreateProcess sets up under WinRM (ansible.windows Process.cs:495-503); a
    # program printing in its ANSI/OEM code page is declared with that encoding.
    encoding = behaviour.get("encoding", "utf-8")
    return ExecResult(_fill(behaviour.get("stdout", ""), ctx, args).encode(encoding),
                      _fill(behaviour.get("stderr", ""), ctx, args).encode(encoding), int(behaviour.get("rc", 0)))


def apply_effects(ctx_or_machine, effects: list, args: str = "") -> None:
    """What a declared program (or an MSI) changes on the machine."""
    ctx = ctx_or_machine if isinstance(ctx_or_machine, Context) else None
    machine = ctx.machine if ctx else ctx_or_machine
    with machine.lock:
        for effect in effects:
            if "install_product" in effect:
                product = dict(effect["install_product"])
                machine.install_product(product.pop("product_code"), product)
            if "remove_product" in effect:
                machine.remove_product(effect["remove_product"])
            if "write_file" in effect:
                f = effect["write_file"]
                text = _fill(f.get("content", ""), ctx, args) if ctx else str(f.get("content", ""))
                machine.fs_mkdir(ntpath.dirname(f["path"]))
                machine.fs_write(f["path"], text.encode())
            if "delete_file" in effect:
                machine.fs_remove(effect["delete_file"])
            if "set_registry" in effect:
                r = effect["set_registry"]
                machine.reg_set(r["key"], r["name"], r.get("type", "REG_SZ"), r.get("data"))
            if "delete_registry" in effect:
                r = effect["delete_registry"]
                if r.get("name") is None:
                    machine.reg_delete_key(r["key"])
                else:
                    machine.reg_delete_value(r["key"], r["name"])
            if effect.get("request_reboot"):
                machine.request_reboot()
            if "restart" in effect:
                machine.schedule_restart(float(effect["restart"]), "a program restarted the machine")


# cmd.exe -----------------------------------------------------------------------------------

class _Exit(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class _Unsupported(Exception):
    pass


def _expand(ctx: Context, text: str, batch_args: list[str] | None, errorlevel: int) -> str:
    def var(m):
        name = m.group(1)
        if name.upper() == "ERRORLEVEL" and ctx.getenv(name) is None:
            return str(errorlevel)
        if name.upper() == "CD" and ctx.getenv(name) is None:
            return ctx.cwd
        value = ctx.getenv(name)
        if value is None:
            # On a command line an undefined variable stays as written; in a batch file it is empty.
            return "" if batch_args is not None else m.group(0)
        return value

    if batch_args is not None:
        def arg(m):
            mod, n = m.group(1), int(m.group(2))
            value = batch_args[n] if n < len(batch_args) else ""
            if mod == "~":
                return value.strip('"')
            if mod == "~dp":
                return ntpath.dirname(value.strip('"')) + "\\"
            return value

        text = text.replace("%*", " ".join(batch_args[1:]))
        text = re.sub(r"%(~dp|~)?(\d)", arg, text)
    return re.sub(r"%([^%\s=]+)%", var, text)


def _split_ops(line: str) -> list[tuple[str, str]]:
    """[(operator before, command)] for &, && and || outside quotes and ^ escapes."""
    out, buf, op, quoted, i = [], "", "", False, 0
    while i < len(line):
        c = line[i]
        if c == "^" and not quoted and i + 1 < len(line):
            buf += line[i:i + 2]
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        if not quoted and c in "&|" and not (c == "&" and line[i - 1:i] == ">"):
            two = line[i:i + 2]
            if two in ("&&", "||"):
                out.append((op, buf.lstrip()))
                op, buf, i = two, "", i + 2
                continue
            if c == "&":
                out.append((op, buf.lstrip()))
                op, buf, i = "&", "", i + 1
                continue
            raise ValueError("pipes (|) are not emulated by the simulated cmd.exe")
        buf += c
        i += 1
    out.append((op, buf.lstrip()))
    return out


_REDIRECT = re.compile(r'(\d?)(>>?)\s*(&\d|"[^"]+"|[^\s&|<>]+)[ \t]*')   # guess: blanks after it are dropped


def _redirections(line: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The command without its redirections (the text before them kept as written), and [(stream, mode, target)]."""
    found, keep, quoted, i = [], "", False, 0
    while i < len(line):
        c = line[i]
        if c == '"':
            quoted = not quoted
        starts = c == ">" or (c in "12" and line[i + 1:i + 2] == ">" and (i == 0 or line[i - 1] in " \t"))
        if not quoted and starts and (i == 0 or line[i - 1] != "^"):
            m = _REDIRECT.match(line, i)
            if m:
                found.append((m.group(1) or "1", m.group(2), m.group(3).strip('"')))
                i = m.end()
                continue
        keep += c
        i += 1
    # "echo a > f" writes "a ": cmd keeps the space before the redirection.
    return keep.lstrip(), found


def cmd_exe(ctx: Context, args: str) -> ExecResult:
    m = re.match(r"^\s*((?:/[dDqQsS]\s*)*)/([cCkK])\s?(.*)$", args, re.DOTALL)
    if not m:
        return ExecResult(b"", b"simulated cmd.exe: only 'cmd.exe /c COMMAND' is emulated\r\n", 1)
    line = m.group(3).strip()
    # cmd /c "..." strips the outer quotes (the /S rule, and the usual case).
    if len(line) >= 2 and line[0] == '"' and line[-1] == '"':
        line = line[1:-1]
    return CmdShell(ctx.child()).run_lines([line])


def run_batch(ctx: Context, path: str, args: str) -> ExecResult:
    text = ctx.machine.fs_read(path).decode("utf-8", "replace")
    return CmdShell(ctx.child(), batch_args=[path, *argv(args)]).run_lines(text.splitlines())


class CmdShell:
    """A small subset of cmd.exe, enough for install scripts and step command lines."""

    def __init__(self, ctx: Context, batch_args: list[str] | None = None):
        self.ctx, self.batch_args = ctx, batch_args
        self.out, self.err = bytearray(), bytearray()
        self.errorlevel = 0

    def run_lines(self, lines: list[str]) -> ExecResult:
        try:
            for raw in lines:
                stripped = raw.strip()
                bare = stripped.lstrip("@")
                if not bare or bare.startswith("::") or re.match(r"(?i)^rem(\s|$)", bare) or bare.startswith(":"):
                    continue
                if re.match(r"(?i)^(echo (off|on)|setlocal|endlocal)\b", bare):
                    continue
                if re.match(r"(?i)^(goto|for|pushd|popd|shift|choice|start)\b", bare):
                    raise _Unsupported(f"'{bare.split()[0]}' is not emulated by the simulated cmd.exe")
                self.run_line(raw.lstrip().lstrip("@"))
        except _Exit as e:
            self.errorlevel = e.code
        except (_Unsupported, ValueError) as e:
            self.err += f"simulated host: {e}\r\n".encode()
            self.errorlevel = 1
        return ExecResult(bytes(self.out), bytes(self.err), self.errorlevel)

    def run_line(self, line: str) -> None:
        line = _expand(self.ctx, line, self.batch_args, self.errorlevel)
        for op, command in _split_ops(line):
            if (op == "&&" and self.errorlevel != 0) or (op == "||" and self.errorlevel == 0):
                continue
            if command.strip():
                self.one(command)

    def one(self, line: str) -> None:
        if line.strip().startswith("(") and line.strip().endswith(")"):
            return self.run_line(line.strip()[1:-1])
        body, redirects = _redirections(line)
        out, err, rc = self.builtin_or_program(body)
        for stream, mode, target in redirects:
            if target in ("&1", "&2"):
                if stream == "1" and target == "&2":
                    err, out = err + out, b""
                elif stream == "2" and target == "&1":
                    out, err = out + err, b""
                continue
            data = out if stream == "1" else err
            if target.lower() != "nul":
                try:
                    self.ctx.write(target, data, append=mode == ">>")
                except FsError:
                    self.err += PATH_NOT_FOUND.encode() + b"\r\n"
                    rc = 1
            if stream == "1":
                out = b""
            else:
                err = b""
        self.out += out
        self.err += err
        self.errorlevel = rc

    def builtin_or_program(self, line: str) -> tuple[bytes, bytes, int]:
        word, sep, rest = line.partition(" ")
        verb = word.lower()
        if verb == "echo" or re.match(r"^echo[.:(]", verb):
            if verb == "echo" and not rest.strip():
                return b"ECHO is on.\r\n", b"", 0
            text = rest if verb == "echo" else word[5:] + sep + rest
            return _unescape(text).encode() + b"\r\n", b"", 0
        rest = rest.strip()
        if verb == "exit":
            m = re.match(r"(?i)^(/b)?\s*(-?\d+)?", rest)
            raise _Exit(int(m.group(2)) if m and m.group(2) else self.errorlevel)
        if verb == "set":
            return self._set(rest)
        if verb in ("cd", "chdir"):
            target = re.sub(r"(?i)^/d\s+", "", rest)
            if not target:
                return self.ctx.cwd.encode() + b"\r\n", b"", 0
            path = self.ctx.abspath(target)
            if not self.ctx.machine.fs_isdir(path):
                return b"", PATH_NOT_FOUND.encode() + b"\r\n", 1
            self.ctx.cwd = self.ctx.machine.fs_get(path)["path"]
            return b"", b"", 0
        if verb == "type":
            try:
                return self.ctx.read(rest), b"", 0
            except FsError:
                return b"", NOT_FOUND.encode() + b"\r\n", 1
        if verb in ("mkdir", "md"):
            path = self.ctx.abspath(rest)
            if self.ctx.exists(path):
                return b"", f"A subdirectory or file {rest} already exists.\r\n".encode(), 1
            try:
                self.ctx.check_access(path)
                self.ctx.machine.fs_mkdir(path)
            except FsError as e:
                return b"", f"{e}\r\n".encode(), 1
            return b"", b"", 0
        if verb in ("del", "erase"):
            for name in [w for w in argv(rest) if not w.startswith("/")]:
                path = self.ctx.abspath(name)
                if not self.ctx.machine.fs_isfile(path):
                    return b"", f"Could Not Find {path}\r\n".encode(), 0   # del reports it, yet succeeds
                self.ctx.machine.fs_remove(path, recursive=False)
            return b"", b"", 0
        if verb in ("rmdir", "rd"):
            flags = [w.lower() for w in argv(rest) if w.startswith("/")]
            for name in [w for w in argv(rest) if not w.startswith("/")]:
                path = self.ctx.abspath(name)
                if not self.ctx.machine.fs_isdir(path):
                    return b"", NOT_FOUND.encode() + b"\r\n", 2
                if self.ctx.machine.fs_children(path) and "/s" not in flags:
                    return b"", b"The directory is not empty.\r\n", 145
                self.ctx.machine.fs_remove(path)
            return b"", b"", 0
        if verb == "copy":
            return self._copy(rest)
        if verb == "if":
            return self._if(rest)
        if verb == "ver":
            return f"\r\nMicrosoft Windows [Version {self.ctx.machine.state['os']['version']}.4391]\r\n".encode(), b"", 0
        if verb == "call":
            return self.builtin_or_program(rest)
        if verb in ("pause", "title", "cls", "color"):
            return b"", b"", 0
        try:
            res = start(self.ctx.child(), line.strip(), cmd_style=True)
        except ProgramNotFound as e:
            if e.code == 2:
                return b"", NOT_RECOGNIZED.format(word.strip('"')).encode(), 9009
            return b"", f"{e}\r\n".encode(), 1
        return res.stdout, res.stderr, res.rc

    def _copy(self, rest: str) -> tuple[bytes, bytes, int]:
        names = [w for w in argv(rest) if not w.startswith("/")]
        if len(names) != 2:
            raise _Unsupported("only 'copy SOURCE DEST' is emulated by the simulated cmd.exe")
        try:
            data = self.ctx.read(names[0])
        except FsError:
            return b"", NOT_FOUND.encode() + b"\r\n", 1
        source = self.ctx.machine.fs_get(self.ctx.abspath(names[0]))
        dest = self.ctx.abspath(names[1])
        if self.ctx.machine.fs_isdir(dest):
            dest = ntpath.join(dest, ntpath.basename(source["path"]))
        extra = {k: v for k, v in source.items() if k in ("program", "msi", "version")}
        try:
            self.ctx.check_access(dest)
            self.ctx.machine.fs_write(dest, data, extra=extra)
        except FsError as e:
            return b"", f"{e}\r\n".encode(), 1
        return b"        1 file(s) copied.\r\n", b"", 0

    def _set(self, rest: str) -> tuple[bytes, bytes, int]:
        if rest.lower().startswith(("/a", "/p")):
            raise _Unsupported(f"'set {rest.split()[0]}' is not emulated by the simulated cmd.exe")
        if rest.startswith('"') and rest.endswith('"'):
            rest = rest[1:-1]
        if "=" in rest:
            name, _sep, value = rest.partition("=")
            self.ctx.setenv(name, value if value else None)
            return b"", b"", 0
        matches = sorted(((k, v) for k, v in self.ctx.env.items() if k.lower().startswith(rest.lower())),
                         key=lambda kv: kv[0].lower())
        if not matches:
            return b"", f"Environment variable {rest} not defined\r\n".encode(), 1
        return "".join(f"{k}={v}\r\n" for k, v in matches).encode(), b"", 0

    def _if(self, rest: str) -> tuple[bytes, bytes, int]:
        text, negate = rest, False
        if text.lower().startswith("not "):
            negate, text = True, text[4:].strip()
        m = re.match(r'(?i)^exist\s+("[^"]+"|\S+)\s+(.*)$', text)
        if m:
            return self._then(self.ctx.exists(m.group(1)) != negate, m.group(2))
        m = re.match(r"(?i)^errorlevel\s+(\d+)\s+(.*)$", text)
        if m:
            return self._then((self.errorlevel >= int(m.group(1))) != negate, m.group(2))
        m = re.match(r'(?i)^(/i\s+)?("[^"]*"|\S+)==("[^"]*"|\S+)\s+(.*)$', text)
        if m:
            a, b = m.group(2), m.group(3)
            hit = a.lower() == b.lower() if m.group(1) else a == b
            return self._then(hit != negate, m.group(4))
        raise _Unsupported(f"'if {rest}' is not emulated by the simulated cmd.exe")

    def _then(self, hit: bool, command: str) -> tuple[bytes, bytes, int]:
        command = command.strip()
        m = re.match(r"^\((.*)\)\s*else\s*\((.*)\)$", command, re.IGNORECASE | re.DOTALL)
        if m:
            command = m.group(1) if hit else m.group(2)
        elif not hit:
            return b"", b"", self.errorlevel
        before_out, before_err = len(self.out), len(self.err)
        self.run_line(command)
        out, err = bytes(self.out[before_out:]), bytes(self.err[before_err:])
        del self.out[before_out:]
        del self.err[before_err:]
        return out, err, self.errorlevel


def _unescape(text: str) -> str:
    return re.sub(r"\^(.)", r"\1", text)


# other built-ins --------------------------------------------------------------------------

def hostname_exe(ctx, args):
    if args.strip():
        return ExecResult(b"", b"sethostname: Use the Network Control Panel Applet to set hostname.\r\n", 1)
    return ExecResult(ctx.machine.state["hostname"].encode() + b"\r\n", b"", 0)


def whoami_exe(ctx, args):
    if args.strip():
        return ExecResult(b"", f"simulated whoami.exe: option(s) '{args.strip()}' are not emulated\r\n".encode(), 1)
    if ctx.user.upper() in SYSTEM_USERS:
        return ExecResult(b"nt authority\\system\r\n", b"", 0)
    account = ctx.machine.find_account(ctx.user) or ctx.user
    return ExecResult(f"{ctx.machine.state['hostname'].lower()}\\{account.lower()}\r\n".encode(), b"", 0)


def ping_exe(ctx, args):
    words = [x.lower() for x in argv(args)]
    count = int(words[words.index("-n") + 1]) if "-n" in words else 4
    hosts = [x for i, x in enumerate(words) if not x.startswith("-") and (i == 0 or words[i - 1] not in ("-n", "-w", "-l"))]
    host = hosts[0] if hosts else ""
    if host not in ("127.0.0.1", "localhost", "::1", ctx.machine.state["hostname"].lower()):
        # guess: the simulated hosts resolve and reach nothing but themselves
        return ExecResult(f"Ping request could not find host {host}. Please check the name and try again.\r\n".encode(),
                          b"", 1)
    if not ctx.machine.sleep(max(count - 1, 0), ctx.cancel):
        return ExecResult(b"", b"", 1)
    lines = "".join("Reply from 127.0.0.1: bytes=32 time<1ms TTL=128\r\n" for _reply in range(count))
    return ExecResult(f"\r\nPinging 127.0.0.1 with 32 bytes of data:\r\n{lines}\r\nPing statistics for 127.0.0.1:\r\n"
                      f"    Packets: Sent = {count}, Received = {count}, Lost = 0 (0% loss),\r\n".encode(), b"", 0)


def timeout_exe(ctx, args):
    words = [x.lower() for x in argv(args)]
    if "/t" not in words or words.index("/t") + 1 >= len(words):
        return ExecResult(b"", b"ERROR: Invalid syntax. Value expected for '/t'.\r\n", 1)
    seconds = int(words[words.index("/t") + 1])
    # guess: the WinRM console lets timeout.exe wait (it refuses input redirected from a file)
    if not ctx.machine.sleep(max(seconds, 0), ctx.cancel):
        return ExecResult(b"", b"", 1)
    return ExecResult(f"\r\nWaiting for {seconds} seconds, press a key to continue ...\r\n".encode(), b"", 0)


def shutdown_exe(ctx, args):
    raw = argv(args)
    words = [("/" + x[1:] if x.startswith("-") else x).lower() for x in raw]
    if "/a" in words:
        if ctx.machine.abort_restart():
            return ExecResult(b"", b"", 0)
        return ExecResult(b"", b"Unable to abort the system shutdown because no shutdown was in progress.(1116)\r\n", 1116)
    if "/r" in words:
        delay = int(words[words.index("/t") + 1]) if "/t" in words else 30
        message = raw[words.index("/c") + 1] if "/c" in words and words.index("/c") + 1 < len(raw) else None
        if not ctx.machine.schedule_restart(delay, message):
            return ExecResult(b"", b"A system shutdown has already been scheduled.(1190)\r\n", 1190)
        return ExecResult(b"", b"", 0)
    return ExecResult(b"", b"simulated shutdown.exe: only /r [/t N] [/c MSG] and /a are emulated\r\n", 1)


_REG_TYPES = ("REG_SZ", "REG_EXPAND_SZ", "REG_MULTI_SZ", "REG_DWORD", "REG_QWORD", "REG_BINARY", "REG_NONE")
_REG_MISSING = b"ERROR: The system was unable to find the specified registry key or value.\r\n"
_REG_OK = b"The operation completed successfully.\r\n\r\n"


def reg_format(kind: str, data) -> str:
    if kind in ("REG_DWORD", "REG_QWORD"):
        return hex(int(data))
    if kind == "REG_MULTI_SZ":
        return "\\0".join(data or [])
    if kind == "REG_BINARY":
        return "".join(f"{b:02X}" for b in (data or []))
    return "" if data is None else str(data)


def reg_exe(ctx, args):
    words = argv(args)
    if len(words) < 2:
        return ExecResult(b"", b'ERROR: Invalid syntax.\r\nType "REG /?" for usage.\r\n', 1)
    op, key = words[0].lower(), words[1]
    opts: dict = {}
    i = 2
    while i < len(words):
        flag = words[i].lower()
        if flag in ("/v", "/t", "/d") and i + 1 < len(words):
            opts[flag] = words[i + 1]
            i += 2
        else:
            opts[flag] = True
            i += 1
    if "/reg:32" in opts and not ctx.machine.state["os"]["architecture"].startswith("32"):
        key = re.sub(r"(?i)^(HKLM|HKEY_LOCAL_MACHINE)\\SOFTWARE\\", r"\1\\SOFTWARE\\WOW6432Node\\", key)
    hive = reg_norm(key).split("\\")[0]
    if hive not in ("hklm", "hkcu", "hku", "hkcr", "hkcc"):
        return ExecResult(b"", b'ERROR: Invalid key name.\r\nType "REG /?" for usage.\r\n', 1)
    if hive == "hkcu":
        key = f"HKEY_USERS\\{ctx.machine.account_sid(ctx.user)}" + (("\\" + key.split("\\", 1)[1]) if "\\" in key else "")
    m = ctx.machine
    if op == "add":
        if "/v" in opts or "/ve" in opts:
            kind = str(opts.get("/t", "REG_SZ")).upper()
            raw = str(opts.get("/d", ""))
            try:
                if kind not in _REG_TYPES:
                    raise ValueError(kind)
                data = ((int(raw, 0) if raw else 0) if kind in ("REG_DWORD", "REG_QWORD") else
                        raw.split("\\0") if kind == "REG_MULTI_SZ" else
                        list(bytes.fromhex(raw)) if kind == "REG_BINARY" else raw)
            except ValueError:
                return ExecResult(b"", b'ERROR: Invalid syntax.\r\nType "REG ADD /?" for usage.\r\n', 1)
            m.reg_set(key, "" if "/ve" in opts else opts["/v"], kind, data)
        else:
            m.reg_create_key(key)
        return ExecResult(_REG_OK, b"", 0)
    if op == "delete":
        # guess: without /f reg.exe would prompt; the simulated one deletes as if /f were given
        if "/v" in opts:
            ok = m.reg_delete_value(key, opts["/v"])
        elif "/va" in opts:
            rec = m.reg_key(key)
            ok = rec is not None
            if ok:
                for name in list(rec["values"]):
                    m.reg_delete_value(key, name)
        else:
            ok = m.reg_delete_key(key)
        return ExecResult(_REG_OK, b"", 0) if ok else ExecResult(b"", _REG_MISSING, 1)
    if op == "query":
        rec = m.reg_key(key)
        if rec is None:
            return ExecResult(b"", _REG_MISSING, 1)
        shown = rec["path"] if rec["path"].upper().startswith("HKEY_") else reg_display(reg_norm(key)).upper()
        if "/v" in opts:
            value = m.reg_value(key, opts["/v"])
            if value is None:
                return ExecResult(b"", _REG_MISSING, 1)
            body = f"    {opts['/v']}    {value['type']}    {reg_format(value['type'], value['data'])}\r\n"
            return ExecResult(f"\r\n{shown}\r\n{body}\r\n".encode(), b"", 0)
        body = "".join(f"    {n or '(Default)'}    {v['type']}    {reg_format(v['type'], v['data'])}\r\n"
                       for n, v in rec["values"].items())
        subs = "".join(f"{shown}\\{s}\r\n" for s in m.reg_subkeys(key))
        return ExecResult(f"\r\n{shown}\r\n{body}\r\n{subs}".encode(), b"", 0)
    return ExecResult(b"", f"simulated reg.exe: '{op}' is not emulated (add, query and delete are)\r\n".encode(), 1)


def msiexec_exe(ctx, args):
    """msiexec /i PACKAGE | /x PACKAGE-OR-CODE [/qn] [/norestart] [/L*V LOG] [PROPERTY=VALUE...]."""
    words = []
    for word in argv(args):
        # "/X{CODE}" (as UninstallString has it) is "/x {CODE}".
        m = re.match(r"(?i)^(/[xi])(\{.+)$", word)
        words += [m.group(1), m.group(2)] if m else [word]
    lower = [x.lower() for x in words]
    log = None
    for i, flag in enumerate(lower):
        if re.match(r"^/l[*a-z+!]*$", flag) and i + 1 < len(words):
            log = ctx.abspath(words[i + 1])
    if log is not None and not ctx.machine.fs_isdir(ntpath.dirname(log)):
        return ExecResult(b"", b"", 1622)   # ERROR_INSTALL_LOG_FAILURE
    m = ctx.machine

    def write_log(text: str) -> None:
        if log:
            m.fs_write(log, ("\ufeff" + text + "\r\n").encode("utf-16-le"))

    uninstall = next((lower.index(f) for f in ("/x", "/uninstall") if f in lower), None)
    install = next((lower.index(f) for f in ("/i", "/package") if f in lower), None)
    if uninstall is not None and uninstall + 1 < len(words):
        target = words[uninstall + 1]
        code = target
        if not target.startswith("{"):
            rec = m.fs_get(ctx.abspath(target))
            if not rec or "msi" not in rec:
                return ExecResult(b"", b"", 1619)   # ERROR_INSTALL_PACKAGE_OPEN_FAILED
            code = rec["msi"]["product_code"]
        if m.find_product(code) is None:
            write_log(f"MSI (s): Product: {code} -- This action is only valid for products that are currently installed.")
            return ExecResult(b"", b"", 1605)   # ERROR_UNKNOWN_PRODUCT
        m.remove_product(code)
        write_log(f"MSI (s): Product: {code} -- Removal completed successfully.")
        return ExecResult(b"", b"", 0)
    if install is not None and install + 1 < len(words):
        path = ctx.abspath(words[install + 1])
        try:
            ctx.check_access(path)
        except FsError:
            return ExecResult(b"", b"", 1619)
        rec = m.fs_get(path)
        if not rec or "msi" not in rec:
            return ExecResult(b"", b"", 1619)
        msi = rec["msi"]
        if msi.get("seconds") and not m.sleep(float(msi["seconds"]), ctx.cancel):
            return ExecResult(b"", b"", 1602)   # ERROR_INSTALL_USEREXIT
        rc = int(msi.get("rc", 0))
        if rc in (0, 3010, 1641):
            m.install_product(msi["product_code"], {"name": msi.get("name", ntpath.basename(path)),
                                                    "version": msi.get("version", "1.0.0"),
                                                    "publisher": msi.get("publisher", ""), "msi": True})
            apply_effects(ctx, msi.get("effects") or [], args)
            if rc == 1641 and "/norestart" in lower:
                rc = 3010   # /norestart: the installer may not restart, it asks for one instead
            if rc == 3010:
                m.request_reboot()
            elif rc == 1641:
                m.schedule_restart(float(msi.get("restart_delay", 5)), "msiexec restarted the machine")
        write_log(f"MSI (s): Product: {msi.get('name', '')} -- Installation completed with status: {rc}.")
        return ExecResult(b"", b"", rc)
    return ExecResult(b"", b"simulated msiexec.exe: only /i and /x are emulated\r\n", 1639)


def net_exe(ctx, args):
    """net use: connect this logon session to a share (optionally as a drive letter)."""
    words = argv(args)
    if not words or words[0].lower() != "use":
        return ExecResult(b"", b"simulated net.exe: only 'net use' is emulated\r\n", 1)
    flags = {x.split(":", 1)[0].lower(): (x.split(":", 1)[1] if ":" in x else True)
             for x in words[1:] if x.startswith("/")}
    plain = [x for x in words[1:] if not x.startswith("/")]
    conns = ctx.session.connections
    if not plain:
        lines = "".join(f"OK           {k:<10}{v}\r\n" for k, v in conns.items() if k.endswith(":"))
        return ExecResult(f"New connections will be remembered.\r\n\r\n{lines}The command completed successfully.\r\n"
                          .encode(), b"", 0)
    if "/delete" in flags or "/d" in flags:
        target = plain[0].upper() if plain[0].endswith(":") else plain[0]
        if target not in conns:
            return ExecResult(b"", b"The network connection could not be found.\r\n\r\n", 2)
        conns.pop(target)
        return ExecResult(f"{plain[0]} was deleted successfully.\r\n\r\n".encode(), b"", 0)
    letter = plain[0].upper() if re.match(r"^[A-Za-z]:$", plain[0]) else None
    rest = plain[1:] if letter else plain
    if not rest:
        return ExecResult(b"", b"The syntax of this command is:\r\n\r\nNET USE\r\n", 1)
    unc, password = rest[0], rest[1] if len(rest) > 1 else None
    user = flags["/user"] if isinstance(flags.get("/user"), str) else None
    share = ctx.machine.share_of(unc)
    if share is None:
        return ExecResult(b"", b"System error 53 has occurred.\r\n\r\nThe network path was not found.\r\n\r\n", 2)
    problem = ctx.machine.check_share_credentials(share, user, password)
    if problem:
        code = 5 if problem.startswith("Access") else 86
        return ExecResult(b"", f"System error {code} has occurred.\r\n\r\n{problem}\r\n\r\n".encode(), 2)
    if letter:
        if letter in conns or ctx.machine.fs_exists(letter + "\\"):
            return ExecResult(b"", b"System error 85 has occurred.\r\n\r\nThe local device name is already in use."
                                   b"\r\n\r\n", 2)
        conns[letter] = share
    conns[share] = share
    return ExecResult(b"The command completed successfully.\r\n\r\n", b"", 0)


def powershell_exe(ctx, args):
    from tests.winsim import pwsh

    return pwsh.run_powershell_exe(ctx, args)


BUILTINS = {
    "cmd.exe": cmd_exe, "hostname.exe": hostname_exe, "whoami.exe": whoami_exe, "ping.exe": ping_exe,
    "timeout.exe": timeout_exe, "shutdown.exe": shutdown_exe, "reg.exe": reg_exe, "msiexec.exe": msiexec_exe,
    "net.exe": net_exe, "powershell.exe": powershell_exe,
}
