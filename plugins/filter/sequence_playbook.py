# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsplaybook import playbook_text

DOCUMENTATION = r"""
name: sequence_playbook
short_description: Write a sequence definition as a readable playbook
version_added: 0.1.0
description:
- Returns the text of a standalone playbook that runs the sequence with the step modules directly. Groups
  become blocks, variable conditions C(when:), host conditions check tasks before the step, continue-on-error
  the steps' own option (or a C(rescue) for groups); placeholders and disabled steps stay, skipped, with
  their reason.
options:
  _input:
    description: A sequence definition (the output of M(tasksequence.windows.from_configmgr#filter)).
    type: dict
    required: true
  hosts_var:
    description: Variable that holds the play's host pattern (default C(windows)).
    type: str
    default: tasksequence_hosts
author:
- Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Write the playbook
  ansible.builtin.copy:
    content: "{{ sequence | tasksequence.windows.sequence_playbook }}"
    dest: deploy-apps.yml
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The playbook, as YAML text.
  type: str
"""


def sequence_playbook(definition, hosts_var="tasksequence_hosts"):
    if not isinstance(definition, dict) or "steps" not in definition:
        raise AnsibleFilterError("sequence_playbook: give a sequence definition (the output of from_configmgr).")
    return playbook_text(definition, hosts_var)


class FilterModule:
    def filters(self):
        return {"sequence_playbook": sequence_playbook}
