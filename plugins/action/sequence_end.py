# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The task_sequence role's last task: the run's outcome per host, and the checkpoint closed."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _engine


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        info = task_vars.get("__task_sequence_run") or {}
        if not info.get("journal"):
            raise AnsibleActionFail("sequence_end runs inside the tasksequence.windows.task_sequence role only.")
        journal = _engine.StateFile(os.path.dirname(info["journal"]), task_vars.get("inventory_hostname", "localhost"))
        journal.path = info["journal"]
        state = journal.load() or {}
        the_plan = _engine.load_plan(state["plan_path"])
        summary = _engine.summary(the_plan, state)
        if state.get("status") == "running":
            state["status"] = "failed" if summary["failed"] else "succeeded"
        state["ended"] = _engine.now()
        journal.save(state)
        result.update(changed=False, failed=summary["failed"], task_sequence=summary,
                      msg=f"{the_plan['name']}: {summary['status']} - " + ", ".join(
                          f"{n} {k}" for k, n in summary["counts"].items() if n))
        return result
