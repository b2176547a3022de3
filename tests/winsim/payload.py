"""Decode what a WinRM client asks the simulated host to run, and dispatch it.

* ``PowerShell ... -EncodedCommand <UTF-16LE base64>``:
  - ansible-core 2.19's ``bootstrap_wrapper.ps1``: the exec payload comes on stdin (bootstrap
    JSON, ``\\n\\0\\0\\0\\0\\n``, the exec manifest JSON, optionally ``\\n\\0\\0\\0\\0\\n`` and
    input). Its last action is ``module_wrapper.ps1`` (a module) or one of ansible-core's own
    scripts (``winrm_put_file.ps1``, ``winrm_fetch_file.ps1``, ``powershell_mkdtemp.ps1``,
    ``powershell_expand_user.ps1``);
  - win_reboot's raw commands and ansible-core's temp-dir removal, recognised by their shape;
  - anything else is run by the tiny PowerShell subset (``pwsh.py``), which refuses, with
    rc 1 and a message naming the line, whatever it does not understand.
* Any other command line goes to the simulated programs.

Test fixture: never shipped.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import hashlib
import json
import re
import threading

from tests.winsim.machine import LOGON_UI_KEY, ExecResult, FsError, Session, filetime, reg_norm

SEPARATOR = b"\n\0\0\0\0\n"
STRICT_PREFIX = "Set-StrictMode -Version Latest"
PRESERVE_RC = ("If (-not $?) { If (Get-Variable LASTEXITCODE -ErrorAction SilentlyContinue) { exit $LASTEXITCODE } "
               "Else { exit 1 } }")
CONSOLE_ENCODING = "try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding } catch {}"
_ENCODED = re.compile(r"^\s*\"?(?:[A-Za-z]:\\[^\"]*\\)?powershell(?:\.exe)?\"?\s+(.*?)-(?:EncodedCommand|enc|ec|e)\s+"
                      r"([A-Za-z0-9+/=]+)\s*$", re.IGNORECASE | re.DOTALL)
_MODULE_SCRIPT = re.compile(r"^ansible_collections\.([a-z0-9_]+)\.([a-z0-9_]+)\.plugins\.modules\.([a-z0-9_]+)\.ps1$",
                            re.IGNORECASE)
CORE_SCRIPTS = ("winrm_put_file.ps1", "winrm_fetch_file.ps1", "powershell_mkdtemp.ps1", "powershell_expand_user.ps1")
KNOWN_WRAPPERS = ("become_wrapper.ps1", "module_wrapper.ps1")
SERVICE_ACCOUNTS = ("SYSTEM", "NT AUTHORITY\\SYSTEM", "LOCAL SERVICE", "NETWORK SERVICE", "NT AUTHORITY\\LOCAL SERVICE",
                    "NT AUTHORITY\\NETWORK SERVICE")


@dataclasses.dataclass
class Invocation:
    """A module run: name, arguments, environment and the account it runs as."""

    name: str
    args: dict
    environment: dict
    user: str
    become_user: str | None = None
    session: Session | None = None

    @property
    def check_mode(self) -> bool:
        return bool(self.args.get("_ansible_check_mode"))

    @property
    def run_as(self) -> str:
        return self.become_user or self.user


def refuse(message: str, rc: int = 1) -> ExecResult:
    return ExecResult(b"", f"simulated host: {message}\r\n".encode(), rc)


def json_bytes(data) -> bytes:
    # ConvertTo-Json -Compress writes no spaces.
    return json.dumps(data, separators=(",", ":")).encode()


def decode_encoded(command_line: str) -> str | None:
    """The script of ``powershell ... -EncodedCommand <b64>``; None for other command lines, "" if undecodable."""
    match = _ENCODED.match(command_line)
    if not match:
        return None
    try:
        return base64.b64decode(match.group(2), validate=True).decode("utf-16-le")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@functools.cache
def _bootstrap_lines() -> tuple[str, ...] | None:
    """The installed ansible-core's bootstrap_wrapper.ps1, as _encode_script sends it."""
    try:
        from ansible.executor.powershell.module_manifest import _get_powershell_script
    except ImportError:   # pragma: no cover - the fixture always runs in the project's venv
        return None
    return tuple(_lines(_get_powershell_script("bootstrap_wrapper.ps1").decode()))


def unwrap(script: str) -> tuple[str, bool]:
    """(the script without what ansible-core's _encode_script adds, whether it ends with the preserve-rc suffix)."""
    lines, preserve = _lines(script), False
    if lines and lines[0] == STRICT_PREFIX:
        lines = lines[1:]
    if lines and lines[-1] == PRESERVE_RC:
        lines, preserve = lines[:-1], True
    if lines:
        # win_reboot appends the same test to its command: "<command>; If (-not $?) { ... }".
        m = re.match(r"^(.*?);\s*If \(-not \$\?\) \{.*\}$", lines[-1], re.IGNORECASE)
        if m:
            lines[-1], preserve = m.group(1), True
    return "\n".join(lines), preserve


def is_bootstrap(script: str) -> bool:
    expected = _bootstrap_lines()
    if expected is None:   # pragma: no cover
        return "$codeJson = foreach ($in in $input)" in script
    return tuple(unwrap(script)[0].splitlines()) == expected


def run(machine, command_line: str, stdin, *, user: str, cancel: threading.Event,
        session: Session | None = None) -> ExecResult:
    session = session or Session(user, machine.boot_id())
    script = decode_encoded(command_line)
    if script is None:
        from tests.winsim import programs

        return programs.run_command_line(machine, command_line, env={}, cwd=None, user=user, cancel=cancel,
                                         session=session)
    if script == "":
        machine.count("raw")
        return refuse("the -EncodedCommand is not base64 of UTF-16LE text")
    if is_bootstrap(script):
        return bootstrap(machine, stdin.read_all(timeout=300), user, cancel, session)
    machine.count("raw")
    return raw_script(machine, script, user, cancel, session)


# ansible-core's exec payload --------------------------------------------------------------

def split_payload(data: bytes) -> tuple[dict, dict, bytes]:
    """(bootstrap manifest, exec manifest, input for the action) of bootstrap_wrapper's stdin."""
    parts = data.split(SEPARATOR, 2)
    if len(parts) < 2:
        raise ValueError("the bootstrap wrapper got no exec manifest on stdin")
    try:
        boot, manifest = json.loads(parts[0]), json.loads(parts[1])
    except ValueError as e:
        raise ValueError(f"the exec payload on stdin is not JSON: {e}") from None
    if not isinstance(boot, dict) or boot.get("name") != "exec_wrapper" or not isinstance(manifest, dict) \
            or not isinstance(manifest.get("actions"), list):
        raise ValueError("stdin is not ansible-core 2.19's exec payload (exec_wrapper manifest, then actions)")
    return boot, manifest, parts[2] if len(parts) > 2 else b""


def module_name(script: str) -> str | None:
    """``ansible_collections.ansible.windows.plugins.modules.win_ping.ps1`` -> ``ansible.windows.win_ping``."""
    m = _MODULE_SCRIPT.match(script or "")
    return f"{m.group(1)}.{m.group(2)}.{m.group(3)}" if m else None


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text or ""))


def exec_wrapper_failure(message: str) -> ExecResult:
    """What exec_wrapper.ps1's Write-AnsibleErrorJson prints (and its exit code)."""
    return ExecResult(json_bytes({"failed": True, "msg": f"failure during exec_wrapper: {message}",
                                  "exception": message}), b"", 1)


def bootstrap(machine, data: bytes, user: str, cancel, session: Session) -> ExecResult:
    try:
        boot, manifest, extra = split_payload(data)
    except ValueError as e:
        machine.count("raw")
        return refuse(str(e))
    wrapper = boot.get("params") or {}
    actions = manifest["actions"]
    names = [a.get("name") for a in actions if isinstance(a, dict)]
    unknown = [n for n in names if n not in KNOWN_WRAPPERS and n not in CORE_SCRIPTS]
    if not actions or unknown or len(names) != len(actions):
        machine.count("raw")
        if "async_wrapper.ps1" in unknown:
            return refuse("async tasks (async_wrapper.ps1) are not emulated; run the task without async")
        return refuse(f"exec wrapper action(s) {', '.join(map(str, unknown)) or '(none)'} are not emulated")
    last = actions[-1]
    if last["name"] in CORE_SCRIPTS:
        machine.count("raw")
        return core_script(machine, last["name"], last.get("params") or {}, extra, user=user)
    params = last.get("params") or {}
    if not params.get("ForModule"):
        machine.count("raw")
        return refuse(f"running the PowerShell script '{params.get('Script')}' (Ansible's script action) is not emulated")
    name = module_name(params.get("Script") or "")
    if name is None:
        machine.count("raw")
        return refuse(f"cannot tell which module '{params.get('Script')}' is")
    machine.count("modules", name)
    minimum = wrapper.get("MinOSVersion")
    if minimum and _version_tuple(machine.state["os"]["version"]) < _version_tuple(minimum):
        return ExecResult(json_bytes({"failed": True, "msg": "This module cannot run on this OS as it requires a "
                                      f"minimum version of {minimum}, actual was {machine.state['os']['version']}"}), b"", 1)
    complex_args = {}
    for var in params.get("Variables") or []:
        if var.get("Name") == "complex_args":
            complex_args = var.get("Value") or {}
    become_user, run_session = None, session
    for action in actions[:-1]:
        if action["name"] == "become_wrapper.ps1":
            bparams = action.get("params") or {}
            become_user = str(bparams.get("BecomeUser") or "")
            failure = check_become(machine, become_user, (action.get("secure_params") or {}).get("BecomePassword"))
            if failure:
                return failure
            # A become is a new logon: its own session, with none of this one's connections.
            run_session = Session(machine.find_account(become_user) or become_user, session.boot_id)
    inv = Invocation(name, complex_args, {str(k): str(v) for k, v in (params.get("Environment") or {}).items()},
                     user, become_user, run_session)
    from tests.winsim import modules

    result = modules.run(machine, inv, cancel)
    return ExecResult(json_bytes(result), b"", 1 if result.get("failed") else 0)


def check_become(machine, user: str, password: str | None) -> ExecResult | None:
    """Ansible.Become's logon: LogonUser with a password, S4U without one."""
    if user.upper() in SERVICE_ACCOUNTS:
        return None
    account = machine.find_account(user)
    shown = user if "\\" in user or "@" in user else f".\\{user}"
    call = 'Exception calling "CreateProcessAsUser" with "9" argument(s): '   # guess: PowerShell's wrapping of it
    if account is None:
        # guess: the text for an account that does not exist
        return exec_wrapper_failure(call + f'"Failed to get SID for {user}: Some or all identity references could '
                                           'not be translated."')
    if password is None:
        return None   # S4U logon: an administrator's process needs no password
    if machine.accounts()[account] != password:
        return exec_wrapper_failure(call + f'"Failed to logon {shown} (The user name or password is incorrect, '
                                           'Win32ErrorCode 1326 - 0x0000052E)"')
    return None


def core_script(machine, name: str, params: dict, extra: bytes, *, user: str) -> ExecResult:
    """ansible-core's own helper scripts, run through the bootstrap wrapper."""
    env = machine.user_env(user)
    if name == "winrm_put_file.ps1":
        path = str(params.get("Path") or "")
        try:
            data = b"".join(base64.b64decode(line) for line in extra.split(b"\r\n") if line.strip())
        except (binascii.Error, ValueError):
            return refuse("winrm_put_file.ps1 got input that is not base64 lines")
        try:
            machine.fs_write(path, data)
        except FsError as e:
            # [File]::Create throws; the error record goes to stderr and the exit code is 1.
            return ExecResult(b"", f'Exception calling "Create" with "1" argument(s): "{e}"\r\n'.encode(), 1)
        return ExecResult(json_bytes({"sha1": hashlib.sha1(data).hexdigest()}) + b"\r\n", b"", 0)
    if name == "winrm_fetch_file.ps1":
        path = str(params.get("Path") or "")
        if machine.fs_isfile(path):
            data = machine.fs_read(path)
            offset, size = int(params.get("Offset", 0)), int(params.get("BufferSize", 524288))
            chunk = data[offset:offset + size]
            return ExecResult((base64.b64encode(chunk).decode() + "\r\n").encode() if chunk else b"", b"", 0)
        if machine.fs_isdir(path):
            return ExecResult(b"[DIR]\r\n", b"", 0)
        return ExecResult(b"", f"{path} does not exist\r\n".encode(), 1)
    if name == "powershell_mkdtemp.ps1":
        directory = expand_env(str(params.get("Directory") or "%TEMP%"), {**machine.state["environment"], **env})
        path = directory.rstrip("\\") + "\\" + str(params.get("Name") or "")
        try:
            if machine.fs_exists(path):
                raise FsError(f"An item with the specified name {path} already exists.")
            if not machine.fs_isdir(directory):
                raise FsError(f"Could not find a part of the path '{path}'.")
            machine.fs_mkdir(path)
        except FsError as e:
            return ExecResult(b"", f"New-Item : {e}\r\n".encode(), 1)
        return ExecResult(path.encode() + b"\r\n", b"", 0)
    if name == "powershell_expand_user.ps1":
        path, profile = str(params.get("Path") or ""), env["USERPROFILE"]
        if path == "~":
            path = profile
        elif path.startswith("~\\"):
            path = profile + "\\" + path[2:]
        return ExecResult(path.encode() + b"\r\n", b"", 0)
    return refuse(f"ansible-core script '{name}' is not emulated")   # pragma: no cover - filtered earlier


def expand_env(text: str, env: dict) -> str:
    """[Environment]::ExpandEnvironmentVariables: %NAME% (any case); unknown names stay."""
    lower = {k.lower(): v for k, v in env.items()}
    return re.sub(r"%([^%]+)%", lambda m: lower.get(m.group(1).lower(), m.group(0)), text)


# Raw PowerShell -----------------------------------------------------------------------------

# win_reboot's shutdown script (plugin_utils/_reboot.py), known by its shutdown.exe call.
_REBOOT = re.compile(r"\. \{ C:\\Windows\\System32\\shutdown\.exe /r /t (\d+) /c ('(?:[^']|'')*') \| Set-Variable stdout \} "
                     r"2>&1", re.IGNORECASE)
_REBOOT_REMOVE_KEY = re.compile(r"if \(\$True\) \{\s*Remove-Item -LiteralPath '([^']+)'", re.IGNORECASE)
_BOOT_TIME = ("(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime)"
              ".LastBootUpTime.ToFileTime()")
_TEST_COMMAND = re.compile(r"^Get-Item -LiteralPath '([^']+)' -ErrorAction Stop; '(success-[0-9a-f-]+)'$")
_REMOVE_TMP = re.compile(r"^Remove-Item '((?:[^']|'')+)' -Force( -Recurse)?;$")


def raw_script(machine, script: str, user: str, cancel, session: Session) -> ExecResult:
    """Raw PowerShell: win_reboot's commands and temp-dir removal by shape, else the subset."""
    text, preserve_rc = unwrap(script)
    if text.startswith(CONSOLE_ENCODING):
        text = text[len(CONSOLE_ENCODING):].lstrip("; \n")
    if text == _BOOT_TIME:
        return ExecResult(f"{filetime(machine.boot_time())}\r\n".encode(), b"", 0)
    m = _REBOOT.search(text)
    if m:
        return _reboot_command(machine, m, _REBOOT_REMOVE_KEY.search(text))
    m = _TEST_COMMAND.match(text)
    if m:
        return _logon_ui_test(machine, m.group(1), m.group(2))
    m = _REMOVE_TMP.match(text)
    if m:
        # ansible-core removing its remote temporary directory.
        machine.fs_remove(m.group(1).replace("''", "'"), recursive=True)
        return ExecResult(b"", b"", 0)
    from tests.winsim import programs, pwsh

    ctx = programs.Context(machine, programs.process_env(machine, None, user), machine.user_env(user)["USERPROFILE"],
                           user, cancel, session=session)
    return pwsh.Interpreter(ctx, source="raw command").run(text, [], raw=True, native_rc=preserve_rc)


def _reboot_command(machine, m: re.Match, remove: re.Match | None) -> ExecResult:
    """win_reboot's shutdown script: JSON {stdout, stderr, rc} of shutdown.exe /r."""
    if remove and reg_norm(remove.group(1)) == LOGON_UI_KEY:
        machine.reg_delete_key(remove.group(1))
    message = m.group(2)[1:-1].replace("''", "'")
    if machine.schedule_restart(int(m.group(1)), message):
        out = {"stdout": "", "stderr": "", "rc": 0}
    else:
        out = {"stdout": "", "stderr": "A system shutdown has already been scheduled.(1190)", "rc": 1190}
    return ExecResult(json_bytes(out) + b"\r\n", b"", 0)


def _logon_ui_test(machine, key: str, token: str) -> ExecResult:
    """win_reboot's test command: Get-Item on the LogonUI key, then its success token."""
    rec = machine.reg_key(key)
    if rec is None:
        msg = (f"Get-Item : Cannot find path '{key}' because it does not exist.\r\n"
               "    + CategoryInfo          : ObjectNotFound: (HKLM:\\SOFTWARE\\...\\AutoLogonChecked:String) [Get-Item], "
               "ItemNotFoundException\r\n"
               "    + FullyQualifiedErrorId : PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand\r\n")
        return ExecResult(b"", msg.encode(), 1)
    parent, _sep, leaf = rec["path"].rpartition("\\")
    listing = (f"\r\n\r\n    Hive: {parent}\r\n\r\n\r\nName                           Property\r\n"
               f"----                           --------\r\n{leaf}\r\n\r\n\r\n")
    return ExecResult(f"{listing}{token}\r\n".encode(), b"", 0)
