"""A deliberately tiny PowerShell subset, for user scripts on the simulated host.

No PowerShell exists on this machine. Scripts the tests run through ``powershell.exe -File``
(Run PowerShell Script) are interpreted here, line by line, for a small, explicit subset:
``param()`` binding, Write-Output/Host/Error, variables and ``$env:`` (with string
interpolation), ``exit``, Start-Sleep, Get-Location, Test-Path, Set-/Add-/Get-Content,
New-Item -ItemType Directory, Set-/Get-ItemProperty on ``HKLM:``, and one-line
``if (...) { ... } else { ... }``. Any other line stops the script with rc 1 and a message
naming it: the simulated host never pretends to have run what it did not understand.
Test fixture: never shipped.
"""

from __future__ import annotations

import base64
import re
import shlex

from tests.winsim.machine import ExecResult, norm

SIGNATURE = "# SIG # Begin signature block"


class Unsupported(Exception):
    pass


class Exit(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def run_script_file(ctx, file_path: str, arguments: str, policy: str | None) -> ExecResult:
    """``& 'file' arguments`` under an execution policy, as run_process's encoded command does."""
    return _run_file(ctx, file_path, _ps_tokens(arguments), policy)


def _ps_tokens(text: str) -> list[str]:
    """Split arguments as PowerShell's parser does for a command: '..' with '' escapes, ".." with `" escapes."""
    tokens, buf, i, have = [], "", 0, False
    while i < len(text):
        c = text[i]
        if c.isspace():
            if have:
                tokens.append(buf)
                buf, have = "", False
            i += 1
            continue
        have = True
        if c == "'":
            i += 1
            while i < len(text):
                if text[i] == "'" and text[i + 1:i + 2] == "'":
                    buf, i = buf + "'", i + 2
                elif text[i] == "'":
                    break
                else:
                    buf, i = buf + text[i], i + 1
            i += 1
        elif c == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                if text[i] == "`" and i + 1 < len(text):
                    buf, i = buf + text[i + 1], i + 2
                else:
                    buf, i = buf + text[i], i + 1
            i += 1
        else:
            buf, i = buf + c, i + 1
    if have:
        tokens.append(buf)
    return tokens


def run_powershell_exe(ctx, args: str) -> ExecResult:
    words = _split_args(args)
    policy, file_path, rest = None, None, []
    i = 0
    while i < len(words):
        w = words[i]
        lw = w.lower()
        if lw in ("-nologo", "-noprofile", "-noninteractive"):
            i += 1
        elif lw == "-executionpolicy":
            policy, i = words[i + 1], i + 2
        elif lw == "-file":
            file_path, rest = words[i + 1], words[i + 2:]
            break
        else:
            return ExecResult(b"", f"simulated powershell.exe: only -File is emulated (got {w!r})\r\n".encode(), 1)
    if not file_path:
        return ExecResult(b"", b"simulated powershell.exe: only -File is emulated\r\n", 1)
    return _run_file(ctx, file_path, rest, policy)


def _run_file(ctx, file_path: str, rest: list[str], policy: str | None) -> ExecResult:
    path = ctx.abspath(file_path)
    rec = ctx.machine.state["files"].get(norm(path))
    if not rec or rec.get("type") != "file":
        msg = (f"The argument '{file_path}' to the -File parameter does not exist. Provide the path to an existing "
               "'.ps1' file as an argument to the -File parameter.\r\n")
        return ExecResult(b"", msg.encode(), -196608)   # guess: powershell.exe's exit code for a missing -File
    text = base64.b64decode(rec.get("content_b64", "")).decode("utf-8-sig", "replace")
    effective = (policy or ctx.machine.state["os"].get("execution_policy", "RemoteSigned")).lower()
    if effective in ("allsigned", "restricted") and SIGNATURE not in text:
        msg = (f"File {path} cannot be loaded. The file {path} is not digitally signed. You cannot run this script "
               "on the current system.\r\n")
        return ExecResult(b"", msg.encode(), 1)
    return Interpreter(ctx).run(text, rest)


def _split_args(args: str) -> list[str]:
    try:
        lexer = shlex.shlex(args, posix=True)
        lexer.whitespace_split = True
        lexer.quotes = "\"'"
        lexer.escape = ""
        return list(lexer)
    except ValueError:
        return args.split()


class Interpreter:
    def __init__(self, ctx):
        self.ctx = ctx
        self.vars: dict[str, object] = {"true": True, "false": False, "null": None}
        self.out: list[str] = []
        self.err: list[str] = []

    def run(self, text: str, args: list[str]) -> ExecResult:
        lines = text.splitlines()
        try:
            body_start = self._bind_params(lines, args)
            self._block(lines[body_start:], body_start)
            rc = 0
        except Exit as e:
            rc = e.code
        except Unsupported as e:
            self.err.append(f"simulated host: unsupported PowerShell at {e}")
            rc = 1
        out = "".join(f"{line}\r\n" for line in self.out)
        err = "".join(f"{line}\r\n" for line in self.err)
        return ExecResult(out.encode(), err.encode(), rc)

    # parameters ------------------------------------------------------------------------

    def _bind_params(self, lines: list[str], args: list[str]) -> int:
        joined, start, end = "", None, 0
        for index, line in enumerate(lines):
            stripped = line.strip()
            if start is None and (not stripped or stripped.startswith("#") or stripped.lower().startswith("[cmdletbinding")):
                continue
            if start is None and not stripped.lower().startswith("param"):
                break
            start = index if start is None else start
            joined += " " + stripped
            if joined.count("(") and joined.count("(") == joined.count(")"):
                end = index + 1
                break
        params: list[tuple[str, bool, object]] = []
        if start is not None:
            inner = joined.strip()[joined.strip().index("(") + 1:joined.strip().rindex(")")]
            for m in re.finditer(r"(\[[^\]]*\]\s*)*\$(\w+)(\s*=\s*('[^']*'|\"[^\"]*\"|\$?\w+))?", inner):
                is_switch = "[switch]" in (m.group(0) or "").lower()
                default = self._eval(m.group(4), 0) if m.group(4) else (False if is_switch else None)
                params.append((m.group(2), is_switch, default))
        for name, _switch, default in params:
            self.vars[name.lower()] = default
        positional = [p for p in params if not p[1]]
        i = 0
        while i < len(args):
            a = args[i]
            if a.startswith("-") and len(a) > 1 and not re.match(r"^-\d", a):
                key, _sep, inline = a[1:].partition(":")
                match = [p for p in params if p[0].lower() == key.lower()]
                if not match:
                    raise Unsupported(f"parameter binding: no parameter named '{key}'")
                name, switch, _default = match[0]
                if switch:
                    self.vars[name.lower()] = (inline.lower() != "$false") if inline else True
                    i += 1
                elif inline:
                    self.vars[name.lower()], i = inline, i + 1
                else:
                    self.vars[name.lower()], i = (args[i + 1] if i + 1 < len(args) else None), i + 2
                positional = [p for p in positional if p[0] != name]
            else:
                if not positional:
                    raise Unsupported(f"parameter binding: extra argument {a!r}")
                self.vars[positional.pop(0)[0].lower()] = a
                i += 1
        return end

    # statements ------------------------------------------------------------------------

    def _block(self, lines: list[str], offset: int) -> None:
        i = 0
        while i < len(lines):
            line = lines[i].strip()
            lineno = offset + i + 1
            i += 1
            if not line or line.startswith("#"):
                continue
            if line.lower().startswith("if"):
                # gather until braces balance (if/else may span lines)
                stmt = line
                while stmt.count("{") != stmt.count("}") and i < len(lines):
                    stmt += "\n" + lines[i].strip()
                    i += 1
                self._if(stmt, lineno)
                continue
            for part in _split_statements(line):
                self._statement(part, lineno)

    def _if(self, stmt: str, lineno: int) -> None:
        m = re.match(r"(?is)^if\s*\((.*?)\)\s*\{(.*?)\}\s*(?:else\s*\{(.*)\})?\s*$", stmt)
        if not m:
            raise Unsupported(f"line {lineno}: {stmt.splitlines()[0]}")
        branch = m.group(2) if self._truth(self._eval(m.group(1), lineno)) else (m.group(3) or "")
        self._block(branch.splitlines(), lineno - 1)

    def _statement(self, s: str, lineno: int) -> None:
        low = s.lower()
        m = re.match(r"^\$env:(\w+)\s*=\s*(.+)$", s, re.IGNORECASE)
        if m:
            self.ctx.env[m.group(1)] = str(self._eval(m.group(2), lineno))
            return
        m = re.match(r"^\$(\w+)\s*=\s*(.+)$", s)
        if m:
            self.vars[m.group(1).lower()] = self._eval(m.group(2), lineno)
            return
        m = re.match(r"^exit(?:\s+(.+))?$", s, re.IGNORECASE)
        if m:
            raise Exit(int(self._eval(m.group(1), lineno) or 0) if m.group(1) else 0)
        cmd, _sep, rest = s.partition(" ")
        cmd = cmd.lower()
        if cmd in ("write-output", "echo"):
            self._emit(self._eval(rest, lineno))
        elif cmd == "write-host":
            self.out.append(str(self._eval(rest, lineno)))
        elif cmd == "write-error":
            self.err.append(str(self._eval(rest.replace("-Message", "").strip(), lineno)))
        elif cmd == "start-sleep":
            seconds = float(self._eval(re.sub(r"(?i)-seconds\s*", "", rest).strip(), lineno))
            if not self.ctx.machine.sleep(seconds, self.ctx.cancel):
                raise Exit(1)
        elif cmd in ("set-content", "add-content"):
            opts = self._named(rest, lineno, ("path", "value", "literalpath"))
            self._write(opts.get("path") or opts.get("literalpath"), str(opts.get("value", "")) + "\r\n", cmd == "add-content")
        elif cmd == "new-item":
            opts = self._named(rest, lineno, ("path", "itemtype", "force"))
            if str(opts.get("itemtype", "")).lower() != "directory":
                raise Unsupported(f"line {lineno}: New-Item only creates directories here: {s}")
            path = self.ctx.abspath(str(opts["path"]))
            with self.ctx.machine.lock:
                self.ctx.machine.state["files"][norm(path)] = {"path": path, "type": "directory"}
                self.ctx.machine.save()
        elif cmd == "set-itemproperty" or cmd == "new-itemproperty":
            opts = self._named(rest, lineno, ("path", "name", "value", "propertytype", "type", "force"))
            from tests.winsim.programs import apply_effects

            apply_effects(self.ctx.machine, [{"set_registry": {"key": str(opts["path"]), "name": str(opts["name"]),
                                                               "type": "REG_SZ", "data": opts.get("value")}}])
        elif re.match(r"^[\"'$(]|^-?\d|^get-|^test-path", low):
            self._emit(self._eval(s, lineno))
        else:
            raise Unsupported(f"line {lineno}: {s}")

    def _emit(self, value) -> None:
        if value is None:
            return
        if isinstance(value, bool):
            value = "True" if value else "False"
        self.out.append(str(value))

    def _named(self, rest: str, lineno: int, allowed: tuple) -> dict:
        words = _split_args(rest)
        out, i, positional = {}, 0, 0
        while i < len(words):
            w = words[i]
            if w.startswith("-"):
                key = w[1:].lower()
                if key not in allowed:
                    raise Unsupported(f"line {lineno}: parameter -{w[1:]} is not emulated")
                if key == "force":
                    out[key], i = True, i + 1
                else:
                    out[key], i = self._eval(_requote(words[i + 1]), lineno), i + 2
            else:
                out[allowed[positional]], i, positional = self._eval(_requote(w), lineno), i + 1, positional + 1
        return out

    def _write(self, path, text: str, append: bool) -> None:
        full = self.ctx.abspath(str(path))
        files = self.ctx.machine.state["files"]
        with self.ctx.machine.lock:
            old = base64.b64decode(files.get(norm(full), {}).get("content_b64", "")) if append else b""
            data = old + text.encode()
            files[norm(full)] = {"path": full, "type": "file", "size": len(data),
                                 "content_b64": base64.b64encode(data).decode()}
            self.ctx.machine.save()

    # expressions ---------------------------------------------------------------------

    def _truth(self, value) -> bool:
        return bool(value) and value not in ("", "0", 0)

    def _eval(self, expr: str | None, lineno: int):
        if expr is None:
            return None
        e = expr.strip()
        m = re.match(r"(?is)^(.+?)\s+-(eq|ne|gt|lt|ge|le|like|notlike)\s+(.+)$", e)
        if m:
            a, op, b = self._eval(m.group(1), lineno), m.group(2).lower(), self._eval(m.group(3), lineno)
            return _compare(a, op, b)
        if e.lower().startswith("-not "):
            return not self._truth(self._eval(e[5:], lineno))
        if e.startswith("(") and e.endswith(")"):
            inner = e[1:-1].strip()
            if inner.lower() == "get-location":
                return self.ctx.cwd
            return self._eval(inner, lineno)
        if e.lower() in ("get-location", "(get-location).path", "$pwd", "$pwd.path"):
            return self.ctx.cwd
        if e.lower().startswith("test-path"):
            arg = re.sub(r"(?i)^test-path\s+(-(literal)?path\s+)?", "", e)
            target = str(self._eval(_requote(arg), lineno))
            if target.lower().startswith("hklm:"):
                return norm(target.replace("HKLM:", "HKLM").replace("hklm:", "HKLM")) in self.ctx.machine.state["registry"]
            return norm(self.ctx.abspath(target)) in self.ctx.machine.state["files"]
        if e.lower().startswith("get-content"):
            arg = re.sub(r"(?i)^get-content\s+(-(literal)?path\s+)?", "", e)
            rec = self.ctx.machine.state["files"].get(norm(self.ctx.abspath(str(self._eval(_requote(arg), lineno)))))
            if not rec:
                raise Unsupported(f"line {lineno}: Get-Content of a missing file: {e}")
            return base64.b64decode(rec.get("content_b64", "")).decode("utf-8", "replace").rstrip("\r\n")
        if e.lower().startswith("(get-itemproperty") or e.lower().startswith("get-itemproperty"):
            m = re.match(r"(?i)^\(?get-itemproperty\s+(?:-path\s+)?('[^']*'|\"[^\"]*\"|\S+)\s+(?:-name\s+)?('[^']*'|\S+?)\)?"
                         r"(?:\.(\w+))?$", e)
            if not m:
                raise Unsupported(f"line {lineno}: {e}")
            key = self.ctx.machine.state["registry"].get(norm(str(self._eval(m.group(1), lineno)).replace("HKLM:", "HKLM")))
            value = ((key or {}).get("values") or {}).get(str(self._eval(m.group(2), lineno)).strip("'"))
            return None if value is None else value["data"]
        if e.startswith("'") and e.endswith("'") and len(e) >= 2:
            return e[1:-1].replace("''", "'")
        if e.startswith('"') and e.endswith('"') and len(e) >= 2:
            return self._interpolate(e[1:-1], lineno)
        if re.match(r"^-?\d+(\.\d+)?$", e):
            return float(e) if "." in e else int(e)
        m = re.match(r"(?i)^\$env:(\w+)$", e)
        if m:
            return self.ctx.getenv(m.group(1)) or ""
        m = re.match(r"^\$(\w+)$", e)
        if m:
            return self.vars.get(m.group(1).lower())
        if re.match(r"^[\w.\\:-]+$", e) and not e.startswith("-"):
            return e   # a bare word argument, as PowerShell passes it
        raise Unsupported(f"line {lineno}: expression {e!r}")

    def _interpolate(self, text: str, lineno: int) -> str:
        def repl(m):
            if m.group(1):
                return str(self._eval(m.group(1), lineno))
            if m.group(2):
                return self.ctx.getenv(m.group(2)) or ""
            value = self.vars.get(m.group(3).lower())
            if isinstance(value, bool):
                return "True" if value else "False"
            return "" if value is None else str(value)

        text = text.replace("`n", "\n").replace("`t", "\t").replace('`"', '"')
        return re.sub(r"\$\(([^)]*)\)|\$env:(\w+)|\$(\w+)", repl, text, flags=re.IGNORECASE)


def _requote(word: str) -> str:
    if word.startswith(("'", '"', "$", "(")) or re.match(r"^-?\d+$", word):
        return word
    return "'" + word.replace("'", "''") + "'"


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
        import fnmatch

        hit = fnmatch.fnmatchcase(str(a).lower(), str(b).lower())
        return hit if op == "like" else not hit
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        x, y = str(a).lower(), str(b).lower()
    return {"eq": x == y, "ne": x != y, "gt": x > y, "lt": x < y, "ge": x >= y, "le": x <= y}[op]
