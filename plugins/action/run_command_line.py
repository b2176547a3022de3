# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run Command Line: one process on the host, ConfigMgr's rules for codes and variables."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import (
    DEFAULT_SUCCESS_CODES,
    RUN_AS_SPEC,
    StepAction,
    package_location,
)

MAX_COMMAND_LINE = 32000


class ActionModule(StepAction):
    ARGUMENT_SPEC = {
        "command_line": {"type": "str", "required": True},
        "start_in": {"type": "str"},
        "package_id": {"type": "str"},
        "success_codes": {"type": "list", "elements": "int", "default": DEFAULT_SUCCESS_CODES},
        "timeout": {"type": "int"},
        "output_variable": {"type": "str"},
        "disable_wow64_redirection": {"type": "bool", "default": False},
        **RUN_AS_SPEC,
    }
    MUTUALLY_EXCLUSIVE = [("start_in", "package_id")]
    REQUIRED_TOGETHER = [("run_as_user", "run_as_password")]
    EXPAND = ("command_line", "start_in", "output_variable", "run_as_user")

    def check_args(self, args, env):
        command = args["command_line"].strip()
        if not command:
            raise AnsibleActionFail("command_line: is empty; give the program to run and its arguments.")
        if len(command) > MAX_COMMAND_LINE:
            raise AnsibleActionFail(
                f"command_line: has {len(command)} characters; ConfigMgr allows at most {MAX_COMMAND_LINE}. "
                "Put the work in a script and run that."
            )

    def run_step(self, args, env, task_vars):
        working_directory = args["start_in"]
        if args["package_id"]:
            working_directory = package_location(task_vars, args["package_id"])
        command = args["command_line"].strip()
        return self.run_process(
            args, env, task_vars,
            command_line=command,
            display_cmd=command,
            working_directory=working_directory,
            redirect_wow64=not args["disable_wow64_redirection"],
        )
