# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one semantics of task sequence conditions (ConfigMgr's operators), on the controller.

Internal to this collection: no compatibility promise.

Used by the steps (Set Dynamic Variables' variable rules), the ``tsvar`` test (the generated
playbooks' ``when:``), the sequence engine and the importer, so that a condition means the
same wherever it is evaluated:

* ``COMPARISONS`` / ``compare``: the one comparison table (operator -> predicate on the order).
* ``compare_text``: variables and registry data: numbers as numbers, other text without case.
* ``compare_versions``: file and OS versions, part by part as numbers; ``platform_version``
  reads ConfigMgr's padded OS platform keys (``6.10.0000.0`` is 6.1) as ConfigMgr means them.
* ``compare_times``: UTC timestamps (seconds since the epoch).
* ``like``: ``%``/``*`` any text, ``_``/``?`` one character, without case.
* ``normalize_architecture`` and ``product_type_matches``: the OS condition's platform keys.
"""

from __future__ import annotations

import fnmatch
import re

from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import TaskSequenceEnvironment

# ConfigMgr's variable condition operators (the option choices of the steps and tsvar).
OPERATORS = ["exists", "not_exists", "equals", "not_equals", "less", "less_equal",
             "greater", "greater_equal", "like"]
# ...and the negated like that Set Dynamic Variables rules and the cmdlets also know.
VARIABLE_OPERATORS = [*OPERATORS, "not_like"]
# The one comparison table: operator -> predicate on the order of left and right (-1, 0, 1).
COMPARISONS = {
    "equals": lambda order: order == 0,
    "not_equals": lambda order: order != 0,
    "less": lambda order: order < 0,
    "less_equal": lambda order: order <= 0,
    "greater": lambda order: order > 0,
    "greater_equal": lambda order: order >= 0,
}
ARCHITECTURES = {"x86": "x86", "i386": "x86", "i686": "x86", "32": "x86", "32-bit": "x86",
                 "x64": "x64", "amd64": "x64", "x86_64": "x64", "64": "x64", "64-bit": "x64",
                 "arm64": "arm64", "aarch64": "arm64"}
# Win32_OperatingSystem.ProductType: 1 workstation, 2 domain controller, 3 server.
PRODUCT_TYPES = {"client": (1,), "server": (2, 3)}


def _number(text) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _order(a, b) -> int:
    return (a > b) - (a < b)


def compare(order: int, operator: str) -> bool:
    """Whether ``operator`` holds for an order (negative: left is less, 0: equal, positive: greater)."""
    try:
        return COMPARISONS[operator](order)
    except KeyError:
        raise ValueError(f"'{operator}' is not a comparison; use one of {', '.join(COMPARISONS)}") from None


def compare_text(left, right, operator: str) -> bool:
    """Variables and registry data: numbers compare as numbers, anything else as case-insensitive text."""
    left, right = "" if left is None else str(left), "" if right is None else str(right)
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return compare(_order(a, b), operator)
    return compare(_order(left.casefold(), right.casefold()), operator)


def version_parts(text) -> tuple[int, ...]:
    """A version as numbers, at most four parts (``10.0.19045.3803`` -> (10, 0, 19045, 3803))."""
    parts = re.findall(r"\d+", str(text or ""))[:4]
    return tuple(int(p) for p in parts) or (0,)


def platform_version(text) -> str:
    """ConfigMgr's OS platform keys pad the minor version to two digits on the right
    (``6.10.0000.0`` is 6.1, ``6.30.9999.9999`` is 6.3, ``10.00.0000.0`` is 10.0): the usual form,
    ``6.1.0.0``, that compares with what the host reports."""
    parts = re.findall(r"\d+", str(text or ""))[:4]
    if len(parts) >= 2 and len(parts[1]) == 2 and parts[1].endswith("0"):
        parts[1] = parts[1][0]
    return ".".join(str(int(p)) for p in parts) or "0"


def compare_versions(left, right, operator: str) -> bool:
    """Versions part by part as numbers; missing parts count as 0 (``10.0`` equals ``10.0.0.0``)."""
    a, b = list(version_parts(left)), list(version_parts(right))
    width = max(len(a), len(b))
    a, b = a + [0] * (width - len(a)), b + [0] * (width - len(b))
    return compare(_order(a, b), operator)


def compare_times(left: int | float, right: int | float, operator: str) -> bool:
    """UTC timestamps, in seconds since the epoch (ConfigMgr compares file and folder times in UTC)."""
    return compare(_order(int(left), int(right)), operator)


def normalize_architecture(text) -> str | None:
    """``X86``, ``x64``, ``AMD64``, ``64-bit`` ... in any case -> ``x86`` / ``x64`` / ``arm64``; None if unknown."""
    return ARCHITECTURES.get(str(text or "").strip().lower())


def product_type_matches(wanted: str, product_type) -> bool:
    """``client`` is ProductType 1, ``server`` 2 (domain controller) or 3; also takes the
    names ansible.windows' setup reports (workstation, domain_controller, server)."""
    named = {"workstation": 1, "domain_controller": 2, "server": 3}
    value = named.get(str(product_type).lower()) if not isinstance(product_type, int) else product_type
    if value is None:
        value = int(_number(product_type) or 0)
    return value in PRODUCT_TYPES.get(str(wanted).lower(), ())


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
    return compare_text(current, value, operator)


def variable_leaf(env: TaskSequenceEnvironment, leaf: dict, field: str = "operator") -> bool:
    """A definition's ``variable`` condition node (its operators include ``not_like``)."""
    operator = leaf.get("operator", "equals")
    if operator == "not_like":
        # ConfigMgr: a variable that does not exist is not like anything.
        return env.get(leaf["name"]) is not None and not like(env.get(leaf["name"]), str(leaf.get("value") or ""))
    return variable_condition(env, leaf["name"], operator, leaf.get("value"), field=field)


# Registry keys ------------------------------------------------------------------------------

_HIVES = {"HKEY_LOCAL_MACHINE": "HKLM", "HKEY_CURRENT_USER": "HKCU", "HKEY_CLASSES_ROOT": "HKCR",
          "HKEY_USERS": "HKU", "HKEY_CURRENT_CONFIG": "HKCC"}


def registry_path(key: str) -> str:
    """ConfigMgr writes HKEY_LOCAL_MACHINE\\...; PowerShell's registry provider wants HKLM:\\..."""
    key = key.strip()   # "/" is a legal character in a key name (Content Type\\text/html): kept
    head, _sep, rest = key.partition("\\")
    hive = _HIVES.get(head.upper(), head.upper().rstrip(":"))
    return f"{hive}:\\{rest}" if rest else f"{hive}:\\"
