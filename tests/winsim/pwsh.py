"""A deliberately tiny PowerShell subset, for user scripts and raw commands on the simulated host.

No PowerShell exists on this machine. Scripts run through ``powershell.exe -File`` (or the
encoded ``& 'script.ps1' args`` call of run_process), and raw commands, are interpreted here
line by line, for a small, explicit subset:

* ``[CmdletBinding()] param(...)`` binding from ``-Name value`` / positional arguments,
  ``[switch]`` parameters, defaults;
* ``$var = <expr>``, ``$env:NAME = <expr>``; expressions: '...' and "..." strings (with
  ``$var``, ``$env:X``, ``$(...)`` interpolation), numbers, ``$true/$false/$null``, variables,
  comparisons ``-eq -ne -gt -ge -lt -le -like -notlike -match``, ``-not``;
* Write-Output/echo, Write-Host, Write-Warning, Write-Error, ``exit N``, Start-Sleep,
  Get-Location, Test-Path, Set-Content/Add-Content/Get-Content, New-Item (directory, file,
  registry key), Set-ItemProperty/New-ItemProperty/Get-ItemProperty on ``HKLM:``/``HKCU:``;
* ``if (...) { ... } elseif (...) { ... } else { ... }``;
* native commands (``hostname``, ``& 'C:\\x.exe' args``), which set ``$LASTEXITCODE``.

Anything else stops the script with rc 1 and ``simulated host: unsupported PowerShell at line
N: <text>``: the simulated host never pretends to have run what it did not understand.
Test fixture: never shipped.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fnmatch
import ntpath
import re

from tests.winsim.machine import ExecResult, FsError

SIGNATURE = "# SIG # Begin signature block"
RUN_PROCESS_CALL = re.compile(r"^try \{ & '((?:[^']|'')*)' (.*); exit \[int\]\$LASTEXITCODE \} catch \{ "
                              r"\[Console\]::Error\.WriteLine\(\$_\); exit 1 \}$", re.DOTALL)
_REG_KINDS = {"string": "REG_SZ", "expandstring": "REG_EXPAND_SZ", "dword": "REG_DWORD", "qword": "REG_QWORD",
              "multistring": "REG_MULTI_SZ", "binary": "REG_BINARY"}


class Unsupported(Exception):
    located = False


@contextlib.contextmanager
def _located(lineno: int, text: str):
    """Name the script line a refusal happened on: "line N: <text> (<why>)"."""
    try:
        yield
    except Unsupported as e:
        if e.located:
            raise
        detail = str(e).split(": ", 1)[1] if str(e).startswith("line ") else str(e)
        located = Unsupported(f"line {lineno}: {text}" + ("" if detail.strip() == text.strip() else f" ({detail})"))
        located.located = True
        raise located from None


class Exit(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class Terminating(Exception):
    """A terminating error (throw, -ErrorAction Stop, a script that cannot be loaded)."""


def _ps_tokens(text: str) -> list[tuple[str, str]]:
    """PowerShell's argument tokens: (kind, text) with kind 'sq', 'dq', 'word', 'sub'."""
    tokens, i = [], 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == "'":
            j, buf = i + 1, ""
            while j < len(text):
                if text[j] == "'" and text[j + 1:j + 2] == "'":
                    buf, j = buf + "'", j + 2
                elif text[j] == "'":
                    break
                else:
                    buf, j = buf + text[j], j + 1
            tokens.append(("sq", buf))
            i = j + 1
        elif c == '"':
            j, buf = i + 1, ""
            while j < len(text) and text[j] != '"':
                if text[j] == "`" and j + 1 < len(text):
                    buf, j = buf + text[j:j + 2], j + 2
                else:
                    buf, j = buf + text[j], j + 1
            tokens.append(("dq", buf))
            i = j + 1
        elif c == "(":
            depth, j = 0, i
            while j < len(text):
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                if depth == 0:
                    break
                j += 1
            end = j + 1
            while end < len(text) and not text[end].isspace():
                end += 1   # (expr).Property
            tokens.append(("sub", text[i:end]))
            i = end
        else:
            j = i
            while j < len(text) and not text[j].isspace():
                j += 1
            tokens.append(("word", text[i:j]))
            i = j
    return tokens


def _call_script(interp, file_path: str, arguments, policy: str | None) -> ExecResult:
    """Run the script; a terminating error ends it with rc 1, as powershell.exe does."""
    try:
        code = interp.call_script(file_path, arguments, policy)
    except Terminating as e:
        interp.err.append(str(e))
        code = 1
    return interp.result(code)


def run_script_file(ctx, file_path: str, arguments: str, policy: str | None) -> ExecResult:
    """``& 'file' arguments`` under an execution policy, as run_process's encoded call does."""
    interp = Interpreter(ctx, source=file_path)
    return _call_script(interp, file_path, arguments, policy)


def run_powershell_exe(ctx, args: str) -> ExecResult:
    """powershell.exe [-NoLogo -NoProfile -NonInteractive -ExecutionPolicy P] -File|-Command|-EncodedCommand."""
    tokens = [t for _kind, t in _ps_tokens(args)]
    policy, i = None, 0
    while i < len(tokens):
        flag = tokens[i].lower()
        if flag in ("-nologo", "-noprofile", "-nop", "-noninteractive", "-noni", "-inputformat", "-outputformat"):
            i += 2 if flag in ("-inputformat", "-outputformat") else 1
        elif flag in ("-executionpolicy", "-ex", "-ep"):
            policy, i = tokens[i + 1] if i + 1 < len(tokens) else None, i + 2
        elif flag in ("-file", "-f"):
            rest = args.split(tokens[i], 1)[1].strip()
            parts = _ps_tokens(rest)
            if not parts:
                return ExecResult(b"", b"-File requires a file path\r\n", 1)
            return _file(ctx, parts[0][1], rest[len(_raw_first(rest)):].strip(), policy)
        elif flag in ("-command", "-c"):
            text = args.split(tokens[i], 1)[1].strip()
            if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
                text = text[1:-1]
            return Interpreter(ctx, source="-Command").run(text, [], raw=True)
        elif flag in ("-encodedcommand", "-enc", "-e", "-ec"):
            try:
                text = base64.b64decode(tokens[i + 1], validate=True).decode("utf-16-le")
            except (IndexError, binascii.Error, UnicodeDecodeError):
                return ExecResult(b"", b"Cannot process the command because the value of -EncodedCommand is not "
                                       b"valid Base64.\r\n", 1)
            m = RUN_PROCESS_CALL.match(text.strip())
            if m:
                # run_process's call: & 'script' args; exit [int]$LASTEXITCODE, errors to stderr and exit 1.
                return run_script_file(ctx, m.group(1).replace("''", "'"), m.group(2), policy)
            return Interpreter(ctx, source="-EncodedCommand").run(text, [], raw=True)
        else:
            return ExecResult(b"", f"simulated powershell.exe: option {tokens[i]!r} is not emulated\r\n".encode(), 1)
    return ExecResult(b"", b"simulated powershell.exe: an interactive shell is not emulated\r\n", 1)


def _raw_first(text: str) -> str:
    if text[:1] in ("'", '"'):
        end = text.find(text[0], 1)
        return text[: end + 1] if end > 0 else text
    return text.split(None, 1)[0] if text.split() else ""


def _file(ctx, file_path: str, arguments: str, policy: str | None) -> ExecResult:
    interp = Interpreter(ctx, source=file_path)
    path = ctx.abspath(file_path)
    if not ctx.machine.fs_isfile(path):
        msg = (f"The argument '{file_path}' to the -File parameter does not exist. Provide the path to an existing "
               "'.ps1' file as an argument to the -File parameter.\r\n")
        return ExecResult(b"", msg.encode(), -196608)   # guess: powershell.exe's exit code for a missing -File
    return _call_script(interp, file_path, arguments, policy)


class Interpreter:
    def __init__(self, ctx, source: str = "script"):
        self.ctx, self.source = ctx, source
        self.vars: dict[str, object] = {"true": True, "false": False, "null": None, "lastexitcode": None,
                                        "pwd": ctx.cwd}
        self.out: list[str] = []
        self.err: list[str] = []
        self.last_native_rc: int | None = None   # rc of the last statement when it was a native command

    def result(self, code: int) -> ExecResult:
        return ExecResult("".join(f"{line}\r\n" for line in self.out).encode(),
                          "".join(f"{line}\r\n" for line in self.err).encode(), code)

    def run(self, text: str, args: list[str], raw: bool = False, native_rc: bool = False) -> ExecResult:
        """Run script text. ``raw``: a -Command/-EncodedCommand line, whose exit code is 1 when its last
        statement failed, or (``native_rc``, ansible-core's preserve_rc suffix) that native command's rc."""
        try:
            start = self._bind_params(text, args)
            self._block(text.splitlines()[start:], start)
            code = 0
            if raw and self.last_native_rc:
                code = self.last_native_rc if native_rc else 1
        except Exit as e:
            code = e.code
        except Unsupported as e:
            self.err.append(f"simulated host: unsupported PowerShell at {e}")
            code = 1
        except Terminating as e:
            self.err.append(str(e))
            code = 1
        return self.result(code)

    def call_script(self, file_path: str, arguments: str, policy: str | None) -> int:
        """& 'script.ps1' arguments: the script's exit code ([int]$LASTEXITCODE)."""
        path = self.ctx.abspath(file_path)
        try:
            text = self.ctx.read(path).decode("utf-8-sig", "replace")
        except FsError:
            raise Terminating(f"& : The term '{file_path}' is not recognized as the name of a cmdlet, function, script "
                              "file, or operable program.") from None
        effective = (policy or self.ctx.machine.state["os"].get("execution_policy") or "RemoteSigned").lower()
        if effective == "restricted":
            raise Terminating(f"File {path} cannot be loaded because running scripts is disabled on this system.")
        if effective == "allsigned" and SIGNATURE not in text:
            # guess: a signature block counts as a valid signature; the simulated host checks no certificates
            raise Terminating(f"File {path} cannot be loaded. The file {path} is not digitally signed. You cannot run "
                              "this script on the current system.")
        child = Interpreter(self.ctx, source=path)
        child.vars["psscriptroot"] = ntpath.dirname(path)
        code = 0
        try:
            start = child._bind_params(text, [t for _k, t in _ps_tokens(arguments)] if arguments.strip() else [],
                                       kinds=[k for k, _t in _ps_tokens(arguments)])
            child._block(text.splitlines()[start:], start)
            code = int(child.vars["lastexitcode"] or 0) if isinstance(child.vars.get("lastexitcode"), int) else 0
        except Exit as e:
            code = e.code
        except Unsupported as e:
            child.err.append(f"simulated host: unsupported PowerShell at {e}")
            code = 1
        finally:
            self.out += child.out
            self.err += child.err
        return code

    # parameters ------------------------------------------------------------------------------

    def _bind_params(self, text: str, args: list[str], kinds: list[str] | None = None) -> int:
        """Bind the param() block; returns the index of the first line after it."""
        lines = text.splitlines()
        joined, start, end = "", None, 0
        in_comment = False
        for index, line in enumerate(lines):
            stripped = line.strip()
            if start is None:
                if in_comment:
                    in_comment = "#>" not in stripped
                    continue
                if stripped.startswith("<#"):
                    in_comment = "#>" not in stripped
                    continue
                if not stripped or stripped.startswith("#") or re.match(r"(?i)^\[cmdletbinding\(.*\)\]$", stripped):
                    continue
                if not stripped.lower().startswith("param"):
                    break
                start = index
            joined += " " + stripped
            if joined.count("(") and joined.count("(") == joined.count(")"):
                end = index + 1
                break
        params: list[tuple[str, bool, object]] = []
        if start is not None:
            inner = joined.strip()[joined.strip().index("(") + 1:joined.strip().rindex(")")]
            inner = re.sub(r"\[Parameter\([^)]*\)\]", "", inner, flags=re.IGNORECASE)
            for m in re.finditer(r"((?:\[[^\]]*\]\s*)*)\$(\w+)(\s*=\s*('[^']*'|\"[^\"]*\"|\$?[\w.]+))?", inner):
                is_switch = "[switch]" in m.group(1).lower()
                default = self._eval(m.group(4), start + 1) if m.group(4) else (False if is_switch else None)
                params.append((m.group(2), is_switch, default))
        for name, _switch, default in params:
            self.vars[name.lower()] = default
        positional = [p for p in params if not p[1]]
        kinds = kinds or ["word"] * len(args)
        i = 0
        while i < len(args):
            a, kind = args[i], kinds[i] if i < len(kinds) else "word"
            if kind == "word" and a.startswith("-") and len(a) > 1 and not re.match(r"^-\d", a):
                key, sep, inline = a[1:].partition(":")
                match = [p for p in params if p[0].lower() == key.lower()] or \
                    [p for p in params if p[0].lower().startswith(key.lower())]
                if not match:
                    raise Terminating(f"{self.source} : A parameter cannot be found that matches parameter name '{key}'.")
                name, switch, _default = match[0]
                if switch:
                    self.vars[name.lower()] = (inline.lower() not in ("$false", "0")) if sep else True
                    i += 1
                elif sep and inline:
                    self.vars[name.lower()], i = self._arg_value("word", inline), i + 1
                else:
                    if i + 1 >= len(args):
                        raise Terminating(f"{self.source} : Missing an argument for parameter '{name}'.")
                    self.vars[name.lower()], i = self._arg_value(kinds[i + 1], args[i + 1]), i + 2
                positional = [p for p in positional if p[0] != name]
            else:
                if not positional:
                    raise Terminating(f"{self.source} : A positional parameter cannot be found that accepts argument "
                                      f"'{a}'.")
                self.vars[positional.pop(0)[0].lower()] = self._arg_value(kind, a)
                i += 1
        return end

    def _arg_value(self, kind: str, text: str):
        if kind == "sq":
            return text
        if kind == "dq":
            return self._interpolate(text, 0)
        if kind == "sub":
            return self._eval(text, 0)
        if text.startswith("$"):
            return self._eval(text, 0)
        return text

    # statements ------------------------------------------------------------------------------

    def _block(self, lines: list[str], offset: int) -> None:
        i = 0
        in_comment = False
        while i < len(lines):
            raw = lines[i]
            line = raw.strip()
            lineno = offset + i + 1
            i += 1
            if in_comment:
                in_comment = "#>" not in line
                continue
            if line.startswith("<#"):
                in_comment = "#>" not in line
                continue
            if not line or line.startswith("#"):
                continue
            if re.match(r"(?i)^if\s*\(", line):
                stmt = line
                while (stmt.count("{") != stmt.count("}") or stmt.count("{") == 0 or
                       (i < len(lines) and re.match(r"(?i)^\}?\s*(else|elseif)\b", lines[i].strip()))):
                    if i >= len(lines):
                        break
                    stmt += "\n" + lines[i].strip()
                    i += 1
                with _located(lineno, stmt.splitlines()[0]):
                    self._if(stmt, lineno)
                continue
            for part in _split_statements(line):
                with _located(lineno, line):
                    self._statement(part, lineno)

    def _if(self, stmt: str, lineno: int) -> None:
        rest = stmt
        while rest:
            m = re.match(r"(?is)^(?:if|elseif)\s*\((.*?)\)\s*\{", rest)
            if not m:
                raise Unsupported(f"line {lineno}: {stmt.splitlines()[0]}")
            body, after = _braced(rest, m.end() - 1)
            if self._truth(self._eval(m.group(1), lineno)):
                self._block(body.splitlines(), lineno - 1)
                return
            after = after.strip()
            if re.match(r"(?i)^elseif\b", after):
                rest = after
                continue
            m2 = re.match(r"(?is)^else\s*\{", after)
            if m2:
                body, _tail = _braced(after, m2.end() - 1)
                self._block(body.splitlines(), lineno - 1)
            elif after:
                raise Unsupported(f"line {lineno}: {after.splitlines()[0]}")
            return

    def _statement(self, s: str, lineno: int) -> None:
        self.last_native_rc = None
        m = re.match(r"(?i)^\$env:([\w()]+)\s*=\s*(.+)$", s)
        if m:
            self.ctx.setenv(m.group(1), _text(self._eval(m.group(2), lineno)))
            return
        m = re.match(r"^\$(\w+)\s*=\s*(.+)$", s)
        if m:
            self.vars[m.group(1).lower()] = self._eval(m.group(2), lineno)
            return
        m = re.match(r"(?i)^exit(?:\s+(.+))?$", s)
        if m:
            value = self._eval(m.group(1), lineno) if m.group(1) else 0
            try:
                raise Exit(int(value or 0))
            except (TypeError, ValueError):
                raise Unsupported(f"line {lineno}: {s}") from None
        if re.match(r"(?i)^throw\b", s):
            value = self._eval(s[5:].strip(), lineno) if s[5:].strip() else "ScriptHalted"
            raise Terminating(f"{_text(value)}")
        if s.startswith("&"):
            return self._native(s[1:].strip(), lineno, call=True)
        cmd, _sep, rest = s.partition(" ")
        low = cmd.lower()
        if low in ("write-output", "echo", "write"):
            for value in self._args_positional(rest, lineno, "inputobject"):
                self._emit(value)
        elif low == "write-host":
            values = self._args_positional(rest, lineno, "object", switches=("nonewline",))
            self.out.append(" ".join(_text(v) for v in values))
        elif low == "write-warning":
            self.out.append("WARNING: " + " ".join(_text(v) for v in self._args_positional(rest, lineno, "message")))
        elif low == "write-error":
            message = " ".join(_text(v) for v in self._args_positional(rest, lineno, "message"))
            # guess: how powershell.exe renders a non-terminating error on redirected stderr
            self.err += [f"{self.source} : {message}",
                         "    + CategoryInfo          : NotSpecified: (:) [Write-Error], WriteErrorException",
                         "    + FullyQualifiedErrorId : Microsoft.PowerShell.Commands.WriteErrorException"]
        elif low == "start-sleep":
            opts = self._named(rest, lineno, ("seconds", "milliseconds"), positional=("seconds",))
            seconds = float(opts.get("seconds") or 0) + float(opts.get("milliseconds") or 0) / 1000
            if not self.ctx.machine.sleep(seconds, self.ctx.cancel):
                raise Exit(1)
        elif low in ("set-content", "add-content"):
            opts = self._named(rest, lineno, ("path", "literalpath", "value", "encoding", "force", "nonewline"),
                               positional=("path", "value"))
            target = opts.get("path") or opts.get("literalpath")
            value = opts.get("value")
            lines = value if isinstance(value, list) else [value]
            text = "".join(f"{_text(v)}\r\n" for v in lines) if not opts.get("nonewline") else \
                "".join(_text(v) for v in lines)
            self._write(target, text, low == "add-content")
        elif low == "new-item":
            self._new_item(rest, lineno)
        elif low in ("set-itemproperty", "new-itemproperty"):
            opts = self._named(rest, lineno, ("path", "literalpath", "name", "value", "propertytype", "type", "force"),
                               positional=("path", "name", "value"))
            key = opts.get("path") or opts.get("literalpath")
            if not str(key).lower().startswith(("hklm:", "hkcu:", "registry::")):
                raise Unsupported(f"line {lineno}: only registry item properties are emulated: {s}")
            if self.ctx.machine.reg_key(self._reg_path(key)) is None:
                raise Terminating(f"{cmd} : Cannot find path '{key}' because it does not exist.")
            kind_name = str(opts.get("propertytype") or opts.get("type") or "").lower()
            existing = self.ctx.machine.reg_value(self._reg_path(key), str(opts["name"]))
            kind = _REG_KINDS.get(kind_name) or (existing["type"] if existing else
                                                 "REG_DWORD" if isinstance(opts.get("value"), int) else "REG_SZ")
            if low == "new-itemproperty" and existing and not opts.get("force"):
                raise Terminating("New-ItemProperty : The property already exists.")
            value = opts.get("value")
            value = int(value) if kind in ("REG_DWORD", "REG_QWORD") else value
            self.ctx.machine.reg_set(self._reg_path(key), str(opts["name"]), kind, value)
        elif re.match(r"^[\"'$(]|^-?\d|^(?i:get-|test-path)", s):
            self._emit(self._eval(s, lineno))
        elif re.match(r"^[\w.\\:-]+$", cmd) and not re.match(r"(?i)^[a-z]+-[a-z]+$", cmd):
            self._native(s, lineno)
        else:
            raise Unsupported(f"line {lineno}: {s}")

    def _native(self, s: str, lineno: int, call: bool = False) -> None:
        """A native command: run it, its output is the script's, $LASTEXITCODE is its exit code."""
        from tests.winsim import programs

        tokens = _ps_tokens(s)
        if not tokens:
            raise Unsupported(f"line {lineno}: & {s}")
        kind, first = tokens[0]
        program = self._arg_value(kind, first) if kind != "word" or first.startswith("$") else first
        args = " ".join(_quote_arg(_text(self._arg_value(k, t))) for k, t in tokens[1:])
        if str(program).lower().endswith(".ps1"):
            code = self.call_script(str(program), " ".join(t if k == "word" else f"'{t}'" for k, t in tokens[1:]), None)
            self.vars["lastexitcode"] = code
            return
        try:
            res = programs.start(self.ctx.child(), f'"{program}" {args}'.strip(), cmd_style=True)
        except programs.ProgramNotFound:
            if call or "\\" in str(program) or "." in str(program):
                raise Terminating(f"{'& : ' if call else ''}The term '{program}' is not recognized as the name of a "
                                  "cmdlet, function, script file, or operable program.") from None
            raise Unsupported(f"line {lineno}: {s}") from None
        self.out += res.stdout.decode("utf-8", "replace").splitlines()
        if res.stderr:
            self.err += res.stderr.decode("utf-8", "replace").splitlines()
        self.vars["lastexitcode"] = self.last_native_rc = res.rc

    def _new_item(self, rest: str, lineno: int) -> None:
        opts = self._named(rest, lineno, ("path", "itemtype", "type", "force", "value", "name"), positional=("path",))
        path = str(opts.get("path") or "")
        if opts.get("name"):
            path = path.rstrip("\\") + "\\" + str(opts["name"])
        kind = str(opts.get("itemtype") or opts.get("type") or "").lower()
        if path.lower().startswith(("hklm:", "hkcu:")):
            if self.ctx.machine.reg_key(self._reg_path(path)) is not None and not opts.get("force"):
                raise Terminating("New-Item : A key at this path already exists.")
            self.ctx.machine.reg_create_key(self._reg_path(path))
            return
        full = self.ctx.abspath(path)
        try:
            if kind == "directory":
                if self.ctx.machine.fs_exists(full) and not opts.get("force"):
                    raise Terminating(f"New-Item : An item with the specified name {full} already exists.")
                self.ctx.machine.fs_mkdir(full)
            elif kind in ("file", ""):
                if self.ctx.machine.fs_exists(full) and not opts.get("force"):
                    raise Terminating(f"New-Item : The file '{full}' already exists.")
                self.ctx.machine.fs_write(full, _text(opts.get("value") or "").encode())
            else:
                raise Unsupported(f"line {lineno}: New-Item -ItemType {kind} is not emulated")
        except FsError as e:
            raise Terminating(f"New-Item : {e}") from None

    def _reg_path(self, key) -> str:
        key = str(key)
        key = re.sub(r"(?i)^registry::", "", key)
        if key.lower().startswith("hkcu:"):
            return f"HKEY_USERS\\{self.ctx.machine.account_sid(self.ctx.user)}" + key[5:]
        return key

    def _emit(self, value) -> None:
        if value is None:
            return
        if isinstance(value, list):
            for v in value:
                self._emit(v)
            return
        if isinstance(value, dict):
            width = max((len(k) for k in value), default=0)
            self.out += [""] + [f"{k:<{width}} : {_text(v)}" for k, v in value.items()] + [""]
            return
        self.out.append(_text(value))

    def _args_positional(self, rest: str, lineno: int, name: str, switches: tuple = ()) -> list:
        values = []
        tokens = _ps_tokens(rest)
        i = 0
        while i < len(tokens):
            kind, text = tokens[i]
            if kind == "word" and text.startswith("-") and not re.match(r"^-\d", text):
                key = text[1:].lower()
                if key in switches:
                    i += 1
                    continue
                if key != name:
                    raise Unsupported(f"line {lineno}: parameter {text} is not emulated")
                i += 1
                continue
            values.append(self._arg_value(kind, text))
            i += 1
        return values

    def _named(self, rest: str, lineno: int, allowed: tuple, positional: tuple = ()) -> dict:
        tokens = _ps_tokens(rest)
        out, i, pos = {}, 0, list(positional)
        while i < len(tokens):
            kind, text = tokens[i]
            if kind == "word" and text.startswith("-") and not re.match(r"^-\d", text):
                key = text[1:].lower().rstrip(":")
                if key not in allowed:
                    raise Unsupported(f"line {lineno}: parameter {text} is not emulated")
                if key in ("force", "nonewline", "recurse", "raw"):
                    out[key], i = True, i + 1
                    continue
                if i + 1 >= len(tokens):
                    raise Unsupported(f"line {lineno}: parameter {text} has no value")
                out[key] = self._arg_value(*tokens[i + 1])
                pos = [p for p in pos if p != key]
                i += 2
            else:
                if not pos:
                    raise Unsupported(f"line {lineno}: unexpected argument {text!r}")
                out[pos.pop(0)] = self._arg_value(kind, text)
                i += 1
        return out

    def _write(self, path, text: str, append: bool) -> None:
        try:
            self.ctx.write(str(path), text.encode("utf-8"), append=append)
        except FsError as e:
            raise Terminating(f"Set-Content : {e}") from None

    # expressions -------------------------------------------------------------------------------

    def _truth(self, value) -> bool:
        if isinstance(value, str):
            return value != ""
        return bool(value)

    def _eval(self, expr: str | None, lineno: int):
        if expr is None:
            return None
        e = expr.strip()
        m = re.match(r"(?is)^(.+?)\s+-(and|or)\s+(.+)$", e)
        if m and e.count("(") == e.count(")"):
            left = self._truth(self._eval(m.group(1), lineno))
            return (left and self._truth(self._eval(m.group(3), lineno))) if m.group(2).lower() == "and" else \
                (left or self._truth(self._eval(m.group(3), lineno)))
        m = re.match(r"(?is)^(.+?)\s+-(c?eq|c?ne|gt|lt|ge|le|like|notlike|match|notmatch)\s+(.+)$", e)
        if m and _outside_quotes(e, m.start(2) - 1):
            a, op, b = self._eval(m.group(1), lineno), m.group(2).lower(), self._eval(m.group(3), lineno)
            return _compare(a, op, b)
        if e.lower().startswith("-not "):
            return not self._truth(self._eval(e[5:], lineno))
        if e.startswith("!"):
            return not self._truth(self._eval(e[1:], lineno))
        m = re.match(r"^\((.*)\)\.(\w+)$", e, re.DOTALL)
        if m:
            value = self._eval(m.group(1), lineno)
            if isinstance(value, dict):
                for k, v in value.items():
                    if k.lower() == m.group(2).lower():
                        return v
                return None
            if m.group(2).lower() == "path" and isinstance(value, str):
                return value
            if m.group(2).lower() in ("length", "count") and isinstance(value, (str, list)):
                return len(value)
            raise Unsupported(f"line {lineno}: expression {e!r}")
        if e.startswith("(") and e.endswith(")") and _balanced(e[1:-1]):
            return self._eval(e[1:-1], lineno)
        low = e.lower()
        if low in ("get-location", "$pwd", "$pwd.path", "pwd"):
            return self.ctx.cwd
        if low.startswith("test-path"):
            opts = self._named(e[9:], lineno, ("path", "literalpath", "pathtype"), positional=("path",))
            target = str(opts.get("path") or opts.get("literalpath") or "")
            if target.lower().startswith(("hklm:", "hkcu:", "registry::")):
                return self.ctx.machine.reg_key(self._reg_path(target)) is not None
            kind = str(opts.get("pathtype") or "any").lower()
            full = self.ctx.abspath(target)
            if not self.ctx.exists(full):
                return False
            return {"leaf": self.ctx.machine.fs_isfile(full), "container": self.ctx.machine.fs_isdir(full)}.get(kind, True)
        if low.startswith("get-content"):
            opts = self._named(e[11:], lineno, ("path", "literalpath", "raw", "encoding"), positional=("path",))
            target = str(opts.get("path") or opts.get("literalpath") or "")
            try:
                text = self.ctx.read(target).decode("utf-8-sig", "replace")
            except FsError:
                raise Terminating(f"Get-Content : Cannot find path '{self.ctx.abspath(target)}' because it does not "
                                  "exist.") from None
            if opts.get("raw"):
                return text
            lines = text.splitlines()
            return lines[0] if len(lines) == 1 else lines
        if low.startswith("get-itemproperty"):
            opts = self._named(e[16:], lineno, ("path", "literalpath", "name", "erroraction"), positional=("path", "name"))
            key = opts.get("path") or opts.get("literalpath")
            rec = self.ctx.machine.reg_key(self._reg_path(key))
            quiet = str(opts.get("erroraction") or "").lower() in ("silentlycontinue", "ignore")
            if rec is None:
                if quiet:
                    return None
                raise Terminating(f"Get-ItemProperty : Cannot find path '{key}' because it does not exist.")
            values = {n: v["data"] for n, v in rec["values"].items()}
            if opts.get("name") is not None:
                hit = {n: v for n, v in values.items() if n.lower() == str(opts["name"]).lower()}
                if not hit:
                    if quiet:
                        return None
                    raise Terminating(f"Get-ItemProperty : Property {opts['name']} does not exist at path {key}.")
                return hit
            return values
        if e.startswith("'") and e.endswith("'") and len(e) >= 2:
            return e[1:-1].replace("''", "'")
        if e.startswith('"') and e.endswith('"') and len(e) >= 2:
            return self._interpolate(e[1:-1], lineno)
        if re.match(r"^-?\d+$", e):
            return int(e)
        if re.match(r"^-?\d+\.\d+$", e):
            return float(e)
        m = re.match(r"(?i)^\$env:([\w()]+)$", e)
        if m:
            return self.ctx.getenv(m.group(1))
        m = re.match(r"^\$(\w+)$", e)
        if m:
            return self.vars.get(m.group(1).lower())
        m = re.match(r"^\$(\w+)\.(\w+)$", e)
        if m and isinstance(self.vars.get(m.group(1).lower()), (dict, str, list)):
            return self._eval(f"(${m.group(1)}).{m.group(2)}", lineno)
        if re.match(r"^[\w.\\:-]+$", e) and not e.startswith("-") and not re.match(r"^[A-Za-z]+-[A-Za-z]+$", e):
            return e   # a bare word argument, as PowerShell passes it (a Verb-Noun would be a command)
        m = re.match(r"^([A-Za-z]+-[A-Za-z]+)\b", e)
        if m:
            raise Unsupported(f"line {lineno}: the command {m.group(1)} is not emulated")
        raise Unsupported(f"line {lineno}: expression {e!r}")

    def _interpolate(self, text: str, lineno: int) -> str:
        def repl(m):
            if m.group(1) is not None:
                return _text(self._eval(m.group(1), lineno))
            if m.group(2):
                return self.ctx.getenv(m.group(2)) or ""
            return _text(self.vars.get(m.group(3).lower()))

        out = re.sub(r"\$\(([^)]*)\)|\$env:([\w]+)|\$(\w+)", repl, text, flags=re.IGNORECASE)
        return out.replace("`n", "\n").replace("`t", "\t").replace('`"', '"').replace("`$", "$").replace("``", "`")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return str(value)


def _quote_arg(text: str) -> str:
    return f'"{text}"' if (" " in text or not text) else text


def _balanced(text: str) -> bool:
    depth = 0
    for c in text:
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth < 0:
            return False
    return depth == 0


def _outside_quotes(text: str, index: int) -> bool:
    quote = None
    for c in text[:index]:
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
    return quote is None


def _braced(text: str, open_index: int) -> tuple[str, str]:
    """(inside of the {...} starting at open_index, the text after it)."""
    depth, quote = 0, None
    for i in range(open_index, len(text)):
        c = text[i]
        if quote:
            quote = None if c == quote else quote
            continue
        if c in "'\"":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[open_index + 1:i], text[i + 1:]
    raise Unsupported(f"an unclosed brace: {text.splitlines()[0]}")


def _split_statements(line: str) -> list[str]:
    parts, buf, quote = [], "", None
    for c in line:
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == ";":
            parts.append(buf.strip())
            buf = ""
            continue
        buf += c
    parts.append(buf.strip())
    return [p for p in parts if p]


def _compare(a, op: str, b) -> bool:
    if op in ("like", "notlike"):
        hit = fnmatch.fnmatchcase(_text(a).lower(), _text(b).lower())
        return hit if op == "like" else not hit
    if op in ("match", "notmatch"):
        hit = re.search(_text(b), _text(a), re.IGNORECASE) is not None
        return hit if op == "match" else not hit
    case = op.startswith("c")
    op = op.lstrip("c")
    # PowerShell converts the right side to the left side's type.
    if isinstance(a, bool):
        x, y = a, _text(b).lower() in ("true", "1") if isinstance(b, str) else bool(b)
    elif isinstance(a, (int, float)) and not isinstance(a, bool):
        try:
            x, y = a, float(b) if b is not None else None
        except (TypeError, ValueError):
            x, y = str(a), _text(b)
    else:
        x, y = _text(a), _text(b)
        if not case:
            x, y = x.lower(), y.lower()
    if y is None or x is None:
        return {"eq": x == y, "ne": x != y}.get(op, False)
    return {"eq": x == y, "ne": x != y, "gt": x > y, "lt": x < y, "ge": x >= y, "le": x <= y}[op]
