# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.tasksequence.windows.plugins.plugin_utils._conditions import variable_condition
from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import TaskSequenceEnvironment

DOCUMENTATION = r"""
name: tsvar
short_description: Test a task sequence variable as a ConfigMgr condition does
version_added: 0.1.0
description:
  - True when the variable in the C(tsenv) dict satisfies the operator. Names are looked up without
    regard to case; numbers compare as numbers and other text without regard to case, as ConfigMgr does.
  - Hidden variables hold only the mask in C(tsenv); compare them in a step instead.
positional: name, operator, value
options:
  _input:
    description: The C(tsenv) fact.
    type: dict
    required: true
  name:
    description: Variable name.
    type: str
    required: true
  operator:
    description: ConfigMgr's variable condition operator.
    type: str
    choices: [exists, not_exists, equals, not_equals, less, less_equal, greater, greater_equal, like]
    default: equals
  value:
    description: The value compared with (not used by C(exists) / C(not_exists)).
    type: str
author:
  - Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Only on laptops
  ansible.builtin.debug:
    msg: laptop
  when: tsenv | default({}) is tasksequence.windows.tsvar('IsLaptop', 'equals', 'true')
"""

RETURN = r"""
_value:
  description: Whether the condition holds.
  type: bool
"""


def tsvar(tsenv, name, operator="equals", value=None):
    if not isinstance(tsenv, dict):
        raise AnsibleFilterError("tsvar: test the tsenv fact (a dict), "
                                 "e.g. tsenv | default({}) is tasksequence.windows.tsvar(...)")
    try:
        return variable_condition(TaskSequenceEnvironment(tsenv), name, operator, value)
    except Exception as e:
        raise AnsibleFilterError(f"tsvar: {e}") from e


class TestModule:
    def tests(self):
        return {"tsvar": tsvar}
