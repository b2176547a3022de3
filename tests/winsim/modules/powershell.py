"""win_powershell on the simulated host: only the collection's own scripts (scripts.py)."""

from __future__ import annotations

from tests.winsim import scripts
from tests.winsim.modules._base import Emulated

# The options from ansible.windows' win_powershell.ps1 $spec (upstream.py); these are not emulated.
SPEC = Emulated("win_powershell", not_emulated=("arguments", "chdir", "executable", "path", "remote_src"))


def run(mod) -> None:
    p = mod.params
    mod.result.update(result={}, host_out="", host_err="", output=[], error=[], warning=[], verbose=[], debug=[],
                      information=[])
    if p["creates"] and mod.machine.fs_exists(mod.expand_path(p["creates"])):
        mod.result["msg"] = f"skipped, since {p['creates']} exists"
        mod.exit_json()
    if p["removes"] and not mod.machine.fs_exists(mod.expand_path(p["removes"])):
        mod.result["msg"] = f"skipped, since {p['removes']} does not exist"
        mod.exit_json()
    script = p["script"] or ""
    sid = scripts.script_id(script)
    if sid is None:
        mod.fail_json("simulated host: cannot run arbitrary PowerShell; win_powershell runs only the collection's "
                      "scripts (first line '# tasksequence.windows script: <id>')")
    if mod.check_mode and not scripts.supports_check_mode(script):
        mod.result.update(changed=True, msg="skipped, running in check mode")
        mod.exit_json()
    params = dict(p["parameters"] or {})
    for item in p["sensitive_parameters"] or []:
        if item.get("username") is not None:
            params[item["name"]] = {"username": item["username"], "password": item.get("password")}
        else:
            params[item["name"]] = item.get("value")   # a SecureString for the script
    res = scripts.run(mod.machine, sid, params, mod.inv, mod.cancel)
    mod.result.update(output=res.output, error=res.errors, host_out=res.host_out, host_err=res.host_err,
                      changed=res.changed)
    if res.failed:
        mod.result["failed"] = True
        if sid not in scripts.SCRIPTS:
            mod.result["msg"] = res.errors[0]["exception"]["message"]
