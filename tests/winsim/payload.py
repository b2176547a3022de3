"""Decode what a WinRM client asks the simulated host to run, and dispatch it.

* ``PowerShell ... -EncodedCommand <UTF-16LE base64>``: ansible-core's bootstrap wrapper
  (the exec payload comes on stdin: a module, or one of ansible-core's own scripts such as
  ``winrm_put_file.ps1``), or a raw script (``win_reboot``'s commands). Recognised ones are
  emulated; anything else is refused with rc 1 and a message naming it.
* Any other command line goes to the simulated programs.

Test fixture: never shipped.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import re
import shlex

from tests.winsim.machine import LOGON_UI_KEY, ExecResult, norm

SEPARATOR = b"\n\0\0\0\0\n"
_ENCODED = re.compile(r"^\s*powershell(?:\.exe)?\s.*-EncodedCommand\s+([A-Za-z0-9+/=]+)\s*$", re.IGNORECASE | re.DOTALL)
_MODULE_SCRIPT = re.compile(r"^ansible_collections\.([a-z0-9_]+)\.([a-z0-9_]+)\.plugins\.modules\.([a-z0-9_]+)\.ps1$")
_LEGACY_SCRIPT = re.compile(r"^ansible\.(?:legacy|builtin)\.([a-z0-9_]+)\.ps1$|^([a-z0-9_]+)\.ps1$")
_FILETIME_EPOCH = datetime.datetime(1601, 1, 1, tzinfo=datetime.UTC)


class Invocation:
    """A module run: name, arguments, environment and the account it runs as."""

    def __init__(self, name, args, environment, user, become_user=None):
        self.name, self.args, self.environment = name, args, environment
        self.user, self.become_user = user, become_user

    @property
    def check_mode(self) -> bool:
        return bool(self.args.get("_ansible_check_mode"))


def _json_out(data: dict, rc: int | None = None) -> ExecResult:
    failed = bool(data.get("failed"))
    return ExecResult(json.dumps(data).encode(), b"", (1 if failed else 0) if rc is None else rc)


def refuse(message: str) -> ExecResult:
    return ExecResult(b"", f"simulated host: {message}\r\n".encode(), 1)


def run(machine, command_line: str, stdin, *, user: str, cancel) -> ExecResult:
    match = _ENCODED.match(command_line)
    if not match:
        from tests.winsim import programs

        machine.count("programs")
        return programs.run_command_line(machine, command_line, env={}, cwd=None, user=user, cancel=cancel)
    try:
        script = base64.b64decode(match.group(1)).decode("utf-16-le")
    except (binascii.Error, UnicodeDecodeError):
        return refuse("the -EncodedCommand is not base64 UTF-16LE text")
    if "$codeJson = foreach ($in in $input)" in script:
        return _bootstrap(machine, stdin.read_all(timeout=120), user, cancel)
    machine.count("raw")
    return raw_script(machine, script, cancel)


def _bootstrap(machine, data: bytes, user: str, cancel) -> ExecResult:
    parts = data.split(SEPARATOR)
    if len(parts) < 2:
        return refuse("the bootstrap wrapper got no exec manifest on stdin")
    try:
        manifest = json.loads(parts[1])
    except ValueError:
        return refuse("the exec manifest on stdin is not JSON")
    actions = manifest.get("actions") or []
    names = [a.get("name") for a in actions]
    extra = SEPARATOR.join(parts[2:])
    if "async_wrapper.ps1" in names:
        return refuse("async tasks (async_wrapper.ps1) are not emulated")
    last = actions[-1] if actions else {}
    if last.get("name") == "module_wrapper.ps1":
        params = last.get("params") or {}
        script = params.get("Script") or ""
        name = module_name(script)
        if name is None:
            return refuse(f"cannot tell which module '{script}' is")
        complex_args = {}
        for var in params.get("Variables") or []:
            if var.get("Name") == "complex_args":
                complex_args = var.get("Value") or {}
        become_user = None
        for action in actions:
            if action.get("name") == "become_wrapper.ps1":
                become_user = (action.get("params") or {}).get("BecomeUser")
                password = (action.get("secure_params") or {}).get("BecomePassword")
                failure = _check_become(machine, become_user, password)
                if failure:
                    return _json_out({"failed": True, "msg": failure})
        inv = Invocation(name, complex_args, params.get("Environment") or {}, user, become_user)
        from tests.winsim import modules

        machine.count("modules", name)
        return _json_out(modules.run(machine, inv, cancel))
    machine.count("raw")
    return _core_script(machine, last.get("name") or "", last.get("params") or {}, extra)


def module_name(script: str) -> str | None:
    m = _MODULE_SCRIPT.match(script)
    if m:
        return f"{m.group(1)}.{m.group(2)}.{m.group(3)}"
    m = _LEGACY_SCRIPT.match(script)
    if m:
        return f"ansible.windows.{m.group(1) or m.group(2)}"
    return None


def _check_become(machine, user, password) -> str | None:
    if not user or user.upper() in ("SYSTEM", "NT AUTHORITY\\SYSTEM"):
        return None
    account = machine.find_account(user)
    if account is None or machine.accounts()[account] != (password or ""):
        # What LogonUser reports for a bad account or password.
        return (f"Failed to become user {user}: LogonUserExW({user}) failed "
                "(The user name or password is incorrect, Win32ErrorCode 1326)")
    return None


def _core_script(machine, name: str, params: dict, extra: bytes) -> ExecResult:
    """ansible-core's own helper scripts, run through the bootstrap wrapper."""
    files = machine.state["files"]
    if name == "winrm_put_file.ps1":
        data = b"".join(base64.b64decode(line) for line in extra.split(b"\r\n") if line.strip())
        path = params.get("Path") or ""
        parent = norm(path).rsplit("\\", 1)[0]
        if norm(parent) not in files:
            return ExecResult(b"", f"Could not find a part of the path '{path}'.".encode(), 1)
        with machine.lock:
            files[norm(path)] = {"path": path, "type": "file", "size": len(data),
                                 "content_b64": base64.b64encode(data).decode()}
            machine.save()
        return ExecResult(json.dumps({"sha1": hashlib.sha1(data).hexdigest()}).encode(), b"", 0)
    if name == "winrm_fetch_file.ps1":
        rec = files.get(norm(params.get("Path") or ""))
        if rec is None:
            return ExecResult(b"", f"Path '{params.get('Path')}' does not exist".encode(), 1)
        if rec["type"] == "directory":
            return ExecResult(b"[DIR]", b"", 0)
        data = base64.b64decode(rec.get("content_b64", ""))
        offset, size = int(params.get("Offset", 0)), int(params.get("BufferSize", 524288))
        return ExecResult(base64.b64encode(data[offset:offset + size]), b"", 0)
    if name == "powershell_mkdtemp.ps1":
        directory = params.get("Directory") or "C:\\Windows\\Temp"
        directory = directory.replace("%TEMP%", "C:\\Windows\\Temp").replace("$env:TEMP", "C:\\Windows\\Temp")
        path = f"{directory.rstrip(chr(92))}\\{params.get('Name') or 'ansible-tmp'}"
        with machine.lock:
            files[norm(path)] = {"path": path, "type": "directory"}
            machine.save()
        return ExecResult(path.encode() + b"\r\n", b"", 0)
    if name == "powershell_expand_user.ps1":
        path = (params.get("Path") or "~").replace("~", "C:\\Users\\Administrator", 1)
        return ExecResult(path.encode() + b"\r\n", b"", 0)
    return refuse(f"ansible-core script '{name}' is not emulated")


def raw_script(machine, script: str, cancel) -> ExecResult:
    """Raw PowerShell that ansible.windows' win_reboot sends, recognised by its shape."""
    text = script.split("; If (-not $?)")[0].strip()
    if "LastBootUpTime.ToFileTime()" in text:
        boot = datetime.datetime.fromtimestamp(machine.boot_time(), datetime.UTC)
        filetime = int((boot - _FILETIME_EPOCH).total_seconds() * 10_000_000)
        return ExecResult(f"{filetime}\r\n".encode(), b"", 0)
    m = re.search(r"shutdown\.exe /r /t (\d+) /c ('(?:[^']|'')*')", text)
    if m:
        if "Remove-Item -LiteralPath" in text:
            with machine.lock:
                machine.state["registry"].pop(LOGON_UI_KEY, None)
                machine.save()
        message = m.group(2)[1:-1].replace("''", "'")
        if machine.schedule_restart(int(m.group(1)), message):
            out = {"stdout": "", "stderr": "", "rc": 0}
        else:
            out = {"stdout": "", "stderr": "A system shutdown has already been scheduled.(1190)", "rc": 1190}
        return ExecResult(json.dumps(out).encode() + b"\r\n", b"", 0)
    m = re.match(r"Get-Item -LiteralPath '([^']+)' -ErrorAction Stop; '(success-[0-9a-f-]+)'$", text)
    if m:
        key = norm(m.group(1).replace("HKLM:", "HKLM"))
        if key not in machine.state["registry"]:
            return ExecResult(b"", f"Cannot find path '{m.group(1)}' because it does not exist.".encode(), 1)
        return ExecResult(f"\r\n    Hive: HKEY_LOCAL_MACHINE\\...\r\n\r\n{m.group(2)}\r\n".encode(), b"", 0)
    m = re.match(r"^(?:Set-StrictMode -Version Latest\s+)?Remove-Item '([^']+?)(?:\\\.)?' -Force(?: -Recurse)?"
                 r"(?: -ErrorAction SilentlyContinue)?;?$", text)
    if m:
        # ansible-core removing its remote temporary directory.
        target = norm(m.group(1))
        with machine.lock:
            for key in [k for k in machine.state["files"] if k == target or k.startswith(target + "\\")]:
                machine.state["files"].pop(key)
            machine.save()
        return ExecResult(b"", b"", 0)
    # A plain command line in PowerShell (e.g. "C:\Windows\System32\shutdown.exe /a").
    try:
        first = shlex.split(text, posix=False)[0] if text else ""
    except ValueError:
        first = ""
    if first.lower().endswith(".exe"):
        from tests.winsim import programs

        return programs.run_command_line(machine, text, env={}, cwd=None, user="", cancel=cancel)
    return refuse(f"cannot run this PowerShell (only recognised scripts are emulated): {text[:120]!r}")
