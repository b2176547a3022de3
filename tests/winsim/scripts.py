"""Emulation of the collection's own PowerShell scripts (plugins/plugin_utils/powershell).

win_powershell on the simulated host runs only these: a script is recognised by its first
line, ``# tasksequence.windows script: <id>``, and emulated here following the same
input/output contract as the real script (see CONTRACT.md). Test fixture: never shipped.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid

from tests.winsim import programs, pwsh
from tests.winsim.machine import ExecResult, norm

MARKER = "# tasksequence.windows script: "


def script_id(script: str) -> str | None:
    first = (script or "").lstrip("\ufeff").split("\n", 1)[0].strip()
    return first[len(MARKER):].strip() if first.startswith(MARKER) else None


def supports_check_mode(script: str) -> bool:
    """What win_powershell looks for before running a script in check mode."""
    return "SupportsShouldProcess" in script


def run(machine, sid: str, params: dict, inv, cancel) -> tuple[list, list]:
    """(output objects, error records) of one project script."""
    handler = SCRIPTS.get(sid)
    if handler is None:
        return [], [{"message": f"simulated host: the collection script '{sid}' is not emulated"}]
    machine.count("scripts", sid)
    return handler(machine, params, inv, cancel)


def hardware_inventory(machine, params, inv, cancel):
    st = machine.state
    hw, os_ = st["hardware"], st["os"]
    adapters = [{"name": a["name"], "mac": a["mac"], "connected": a["connected"], "wireless": a["wireless"],
                 "ip_addresses": list(a["ip_addresses"]), "default_gateways": list(a["default_gateways"])}
                for a in st["network_adapters"]]
    system = next((d for d in st["disks"] if d["letter"].upper() == "C"), st["disks"][0])
    return [{
        "boot_time": machine.boot_time_text(),
        "computer_name": st["hostname"],
        "make": hw["make"], "model": hw["model"], "serial_number": hw["serial_number"],
        "asset_tag": hw["asset_tag"], "uuid": hw["uuid"],
        "mac_addresses": [a["mac"] for a in adapters],
        "ip_addresses": [ip for a in adapters for ip in a["ip_addresses"]],
        "default_gateways": [gw for a in adapters for gw in a["default_gateways"]],
        "memory_mb": hw["memory_mb"], "cpu_mhz": hw["cpu"]["mhz"], "system_drive_free_mb": system["free_mb"],
        "os": {"caption": os_["caption"], "version": os_["version"], "product_type": os_["product_type"],
               "architecture": os_["architecture"], "language": os_["language"], "lcid": os_["lcid"]},
        "configmgr_client_version": st.get("configmgr_client_version"),
        "on_ac_power": hw["on_ac_power"],
        "network_adapters": adapters,
        "uefi": hw["uefi"],
        "tpm": dict(hw["tpm"]),
    }], []


def run_process(machine, params, inv, cancel):
    payload = params.get("payload_json") or params.get("sensitive_payload")
    if not payload:
        return [], [{"message": "run_process: no payload_json or sensitive_payload parameter"}]
    data = json.loads(payload)
    env = programs.process_env(machine, {**inv.environment, **(data.get("environment") or {})})
    cwd = params.get("working_directory") or "C:\\Windows\\System32"
    if norm(cwd) not in machine.state["files"] or machine.state["files"][norm(cwd)]["type"] != "directory":
        return [], [{"message": f"The directory name is invalid: '{cwd}'"}]
    ctx = programs.Context(machine, env, cwd, inv.become_user or inv.user or "Administrator", cancel,
                           wow64=bool(params.get("redirect_wow64")))
    timeout = int(params.get("timeout_seconds") or 0)
    result = {"rc": None, "stdout": "", "stderr": "", "timed_out": False, "command_found": True}
    ps = data.get("powershell")
    temp = None
    if ps:
        # What the real script does: the script in a temp file, called from an encoded command.
        target = ps.get("script_path")
        if ps.get("script_text") is not None:
            temp = target = f"C:\\Windows\\Temp\\ts-{uuid.uuid4()}.ps1"
            body = ps["script_text"].encode("utf-8")
            with machine.lock:
                machine.state["files"][norm(temp)] = {
                    "path": temp, "type": "file", "size": len(body), "content_b64": base64.b64encode(body).decode()}

        def job():
            return pwsh.run_script_file(ctx, target, ps.get("arguments") or "", ps.get("execution_policy"))
    else:
        def job():
            return programs.start(ctx, data["command_line"])
    try:
        res = _with_timeout(ctx, job, timeout)
    except programs.ProgramNotFound as e:
        result.update(command_found=False, stderr=str(e))
        res = None
    finally:
        if temp:
            with machine.lock:
                machine.state["files"].pop(norm(temp), None)
                machine.save()
    if res == "timeout":
        result["timed_out"] = True
    elif res is not None:
        result.update(rc=res.rc, stdout=res.stdout.decode("utf-8", "replace"), stderr=res.stderr.decode("utf-8", "replace"))
    return [result], []


def _with_timeout(ctx, job, timeout):
    """Run the job; with a timeout, kill it (its simulated sleep ends) when time runs out."""
    if not timeout:
        return job()
    outer, own_cancel = ctx.cancel, threading.Event()
    ctx.cancel = own_cancel
    box: dict = {}

    def target():
        try:
            box["res"] = job()
        except programs.ProgramNotFound as e:
            box["nf"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        own_cancel.set()   # taskkill /T /F: the process tree stops
        t.join(5)
        return "timeout"
    if outer.is_set():
        return ExecResult(b"", b"", 1)
    if "nf" in box:
        raise box["nf"]
    return box["res"]


SCRIPTS = {"hardware_inventory": hardware_inventory, "run_process": run_process}
