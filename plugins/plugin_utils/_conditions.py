# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Task sequence variable conditions (ConfigMgr's operators), evaluated on the controller.

Internal to this collection: no compatibility promise.
"""

from __future__ import annotations

import fnmatch
import re

from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import TaskSequenceEnvironment

OPERATORS = ["exists", "not_exists", "equals", "not_equals", "less", "less_equal",
             "greater", "greater_equal", "like"]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _compare(left: str, right: str) -> int:
    """Numbers compare as numbers, anything else as case-insensitive text."""
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    left, right = left.lower(), right.lower()
    return (left > right) - (left < right)


def like(value: str, pattern: str) -> bool:
    # guess: ConfigMgr's 'like' follows WQL (% and _); * and ? are accepted too, as users write them.
    regex = "".join(
        ".*" if c in "%*" else "." if c in "_?" else re.escape(c) for c in pattern
    )
    return re.fullmatch(regex, value, flags=re.IGNORECASE | re.DOTALL) is not None


def wildcard(value: str, pattern: str) -> bool:
    """Make and Model rules: * and ?, case-insensitive."""
    return fnmatch.fnmatchcase((value or "").lower(), (pattern or "").lower())


def variable_condition(env: TaskSequenceEnvironment, variable: str, operator: str, value: str | None,
                       field: str = "operator") -> bool:
    if operator not in OPERATORS:
        raise AnsibleActionFail(f"{field}: '{operator}' is not a variable operator; use one of {', '.join(OPERATORS)}.")
    current = env.get(variable)
    if operator == "exists":
        return current is not None
    if operator == "not_exists":
        return current is None
    if current is None:
        return False
    value = "" if value is None else str(value)
    if operator == "like":
        return like(current, value)
    order = _compare(current, value)
    return {
        "equals": order == 0,
        "not_equals": order != 0,
        "less": order < 0,
        "less_equal": order <= 0,
        "greater": order > 0,
        "greater_equal": order >= 0,
    }[operator]
