"""Simulated programs of the simulated Windows host, and how a command line finds them.

Resolution follows CreateProcess: the first token is the program; a bare name is looked for
in the working directory, then on PATH, trying ``.com``, ``.exe``, ``.bat``, ``.cmd`` when it
has no extension. Programs are built-ins (cmd.exe, reg.exe, msiexec.exe, ...) or *declared*:
a file in the state with a ``program`` record saying what it prints, returns and changes.
Anything else cannot be started. Test fixture: never shipped.
"""

from __future__ import annotations

import base64
import ntpath
import re
import shlex

from tests.winsim.machine import ExecResult, norm

NOT_FOUND = "The system cannot find the file specified."
EXTENSIONS = (".com", ".exe", ".bat", ".cmd")


class ProgramNotFound(Exception):
    pass


class Context:
    """What a running simulated process sees."""

    def __init__(self, machine, env: dict, cwd: str, user: str, cancel, wow64: bool = False):
        self.machine, self.env, self.cwd, self.user, self.cancel, self.wow64 = machine, env, cwd, user, cancel, wow64

    def getenv(self, name: str) -> str | None:
        for key, value in self.env.items():
            if key.lower() == name.lower():
                return value
        return None

    def abspath(self, path: str) -> str:
        path = path.strip().strip('"')
        if re.match(r"^[A-Za-z]:\\", path) or path.startswith("\\\\"):
            return ntpath.normpath(path)
        return ntpath.normpath(ntpath.join(self.cwd, path))


def process_env(machine, extra: dict | None) -> dict:
    env = dict(machine.state["environment"])
    for key, value in (extra or {}).items():
        for existing in list(env):
            if existing.lower() == key.lower():
                del env[existing]
        env[key] = str(value)
    return env


def split_program(command_line: str) -> tuple[str, str]:
    cmd = command_line.strip()
    if cmd.startswith('"'):
        end = cmd.find('"', 1)
        end = len(cmd) if end < 0 else end
        return cmd[1:end], cmd[end + 1:].lstrip()
    parts = cmd.split(None, 1)
    return (parts[0] if parts else ""), (parts[1] if len(parts) > 1 else "")


def resolve(ctx: Context, name: str) -> tuple[str, dict]:
    files = ctx.machine.state["files"]
    candidates = []
    if "\\" in name or "/" in name or re.match(r"^[A-Za-z]:", name):
        bases = [ctx.abspath(name)]
    else:
        path_dirs = [d for d in (ctx.getenv("PATH") or "").split(";") if d]
        bases = [ntpath.join(ctx.cwd, name)] + [ntpath.join(d, name) for d in path_dirs]
    for base in bases:
        if ctx.wow64:
            # 32-bit view: System32 is SysWOW64 (file-system redirection).
            base = re.sub(r"(?i)\\system32(\\|$)", r"\\SysWOW64\1", base)
        if ntpath.splitext(base)[1]:
            candidates.append(base)
        else:
            candidates.extend(base + ext for ext in EXTENSIONS)
    for cand in candidates:
        rec = files.get(norm(cand))
        if rec and rec.get("type") == "file":
            if "program" not in rec:
                raise ProgramNotFound(f"simulated host: '{cand}' is a file but not a program the simulated host can run")
            return rec["path"], rec["program"]
    raise ProgramNotFound(NOT_FOUND)


def run_command_line(machine, command_line: str, *, env: dict, cwd: str | None, user: str, cancel,
                     wow64: bool = False) -> ExecResult:
    """Start a program as CreateProcess would; rc 2 with Windows' message when it cannot."""
    ctx = Context(machine, process_env(machine, env), cwd or "C:\\Windows\\System32", user or "Administrator", cancel, wow64)
    try:
        return start(ctx, command_line)
    except ProgramNotFound as e:
        return ExecResult(b"", f"{e}\r\n".encode(), 2)


def start(ctx: Context, command_line: str) -> ExecResult:
    name, args = split_program(command_line)
    path, program = resolve(ctx, name)
    ctx.machine.count("programs")
    builtin = program.get("builtin")
    if builtin:
        handler = BUILTINS.get(builtin)
        if handler is None:
            return ExecResult(b"", f"simulated host: the program '{builtin}' is not emulated\r\n".encode(), 1)
        return handler(ctx, args)
    return declared(ctx, path, program, args)


def declared(ctx: Context, path: str, program: dict, args: str) -> ExecResult:
    """A program whose behaviour a test declared in the state."""
    if program.get("seconds") and not ctx.machine.sleep(float(program["seconds"]), ctx.cancel):
        return ExecResult(b"", b"", 1)
    out = str(program.get("stdout", "")).replace("{args}", args).replace("{cwd}", ctx.cwd)
    for key, value in ctx.env.items():
        out = out.replace(f"{{env:{key}}}", value)
    apply_effects(ctx.machine, program.get("effects") or [])
    return ExecResult(out.encode(), str(program.get("stderr", "")).encode(), int(program.get("rc", 0)))


def apply_effects(machine, effects: list) -> None:
    with machine.lock:
        state = machine.state
        for effect in effects:
            if "install_product" in effect:
                p = effect["install_product"]
                state["products"][p["product_code"].upper()] = {k: v for k, v in p.items() if k != "product_code"}
            if "remove_product" in effect:
                state["products"].pop(effect["remove_product"].upper(), None)
            if "write_file" in effect:
                f = effect["write_file"]
                data = str(f.get("content", "")).encode()
                state["files"][norm(f["path"])] = {
                    "path": f["path"], "type": "file", "size": len(data), "content_b64": base64.b64encode(data).decode()}
            if "set_registry" in effect:
                r = effect["set_registry"]
                key = state["registry"].setdefault(norm(r["key"].replace("HKLM:", "HKLM")),
                                                   {"path": r["key"], "values": {}})
                key["values"][r["name"]] = {"type": r.get("type", "REG_SZ"), "data": r.get("data")}
            if effect.get("request_reboot"):
                state["boot"]["pending_reboot"] = True
        machine.save()


# cmd.exe -----------------------------------------------------------------------------

def _expand(ctx: Context, text: str) -> str:
    def repl(m):
        value = ctx.getenv(m.group(1))
        return m.group(0) if value is None else value

    return re.sub(r"%([^%\s]+)%", repl, text)


def _split_ops(line: str) -> list[tuple[str, str]]:
    """[(operator before, command)] for &, && and || outside quotes."""
    out, buf, op, quoted, i = [], "", "", False, 0
    while i < len(line):
        c = line[i]
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
            if c == "|":
                raise ValueError("pipes are not emulated by the simulated cmd.exe")
        buf += c
        i += 1
    out.append((op, buf.lstrip()))
    return [(o, c if c.strip() else "") for o, c in out]


def _cmd_one(ctx: Context, line: str, state: dict) -> ExecResult:
    to_stderr = False
    m2 = re.search(r"1?>&2\s*$", line)
    if m2:
        to_stderr, line = True, line[:m2.start()]
    target, mode = None, ">"
    # The space before '>' stays part of the command: "echo a > f" writes "a " as cmd does.
    redirect = re.search(r"(>>?)\s*(\"[^\"]+\"|\S+)\s*$", line)
    if redirect and line[:redirect.start()].count('"') % 2 == 0:   # a > outside quotes
        target, mode = redirect.group(2).strip('"'), redirect.group(1)
        line = line[:redirect.start()]
    word, _sep, rest = line.lstrip().partition(" ")
    verb = word.lower().rstrip()
    out, err, rc = "", "", 0
    if verb in ("echo", "echo."):
        # cmd keeps the text as written, trailing spaces included ("echo a & ..." prints "a ").
        out = ("" if verb == "echo." or not rest.strip() else rest) + "\r\n"
        if to_stderr:
            out, err = "", out
    elif verb == "exit":
        m = re.match(r"(?:/b\s*)?(-?\d+)?", rest.strip(), re.IGNORECASE)
        state["exit"] = int(m.group(1) or 0) if m else 0
        return ExecResult(b"", b"", state["exit"])
    elif verb == "set":
        if "=" in rest:
            name, _sep, value = rest.partition("=")
            ctx.env[name.strip()] = value
        else:
            matches = sorted((k, v) for k, v in ctx.env.items() if k.lower().startswith(rest.strip().lower()))
            if not matches:
                return ExecResult(b"", f"Environment variable {rest.strip()} not defined\r\n".encode(), 1)
            out = "".join(f"{k}={v}\r\n" for k, v in matches)
    elif verb == "cd" and not rest.strip():
        out = ctx.cwd + "\r\n"
    elif verb in ("cd", "chdir"):
        path = ctx.abspath(rest.replace("/d", "").strip())
        if norm(path) not in ctx.machine.state["files"]:
            return ExecResult(b"", b"The system cannot find the path specified.\r\n", 1)
        ctx.cwd = path
    elif verb == "type":
        rec = ctx.machine.state["files"].get(norm(ctx.abspath(rest)))
        if not rec or rec["type"] != "file":
            return ExecResult(b"", b"The system cannot find the file specified.\r\n", 1)
        out = base64.b64decode(rec.get("content_b64", "")).decode("utf-8", "replace")
    elif verb in ("mkdir", "md"):
        path = ctx.abspath(rest)
        with ctx.machine.lock:
            ctx.machine.state["files"][norm(path)] = {"path": path, "type": "directory"}
            ctx.machine.save()
    elif verb == "del":
        path = norm(ctx.abspath(rest.replace("/f", "").replace("/q", "")))
        with ctx.machine.lock:
            ctx.machine.state["files"].pop(path, None)
            ctx.machine.save()
    elif verb == "if":
        m = re.match(r"(not\s+)?exist\s+(\"[^\"]+\"|\S+)\s+(.*)$", rest.strip(), re.IGNORECASE)
        if not m:
            return ExecResult(b"", b"simulated cmd.exe: only 'if [not] exist PATH command' is emulated\r\n", 1)
        exists = norm(ctx.abspath(m.group(2))) in ctx.machine.state["files"]
        if exists != bool(m.group(1)):
            return _cmd_one(ctx, m.group(3), state)
    elif verb == "ver":
        out = f"\r\nMicrosoft Windows [Version {ctx.machine.state['os']['version']}]\r\n"
    else:
        try:
            res = start(ctx, line)
        except ProgramNotFound:
            msg = (f"'{word}' is not recognized as an internal or external command,\r\n"
                   "operable program or batch file.\r\n")
            return ExecResult(b"", msg.encode(), 9009)
        out, err, rc = res.stdout.decode("utf-8", "replace"), res.stderr.decode("utf-8", "replace"), res.rc
    if target:
        path = ctx.abspath(target)
        with ctx.machine.lock:
            files = ctx.machine.state["files"]
            old = base64.b64decode(files.get(norm(path), {}).get("content_b64", "")) if mode == ">>" else b""
            data = old + out.encode()
            files[norm(path)] = {"path": path, "type": "file", "size": len(data),
                                 "content_b64": base64.b64encode(data).decode()}
            ctx.machine.save()
        out = ""
    return ExecResult(out.encode(), err.encode(), rc)


def cmd_exe(ctx: Context, args: str) -> ExecResult:
    m = re.match(r"^\s*/[cCkK]\s*(.*)$", args, re.DOTALL)
    if not m:
        return ExecResult(b"", b"simulated cmd.exe: only 'cmd.exe /c COMMAND' is emulated\r\n", 1)
    line = m.group(1).strip()
    if len(line) >= 2 and line[0] == '"' and line[-1] == '"':
        line = line[1:-1]
    line = _expand(ctx, line)
    try:
        parts = _split_ops(line)
    except ValueError as e:
        return ExecResult(b"", f"simulated host: {e}\r\n".encode(), 1)
    stdout, stderr, rc, state = b"", b"", 0, {}
    for op, command in parts:
        if (op == "&&" and rc != 0) or (op == "||" and rc == 0):
            continue
        if not command:
            continue
        res = _cmd_one(ctx, command, state)
        stdout, stderr, rc = stdout + res.stdout, stderr + res.stderr, res.rc
        if "exit" in state:
            break
    return ExecResult(stdout, stderr, rc)


# other built-ins -----------------------------------------------------------------------

def _words(args: str) -> list[str]:
    try:
        return [w.strip('"') for w in shlex.split(args, posix=False)]
    except ValueError:
        return args.split()


def hostname_exe(ctx, args):
    return ExecResult(ctx.machine.state["hostname"].encode() + b"\r\n", b"", 0)


def whoami_exe(ctx, args):
    account = ctx.machine.find_account(ctx.user) or ctx.user
    return ExecResult(f"{ctx.machine.state['hostname'].lower()}\\{account.lower()}\r\n".encode(), b"", 0)


def ping_exe(ctx, args):
    w = _words(args)
    count = int(w[w.index("-n") + 1]) if "-n" in w else 4
    if not ctx.machine.sleep(max(count - 1, 0), ctx.cancel):
        return ExecResult(b"", b"", 1)
    lines = "".join("Reply from 127.0.0.1: bytes=32 time<1ms TTL=128\r\n" for _reply in range(count))
    return ExecResult(f"\r\nPinging 127.0.0.1 with 32 bytes of data:\r\n{lines}".encode(), b"", 0)


def timeout_exe(ctx, args):
    w = [x.lower() for x in _words(args)]
    seconds = int(w[w.index("/t") + 1]) if "/t" in w else 1
    if not ctx.machine.sleep(seconds, ctx.cancel):
        return ExecResult(b"", b"", 1)
    return ExecResult(b"\r\nWaiting for 0 seconds, press a key to continue ...\r\n", b"", 0)


def shutdown_exe(ctx, args):
    w = [x.lower() for x in _words(args)]
    if "/a" in w:
        if ctx.machine.abort_restart():
            return ExecResult(b"", b"", 0)
        return ExecResult(b"", b"Unable to abort the system shutdown because no shutdown was in progress.(1116)\r\n", 1116)
    if "/r" in w:
        delay = int(w[w.index("/t") + 1]) if "/t" in w else 30
        if not ctx.machine.schedule_restart(delay):
            return ExecResult(b"", b"A system shutdown has already been scheduled.(1190)\r\n", 1190)
        return ExecResult(b"", b"", 0)
    return ExecResult(b"", b"simulated shutdown.exe: only /r and /a are emulated\r\n", 1)


def reg_exe(ctx, args):
    w = _words(args)
    if not w:
        return ExecResult(b"", b"ERROR: Invalid syntax.\r\n", 1)
    op, key = w[0].lower(), (w[1] if len(w) > 1 else "")
    opts = {}
    i = 2
    while i < len(w):
        if w[i].lower() in ("/v", "/t", "/d") and i + 1 < len(w):
            opts[w[i].lower()] = w[i + 1]
            i += 2
        else:
            opts[w[i].lower()] = True
            i += 1
    reg = ctx.machine.state["registry"]
    nkey = norm(key.replace("HKEY_LOCAL_MACHINE", "HKLM").replace("HKLM:", "HKLM"))
    with ctx.machine.lock:
        if op == "add":
            rec = reg.setdefault(nkey, {"path": key, "values": {}})
            if "/v" in opts:
                data = opts.get("/d", "")
                kind = opts.get("/t", "REG_SZ")
                rec["values"][opts["/v"]] = {"type": kind, "data": int(data) if kind == "REG_DWORD" else data}
            ctx.machine.save()
            return ExecResult(b"The operation completed successfully.\r\n", b"", 0)
        if op == "delete":
            if nkey not in reg:
                return ExecResult(b"", b"ERROR: The system was unable to find the specified registry key or value.\r\n", 1)
            if "/v" in opts:
                reg[nkey]["values"].pop(opts["/v"], None)
            else:
                reg.pop(nkey)
            ctx.machine.save()
            return ExecResult(b"The operation completed successfully.\r\n", b"", 0)
        if op == "query":
            rec = reg.get(nkey)
            values = (rec or {}).get("values", {})
            if rec is None or ("/v" in opts and opts["/v"] not in values):
                return ExecResult(b"", b"ERROR: The system was unable to find the specified registry key or value.\r\n", 1)
            shown = {opts["/v"]: values[opts["/v"]]} if "/v" in opts else values
            body = "".join(f"    {n}    {v['type']}    {v['data']}\r\n" for n, v in shown.items())
            return ExecResult(f"\r\n{rec['path']}\r\n{body}\r\n".encode(), b"", 0)
    return ExecResult(b"", f"simulated reg.exe: '{op}' is not emulated\r\n".encode(), 1)


def msiexec_exe(ctx, args):
    w = _words(args)
    lower = [x.lower() for x in w]
    products = ctx.machine.state["products"]
    if "/x" in lower:
        code = w[lower.index("/x") + 1].upper()
        if code not in products:
            return ExecResult(b"", b"", 1605)   # ERROR_UNKNOWN_PRODUCT
        apply_effects(ctx.machine, [{"remove_product": code}])
        return ExecResult(b"", b"", 0)
    if "/i" in lower:
        path = ctx.abspath(w[lower.index("/i") + 1])
        rec = ctx.machine.state["files"].get(norm(path))
        if not rec or "msi" not in rec:
            return ExecResult(b"", b"", 1619)   # ERROR_INSTALL_PACKAGE_OPEN_FAILED
        msi = rec["msi"]
        if msi.get("seconds") and not ctx.machine.sleep(float(msi["seconds"]), ctx.cancel):
            return ExecResult(b"", b"", 1602)
        rc = int(msi.get("rc", 0))
        if rc in (0, 3010, 1641):
            effects = [{"install_product": {"product_code": msi["product_code"], "name": msi.get("name", ""),
                                            "version": msi.get("version", "1.0.0")}}]
            if rc == 3010:
                effects.append({"request_reboot": True})
            apply_effects(ctx.machine, effects)
            if rc == 1641:
                ctx.machine.schedule_restart(5)
        return ExecResult(b"", b"", rc)
    return ExecResult(b"", b"simulated msiexec.exe: only /i and /x are emulated\r\n", 1639)


def powershell_exe(ctx, args):
    from tests.winsim import pwsh

    return pwsh.run_powershell_exe(ctx, args)


BUILTINS = {
    "cmd.exe": cmd_exe, "hostname.exe": hostname_exe, "whoami.exe": whoami_exe, "ping.exe": ping_exe,
    "timeout.exe": timeout_exe, "shutdown.exe": shutdown_exe, "reg.exe": reg_exe, "msiexec.exe": msiexec_exe,
    "powershell.exe": powershell_exe,
}
