# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evaluate a task sequence condition, host checks included, with the engine's own semantics.

Generated playbooks use it for the conditions Ansible has no module to read (WMI queries, OS
language, installed software, file versions): the same code as the task_sequence role, so a
sequence means the same thing in both forms. At most one remote execution (host_query.ps1
through ansible.windows.win_powershell).
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _engine, _inventory, _secrets
from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import StepAction
from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import TaskSequenceEnvironment

ARGUMENT_SPEC = {"conditions": {"type": "dict", "required": True}}


class ActionModule(StepAction):
    """Not a step: it sets no _SMSTSLastAction* and changes nothing; it borrows the frame's remote calls."""

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True   # host_query is read-only: it runs in check mode too
        task_vars = task_vars or {}
        result = ActionBase.run(self, tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        node = _engine.plain(args["conditions"])
        env = TaskSequenceEnvironment.from_task_vars(task_vars)
        try:
            leaves = _engine.host_leaves(node)
            host, executions = _engine.ask_host(self, leaves, env, task_vars, task_vars.get(_inventory.FACT))
            trace: list[str] = []
            holds = _engine.evaluate(node, env, host, trace)
        except _engine.EngineError as e:
            raise AnsibleActionFail(_secrets.scrub_text(f"conditions: {e}", env.secrets())) from None
        result.update(changed=False, holds=holds, host_executions=executions,
                      trace=_secrets.scrub(trace, env.secrets()))
        return result
