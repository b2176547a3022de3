# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run Command Line: one process through ansible.windows.win_command, ConfigMgr's rules for codes."""

from __future__ import annotations

import ntpath
import re

from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _cmdline, _inventory
from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import (
    DEFAULT_SUCCESS_CODES,
    RUN_AS_SPEC,
    StepAction,
    package_location,
)

MAX_COMMAND_LINE = 32000


def host_is_32bit(task_vars: dict) -> bool:
    """Only what the controller already knows; a 64-bit OS is assumed otherwise."""
    hw = task_vars.get(_inventory.FACT)
    arch = str((hw or {}).get("os", {}).get("architecture") or task_vars.get("ansible_architecture") or "")
    return arch.startswith("32")


class ActionModule(StepAction):
    ARGUMENT_SPEC = {
        "command_line": {"type": "str", "required": True},
        "start_in": {"type": "str"},
        "package_id": {"type": "str"},
        "success_codes": {"type": "list", "elements": "int", "default": DEFAULT_SUCCESS_CODES},
        "timeout": {"type": "int"},
        "output_variable": {"type": "str"},
        "output_encoding": {"type": "str"},
        "disable_wow64_redirection": {"type": "bool", "default": False},
        **RUN_AS_SPEC,
    }
    REQUIRED_TOGETHER = [("run_as_user", "run_as_password")]
    EXPAND = ("command_line", "start_in", "run_as_user")

    def check_args(self, args, env):
        command = args["command_line"].strip()
        if not command:
            raise AnsibleActionFail("command_line: is empty; give the program to run and its arguments.")
        start_in = args["start_in"]
        if args["package_id"] and start_in and re.match(r"^([A-Za-z]:|\\\\|\\|/)", start_in):
            raise AnsibleActionFail(
                f"start_in: '{start_in}' is a full path; with package_id it is a folder inside the package "
                "content (ConfigMgr's 'Start in' relative to the package), such as bin\\x64."
            )
        if len(command) > MAX_COMMAND_LINE:
            raise AnsibleActionFail(
                f"command_line: has {len(command)} characters; ConfigMgr allows at most {MAX_COMMAND_LINE}. "
                "Put the work in a script and run that."
            )

    def run_step(self, args, env, task_vars):
        chdir = args["start_in"]
        if args["package_id"]:
            folder = package_location(task_vars, args["package_id"])
            chdir = ntpath.join(folder, chdir) if chdir else folder
        command = args["command_line"].strip()
        program, rest = _cmdline.split_program(command)
        original = program
        if not args["disable_wow64_redirection"] and not host_is_32bit(task_vars):
            # ConfigMgr runs the command from a 32-bit process: System32 is SysWOW64 to it.
            program = _cmdline.wow64_program(program)
        if program != original:
            command = (f'"{program}"' if " " in program else program) + (f" {rest}" if rest else "")
        return self.run_command(
            # Verbatim, as ConfigMgr hands it to CreateProcess. win_command looks for the program on
            # PATH and then in chdir (Resolve-ExecutablePath), so setup.exe in the package folder runs.
            args, env, task_vars, display_cmd=args["command_line"].strip(), cmd=command, chdir=chdir,
            output_encoding=args["output_encoding"],
        )
