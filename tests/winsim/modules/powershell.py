"""win_powershell on the simulated host: only the collection's own scripts (scripts.py)."""

from __future__ import annotations

from tests.winsim import scripts
from tests.winsim.modules._base import Opt, Spec

SPEC = Spec(
    options={
        "arguments": Opt(type="list", elements="str", emulated=False),
        "chdir": Opt(emulated=False),
        "creates": Opt(),
        "depth": Opt(type="int", default=2),
        "error_action": Opt(choices=("silently_continue", "continue", "stop"), default="continue"),
        "executable": Opt(emulated=False),
        "parameters": Opt(type="dict"),
        "path": Opt(emulated=False),
        "sensitive_parameters": Opt(
            type="list", elements="dict",
            options={"name": Opt(required=True), "username": Opt(), "password": Opt(no_log=True),
                     "value": Opt(no_log=True)},
            sub_mutually_exclusive=(("value", "username"), ("value", "password")),
            sub_required_one_of=(("username", "value"),)),
        "remote_src": Opt(type="bool", default=False, emulated=False),
        "removes": Opt(),
        "script": Opt(),
    },
    required_one_of=(("path", "script"),),
    mutually_exclusive=(("path", "script"),),
)


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
