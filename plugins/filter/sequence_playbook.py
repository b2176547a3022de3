# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import (
    SequenceImportError,
    definition_yaml,
    playbook_text,
)
from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer.validate import validate

DOCUMENTATION = r"""
name: sequence_playbook
short_description: Write a sequence definition as a readable playbook
version_added: 0.1.0
description:
- Returns the text of a standalone playbook that runs the sequence with the step modules directly. Groups
  become blocks, variable conditions C(when:), host conditions check tasks before the step, continue-on-error
  the steps' own option (or a C(rescue) for groups); placeholders and disabled steps stay, skipped, with
  their reason.
- Every string that came from the export is written with Ansible's C(!unsafe) tag, so Jinja never evaluates it.
options:
  _input:
    description: A sequence definition (the output of P(tasksequence.windows.from_configmgr#filter)).
    type: dict
    required: true
  hosts_var:
    description: Variable that holds the play's host pattern (default C(windows)).
    type: str
    default: tasksequence_hosts
  output:
    description:
    - C(playbook) for the playbook; C(definition) for the definition itself as YAML, its export strings tagged
      C(!unsafe) so that reading the file back (for example with C(include_vars)) keeps them inert.
    type: str
    choices: [playbook, definition]
    default: playbook
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


def sequence_playbook(definition, hosts_var="tasksequence_hosts", output="playbook"):
    if not isinstance(definition, dict) or "steps" not in definition:
        raise AnsibleFilterError("sequence_playbook: give a sequence definition (the output of from_configmgr).")
    if not isinstance(hosts_var, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", hosts_var):
        raise AnsibleFilterError(f"sequence_playbook: hosts_var {hosts_var!r} is not a variable name.")
    if output not in ("playbook", "definition"):
        raise AnsibleFilterError(f"sequence_playbook: output {output!r} is not playbook or definition.")
    try:
        if output == "definition":
            validate(definition, "the sequence definition")
            return definition_yaml(definition)
        return playbook_text(definition, hosts_var)
    except SequenceImportError as e:
        raise AnsibleFilterError(f"sequence_playbook: {e}") from None


class FilterModule:
    def filters(self):
        return {"sequence_playbook": sequence_playbook}
