# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run PowerShell Script: powershell.exe -File with ConfigMgr's execution policy and parameters."""

from __future__ import annotations

import ntpath

from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import (
    DEFAULT_SUCCESS_CODES,
    RUN_AS_SPEC,
    StepAction,
    package_location,
)

POLICIES = ["AllSigned", "Bypass", "Undefined"]
HIDDEN_PARAMETERS = "<parameters not logged: set log_parameters to show them>"


def quote(value: str) -> str:
    """A PowerShell single-quoted literal."""
    return "'" + value.replace("'", "''") + "'"


def parameters_to_string(parameters) -> str:
    """ConfigMgr's parameter string, from either its own string form or a dict."""
    if parameters is None:
        return ""
    if isinstance(parameters, str):
        return parameters.strip()
    if not isinstance(parameters, dict):
        raise AnsibleActionFail(
            "parameters: give a string in ConfigMgr's form (-Name 'value' -Switch) or a dict of name: value."
        )
    parts = []
    for name, value in parameters.items():
        if not isinstance(name, str) or not name.replace("_", "").isalnum():
            raise AnsibleActionFail(f"parameters: '{name}' is not a valid PowerShell parameter name.")
        if value is True:
            parts.append(f"-{name}")
        elif value is False:
            parts.append(f"-{name}:$false")
        elif isinstance(value, (list, tuple)):
            parts.append(f"-{name} " + ",".join(quote(str(v)) for v in value))
        elif value is None:
            parts.append(f"-{name} $null")
        else:
            parts.append(f"-{name} {quote(str(value))}")
    return " ".join(parts)


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
    EXPAND = ("script_name", "start_in", "output_variable", "run_as_user")

    def check_args(self, args, env):
        if args["script"] is not None and not args["script"].strip():
            raise AnsibleActionFail("script: is empty; give the PowerShell code to run, or use script_name.")
        if args["script_name"] and not args["script_name"].lower().endswith(".ps1"):
            raise AnsibleActionFail(f"script_name: '{args['script_name']}' must name a .ps1 file.")
        params = parameters_to_string(args["parameters"])
        args["parameters"] = env.expand(params)

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
        shown_params = params if args["log_parameters"] or not params else HIDDEN_PARAMETERS
        shown_policy = f" -ExecutionPolicy {policy}" if policy else ""
        return self.run_process(
            args, env, task_vars,
            command_line=None,
            display_cmd=f"powershell.exe{shown_policy} & '{args['script_name'] or '<inline script>'}' {shown_params}".rstrip(),
            powershell={"script_text": script_text, "script_path": script_path, "arguments": params,
                        "execution_policy": policy},
            working_directory=args["start_in"],
            quiet=bool(params) and not args["log_parameters"],
        )
