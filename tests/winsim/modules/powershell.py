"""win_powershell on the simulated host: any script, executed from its text by the PowerShell
subset interpreter (pwsh.py), with win_powershell's binding, check mode and result conversions."""

from __future__ import annotations

from tests.winsim import programs, pwsh
from tests.winsim.modules._base import Emulated

# The options from ansible.windows' win_powershell.ps1 $spec (upstream.py); these are not emulated.
SPEC = Emulated("win_powershell", not_emulated=("arguments", "executable", "remote_src"))


def run(mod) -> None:
    """ansible.windows' win_powershell.ps1: creates/removes, check mode only for a script that declares
    SupportsShouldProcess, parameters by name (sensitive ones as SecureString / PSCredential), chdir,
    $ErrorActionPreference from error_action, and the result converted with its depth rules."""
    p = mod.params
    mod.result.update(result={}, host_out="", host_err="", output=[], error=[], warning=[], verbose=[], debug=[],
                      information=[])
    if p["creates"] and mod.machine.fs_exists(mod.expand_path(p["creates"])):
        mod.result["msg"] = f"skipped, since {p['creates']} exists"
        mod.exit_json()
    if p["removes"] and not mod.machine.fs_exists(mod.expand_path(p["removes"])):
        mod.result["msg"] = f"skipped, since {p['removes']} does not exist"
        mod.exit_json()
    script, path = p["script"], None
    if script is None:
        path = p["path"]
        if not mod.machine.fs_isfile(path):
            mod.fail_json(f"Could not find or access '{path}' on Windows host")
        script = mod.machine.fs_read(path).decode("utf-8-sig", "replace")
    should_process = pwsh.supports_should_process(script)
    if mod.check_mode and not should_process:
        mod.result.update(changed=True, msg="skipped, running in check mode")
        mod.exit_json()
    params = dict(p["parameters"] or {})
    for item in p["sensitive_parameters"] or []:
        if item.get("username"):
            params[item["name"]] = pwsh.PSCredential(item["username"], pwsh.SecureString(item.get("password") or ""))
        else:
            params[item["name"]] = pwsh.SecureString(item.get("value") or "")
    if should_process:
        # Last, so they win over the task's own values (as win_powershell.ps1 does).
        params.update(Confirm=False, WhatIf=mod.check_mode)
    user = mod.inv.run_as
    # guess: the module process starts in the account's profile folder, as a WinRM command does
    ctx = programs.Context(mod.machine, mod.env(), mod.machine.user_env(user)["USERPROFILE"], user, mod.cancel,
                           session=mod.inv.session)
    out = pwsh.run_hosted(ctx, script=script if path is None else None, path=path, parameters=params,
                          error_action=p["error_action"], depth=p["depth"], check_mode=mod.check_mode,
                          chdir=p["chdir"], tmpdir=mod.inv.args.get("_ansible_remote_tmp"),
                          verbosity=int(mod.inv.args.get("_ansible_verbosity") or 0))
    failed = out.pop("failed")
    mod.result.update(out)
    if failed:
        mod.result["failed"] = True
