"""Emulation of the collection's own PowerShell scripts (plugins/plugin_utils/powershell).

win_powershell on the simulated host runs only these: a script is recognised by its first
line, ``# tasksequence.windows script: <id>``, and emulated here following the same
input/output contract as the real script (see CONTRACT.md and the .ps1 files).
Test fixture: never shipped. Where a detail of Windows is guessed the code says ``guess:``.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import ntpath
import re
import threading
import uuid

from tests.winsim import programs
from tests.winsim.machine import ExecResult, FsError

MARKER = "# tasksequence.windows script: "
# win_powershell's own test for [CmdletBinding(SupportsShouldProcess)] when it cannot parse the script.
_SHOULD_PROCESS = re.compile(r"\[CmdletBinding\((?:[\w=\$]+,\s*)?SupportsShouldProcess(?:\s*=\s*\$true)?"
                             r"(?:,\s*[\w=\$]+)?\)\]", re.IGNORECASE)
_CULTURES = {1033: "en-US", 1031: "de-DE", 2057: "en-GB", 1036: "fr-FR", 1041: "ja-JP", 3082: "es-ES", 1043: "nl-NL"}


@dataclasses.dataclass
class ScriptResult:
    output: list = dataclasses.field(default_factory=list)
    errors: list = dataclasses.field(default_factory=list)
    host_out: str = ""
    host_err: str = ""
    failed: bool = False        # a terminating error (or $Ansible.Failed)
    changed: bool = True        # $Ansible.Changed defaults to true


def error_record(message: str, *, category: str = "NotSpecified", category_id: int = 0,
                 fqid: str = "RuntimeException", exception_type: str = "System.Management.Automation.RuntimeException",
                 target: str | None = None) -> dict:
    """One entry of win_powershell's ``error`` list (the keys its module returns)."""
    return {
        "output": f"{message}\r\n    + CategoryInfo          : {category}: (:) [], RuntimeException\r\n"
                  f"    + FullyQualifiedErrorId : {fqid}\r\n \r\n",
        "error_details": None,
        "exception": {"message": message, "type": exception_type, "help_link": None, "source": None,
                      "hresult": -2146233087},
        "target_object": target,
        "category_info": {"category": category, "category_id": category_id, "activity": "", "reason": "RuntimeException",
                          "target_name": "", "target_type": ""},
        "fully_qualified_error_id": fqid,
        "script_stack_trace": "at <ScriptBlock>, <No file>: line 1",
        "pipeline_iteration_info": [],
    }


def script_id(script: str) -> str | None:
    first = (script or "").lstrip("\ufeff").split("\n", 1)[0].strip()
    return first[len(MARKER):].strip() if first.startswith(MARKER) else None


def supports_check_mode(script: str) -> bool:
    """What win_powershell looks for before running a script in check mode."""
    return bool(_SHOULD_PROCESS.search(script or ""))


def run(machine, sid: str, params: dict, inv, cancel) -> ScriptResult:
    """One project script, by id."""
    handler = SCRIPTS.get(sid)
    if handler is None:
        msg = f"simulated host: the collection script '{sid}' is not emulated"
        return ScriptResult(errors=[error_record(msg)], failed=True)
    machine.count("scripts", sid)
    return handler(machine, params, inv, cancel)


# hardware_inventory -------------------------------------------------------------------------

def hardware_inventory(machine, params, inv, cancel) -> ScriptResult:
    if params:
        return ScriptResult(errors=[error_record(f"A parameter cannot be found that matches parameter name "
                                                 f"'{next(iter(params))}'.", category="InvalidArgument",
                                                 fqid="NamedParameterNotFound,hardware_inventory")], failed=True)
    st = machine.state
    hw, os_ = st["hardware"], st["os"]
    adapters = [{"name": a["name"], "mac": a["mac"], "connected": bool(a["connected"]), "wireless": bool(a["wireless"]),
                 "ip_addresses": list(a.get("ip_addresses") or []) + list(a.get("ipv6_addresses") or []),
                 "default_gateways": list(a.get("default_gateways") or [])}
                for a in st["network_adapters"]]
    drive = (st["environment"].get("SystemDrive") or "C:")[0].upper()
    system = next((d for d in st["disks"] if d["letter"].upper() == drive), st["disks"][0])
    firmware = machine.reg_value("HKLM\\SYSTEM\\CurrentControlSet\\Control", "PEFirmwareType")
    uefi = bool(firmware and firmware.get("data") == 2)
    # A desktop has no battery to ask; a laptop answers with its power line state.
    on_ac = True if hw.get("form") != "laptop" else bool(hw.get("on_ac_power", True))
    tpm = dict(hw.get("tpm") or {"present": False, "spec_version": None, "enabled": False, "activated": False})
    lcid = int(os_["lcid"])
    return ScriptResult(output=[{
        "boot_time": machine.boot_time_text(),
        "computer_name": st["environment"].get("COMPUTERNAME", st["hostname"]),
        "make": hw["make"], "model": hw["model"], "serial_number": hw["serial_number"],
        "asset_tag": hw["asset_tag"], "uuid": hw["uuid"],
        "mac_addresses": [a["mac"] for a in adapters],
        "ip_addresses": [ip for a in adapters for ip in a["ip_addresses"]],
        "default_gateways": [gw for a in adapters for gw in a["default_gateways"]],
        "memory_mb": int(hw["memory_mb"]), "cpu_mhz": int(hw["cpu"]["mhz"]),
        "system_drive_free_mb": int(system["free_mb"]),
        "os": {"caption": os_["caption"], "version": os_["version"], "product_type": os_["product_type"],
               "architecture": os_["architecture"], "language": _CULTURES.get(lcid, os_.get("language")),
               "lcid": lcid},
        "configmgr_client_version": st.get("configmgr_client_version"),
        "on_ac_power": on_ac,
        "network_adapters": adapters,
        "uefi": uefi,
        "tpm": tpm,
    }], changed=True)


# run_process -------------------------------------------------------------------------------

def _param_error(message: str) -> ScriptResult:
    return ScriptResult(errors=[error_record(message)], failed=True)


def run_process(machine, params, inv, cancel) -> ScriptResult:
    unknown = set(params) - {"payload_json", "sensitive_payload", "working_directory", "timeout_seconds",
                             "redirect_wow64"}
    if unknown:
        return _param_error(f"A parameter cannot be found that matches parameter name '{sorted(unknown)[0]}'.")
    text = params.get("sensitive_payload") or params.get("payload_json")
    try:
        payload = json.loads(text) if text else None
        if not isinstance(payload, dict):
            raise ValueError("not a JSON object")
    except ValueError as e:
        # ConvertFrom-Json under $ErrorActionPreference = 'Stop': a terminating error.
        return _param_error(f"Invalid JSON primitive: {e}" if text else
                            "Cannot bind argument to parameter 'InputObject' because it is null.")
    user = inv.run_as
    env = programs.process_env(machine, inv.environment, user)
    for name, value in (payload.get("environment") or {}).items():
        for existing in [k for k in env if k.lower() == str(name).lower()]:
            del env[existing]
        env[str(name)] = "" if value is None else str(value)
    command_line = str(payload.get("command_line") or "")
    temp_script = None
    ps = payload.get("powershell")
    if ps:
        target = str(ps.get("script_path") or "")
        if ps.get("script_text"):
            # [IO.Path]::GetTempPath() of the account, UTF-8 with a BOM, as the real script writes it.
            temp_script = f"{machine.user_env(user)['TEMP']}\\ts-{uuid.uuid4()}.ps1"
            machine.fs_write(temp_script, b"\xef\xbb\xbf" + str(ps["script_text"]).encode("utf-8"))
            target = temp_script
        invoke = "try {{ & '{0}' {1}; exit [int]$LASTEXITCODE }} catch {{ [Console]::Error.WriteLine($_); exit 1 }}"
        invoke = invoke.format(target.replace("'", "''"), str(ps.get("arguments") or ""))
        encoded = base64.b64encode(invoke.encode("utf-16-le")).decode()
        policy = f"-ExecutionPolicy {ps['execution_policy']} " if ps.get("execution_policy") else ""
        command_line = f"powershell.exe -NoLogo -NoProfile -NonInteractive {policy}-EncodedCommand {encoded}"
    file, arguments = programs.split_program(command_line)
    working_directory = params.get("working_directory") or None
    module_env = programs.process_env(machine, inv.environment, user)   # the script's own $env:PATH
    if not ntpath.splitext(file)[1]:
        # As ConfigMgr (and the script): .com, .exe, then .bat, in the working directory and then on PATH.
        folders = [f for f in [working_directory, *(programs.env_get(module_env, "PATH") or "").split(";")] if f]
        if re.match(r"^([A-Za-z]:)?\\", file):
            folders = [ntpath.dirname(file)]
        for ext in (".com", ".exe", ".bat"):
            hit = next((ntpath.join(f, ntpath.basename(file) + ext) for f in folders
                        if machine.fs_isfile(ntpath.join(f, ntpath.basename(file) + ext))), None)
            if hit:
                file = hit
                break
    if re.search(r"(?i)\.(bat|cmd)$", file):
        arguments = f'/c ""{file}" {arguments}"'
        file = ntpath.join(programs.env_get(module_env, "SystemRoot", "C:\\Windows"), "System32\\cmd.exe")
    if params.get("redirect_wow64") and machine.state["os"]["architecture"].startswith("64"):
        file = re.sub(r"(?i)\\System32\\", r"\\SysWOW64\\", file)
    result = {"rc": None, "stdout": "", "stderr": "", "timed_out": False, "command_found": True}
    cwd = working_directory or machine.user_env(user)["USERPROFILE"]   # guess: the module's current directory
    ctx = programs.Context(machine, env, cwd, user, cancel, session=inv.session)
    try:
        if working_directory and not machine.fs_isdir(working_directory):
            raise programs.ProgramNotFound("The directory name is invalid", 267)
        path, rec = programs.resolve(ctx, file)
        res = _with_timeout(ctx, lambda c: programs.run_file(c, path, rec, arguments),
                            int(params.get("timeout_seconds") or 0))
        if res is None:
            result["timed_out"] = True
        else:
            result.update(rc=res.rc, stdout=res.stdout.decode("utf-8", "replace"),
                          stderr=res.stderr.decode("utf-8", "replace"))
    except programs.ProgramNotFound as e:
        result.update(command_found=False, stderr=str(e).rstrip("."))
    finally:
        if temp_script:
            try:
                machine.fs_remove(temp_script)
            except FsError:   # pragma: no cover - Remove-Item -ErrorAction SilentlyContinue
                pass
    return ScriptResult(output=[result], changed=True)


def _with_timeout(ctx, job, timeout: int) -> ExecResult | None:
    """Run the job; with a timeout, kill it (its simulated work stops) when time runs out: None."""
    if not timeout:
        return job(ctx)
    own_cancel = threading.Event()
    child = ctx.child(cancel=own_cancel)
    box: dict = {}

    def target():
        try:
            box["res"] = job(child)
        except BaseException as e:   # handed to the caller's thread
            box["error"] = e

    def relay():   # a terminate or a restart of the outer command reaches the process too
        while not own_cancel.is_set():
            if ctx.cancel.wait(0.1):
                own_cancel.set()

    threading.Thread(target=relay, daemon=True).start()
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        own_cancel.set()   # taskkill /T /F: the process tree stops
        worker.join(10)
        return None
    own_cancel.set()       # ends the relay thread
    if "error" in box:
        raise box["error"]
    return box["res"]


SCRIPTS = {"hardware_inventory": hardware_inventory, "run_process": run_process}
