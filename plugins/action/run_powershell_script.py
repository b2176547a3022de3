# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run PowerShell Script: powershell.exe through ansible.windows.win_command, so the script's
exit code is the step's; the call itself is the collection's run_script.ps1."""

from __future__ import annotations

import base64
import json
import ntpath
import re

from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import (
    DEFAULT_SUCCESS_CODES,
    RUN_AS_SPEC,
    StepAction,
    kind_of,
    package_location,
    project_script,
)

POLICIES = ["AllSigned", "Bypass", "Undefined"]
POLICY_VARIABLE = "PSExecutionPolicyPreference"
HIDDEN_PARAMETERS = "<parameters not logged: set log_parameters to show them>"
PARAMETER_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
# powershell.exe's command line holds the base64 of run_script.ps1; CreateProcess allows 32767 characters.
MAX_COMMAND_LINE = 32767


def check_parameters(parameters) -> None:
    """A ConfigMgr parameter string, or a dict of name: JSON value (splatted, never parsed)."""
    if parameters is None or isinstance(parameters, str):
        return
    if not isinstance(parameters, dict):
        raise AnsibleActionFail(
            f"parameters: is a {kind_of(parameters)}; give a string in ConfigMgr's form "
            "(-Name 'value' -Switch) or a dictionary of parameter name: value."
        )
    for name, value in parameters.items():
        if not isinstance(name, str) or not re.match(PARAMETER_NAME, name):
            raise AnsibleActionFail(f"parameters: '{name}' is not a PowerShell parameter name (letters, digits, _).")
        _check_value(f"parameters.{name}", value)


def _check_value(field: str, value) -> None:
    if value is None or isinstance(value, (str, bool, int, float)):
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_value(f"{field}[{i}]", item)
        return
    raise AnsibleActionFail(f"{field}: a {kind_of(value)} cannot be passed to a script parameter; "
                            "give a string, number, boolean (switch), null or a list of those.")


class ActionModule(StepAction):
    ARGUMENT_SPEC = {
        "script": {"type": "str"},
        "script_name": {"type": "str"},
        "package_id": {"type": "str"},
        "parameters": {"type": "raw"},
        "execution_policy": {"type": "str", "choices": POLICIES, "default": "Bypass"},
        "output_variable": {"type": "str"},
        "start_in": {"type": "str"},
        "success_codes": {"type": "list", "elements": "int", "default": DEFAULT_SUCCESS_CODES},
        "timeout": {"type": "int"},
        "log_parameters": {"type": "bool", "default": False},
        **RUN_AS_SPEC,
    }
    MUTUALLY_EXCLUSIVE = [("script", "script_name"), ("script", "package_id")]
    REQUIRED_ONE_OF = [("script", "script_name")]
    REQUIRED_TOGETHER = [("run_as_user", "run_as_password")]
    EXPAND = ("script_name", "start_in", "run_as_user")

    def check_args(self, args, env):
        if args["script"] is not None and not args["script"].strip():
            raise AnsibleActionFail("script: is empty; give the PowerShell code to run, or use script_name.")
        if args["script_name"] and not args["script_name"].lower().endswith(".ps1"):
            raise AnsibleActionFail(f"script_name: '{args['script_name']}' must name a .ps1 file.")
        params = args["parameters"]
        check_parameters(params)
        # %Name% expands in the string form (ConfigMgr's), and in the dict's string values,
        # which are then splatted as data: a value is never quoted into code.
        if isinstance(params, str):
            args["parameters"] = env.expand(params.strip()) or None
        elif isinstance(params, dict):
            args["parameters"] = {k: _expand_value(env, v) for k, v in params.items()}

    def run_step(self, args, env, task_vars):
        script_text, script_path = args["script"], None
        if args["script_name"] and args["package_id"]:
            # The script is in the package content already on the host.
            script_path = ntpath.join(package_location(task_vars, args["package_id"]), args["script_name"])
        elif args["script_name"]:
            try:
                path = self._find_needle("files", args["script_name"])
            except Exception:
                raise AnsibleActionFail(
                    f"script_name: '{args['script_name']}' was not found on the controller (looked in the "
                    "role/playbook 'files' folders); give package_id to run it from package content instead."
                ) from None
            script_text = self._loader.get_text_file_contents(path)
        policy = None if args["execution_policy"] == "Undefined" else args["execution_policy"]
        params = args["parameters"]
        call = project_script("run_script")
        argv = ["powershell.exe", "-NoLogo", "-NoProfile", "-NonInteractive"]
        if policy:
            argv += ["-ExecutionPolicy", policy]
        argv += ["-EncodedCommand", base64.b64encode(call.encode("utf-16-le")).decode("ascii")]
        if sum(len(a) + 3 for a in argv) > MAX_COMMAND_LINE:   # pragma: no cover - the script is small
            raise AnsibleActionFail("run_script.ps1 no longer fits a Windows command line")
        shown = params if args["log_parameters"] or not params else HIDDEN_PARAMETERS
        if isinstance(shown, dict):
            shown = json.dumps(shown)
        shown_policy = f" -ExecutionPolicy {policy}" if policy else ""
        target = script_path or args["script_name"] or "<inline script>"
        return self.run_command(
            args, env, task_vars,
            display_cmd=f"powershell.exe{shown_policy} & '{target}' {shown or ''}".rstrip(),
            argv=argv,
            stdin=json.dumps({"script": script_text, "path": script_path, "parameters": params}),
            chdir=args["start_in"],
            sensitive=bool(params) and not args["log_parameters"],
            # Ansible's module host runs with PSExecutionPolicyPreference=Unrestricted, which a
            # child powershell.exe inherits: Undefined must leave the machine's policy in force.
            extra_environment={POLICY_VARIABLE: ""} if policy is None else None,
        )


def _expand_value(env, value):
    if isinstance(value, str):
        return env.expand(value)
    if isinstance(value, list):
        return [_expand_value(env, v) for v in value]
    return value
