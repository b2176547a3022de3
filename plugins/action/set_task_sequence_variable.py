# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Set Task Sequence Variable: controller only, nothing runs on the host."""

from __future__ import annotations

from ansible_collections.tasksequence.windows.plugins.plugin_utils._secrets import MASK
from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import StepAction, StepOutcome
from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import check_name, check_value


class ActionModule(StepAction):
    ARGUMENT_SPEC = {
        "name": {"type": "str", "required": True},
        "value": {"type": "raw", "default": "", "accept": (str, int, float, bool)},
        "hidden": {"type": "bool", "default": False},
    }
    EXPAND = ("value",)
    _requires_connection = False

    def check_args(self, args, env):
        check_name(args["name"], "name")
        check_value(args["name"], args["value"])

    def run_step(self, args, env, task_vars):
        name, value = args["name"], args["value"]
        before = env.get(name)
        was_hidden = env.is_hidden(name)
        stored = env.set(name, value, hidden=args["hidden"])
        if stored is None:
            return StepOutcome(succeeded=True, changed=before is not None,
                               msg=f"deleted {name}" if before is not None else f"{name} was not set",
                               variables={name: None})
        shown = MASK if args["hidden"] else value
        return StepOutcome(succeeded=True, changed=(before, was_hidden) != (value, args["hidden"]),
                           variables={stored: shown})
