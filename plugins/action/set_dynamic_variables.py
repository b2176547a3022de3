# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Set Dynamic Variables: ConfigMgr's rules, matched on the controller against one inventory."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _inventory
from ansible_collections.tasksequence.windows.plugins.plugin_utils._conditions import (
    OPERATORS,
    variable_condition,
    wildcard,
)
from ansible_collections.tasksequence.windows.plugins.plugin_utils._secrets import MASK
from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import StepAction, StepOutcome
from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import check_name

VARIABLE_SPEC = {
    "name": {"type": "str", "required": True},
    "value": {"type": "raw", "default": "", "accept": (str, int, float, bool)},
    "hidden": {"type": "bool", "default": False},
}
RULE_FIELDS = {
    "computer": ("asset_tag", "uuid", "serial_number", "mac_address"),
    "location": ("default_gateway",),
    "make_model": ("make", "model"),
    "variable": ("variable", "operator", "value"),
}
# guess: ConfigMgr's list variables are written comma-separated.
LIST_SEPARATOR = ","


def _mac(text: str) -> str:
    return "".join(c for c in (text or "").upper() if c.isalnum())


def engine_variables(hw: dict) -> dict[str, str]:
    """The read-only variables the step sets from the inventory."""
    return {
        "_SMSTSMake": hw.get("make") or "",
        "_SMSTSModel": hw.get("model") or "",
        "_SMSTSMacAddresses": LIST_SEPARATOR.join(hw.get("mac_addresses") or []),
        "_SMSTSIPAddresses": LIST_SEPARATOR.join(hw.get("ip_addresses") or []),
        "_SMSTSSerialNumber": hw.get("serial_number") or "",
        "_SMSTSAssetTag": hw.get("asset_tag") or "",
        "_SMSTSUUID": hw.get("uuid") or "",
        "_SMSTSDefaultGateways": LIST_SEPARATOR.join(hw.get("default_gateways") or []),
    }


def rule_matches(rule: dict, hw: dict, env) -> bool:
    kind = rule["type"]
    if kind == "computer":
        # Any of the identifiers given may match.
        given = [(f, rule[f]) for f in RULE_FIELDS["computer"] if rule.get(f)]
        for field, wanted in given:
            if field == "mac_address":
                if _mac(wanted) in {_mac(m) for m in hw.get("mac_addresses") or []}:
                    return True
            elif (hw.get(field) or "").strip().lower() == wanted.strip().lower():
                return True
        return False
    if kind == "location":
        return rule["default_gateway"].strip() in (hw.get("default_gateways") or [])
    if kind == "make_model":
        return wildcard(hw.get("make"), rule.get("make") or "*") and wildcard(hw.get("model"), rule.get("model") or "*")
    return variable_condition(env, rule["variable"], rule["operator"], rule.get("value"), field="rules.operator")


class ActionModule(StepAction):
    ARGUMENT_SPEC = {
        "rules": {
            "type": "list", "elements": "dict", "default": [],
            "options": {
                "type": {"type": "str", "required": True, "choices": list(RULE_FIELDS)},
                "asset_tag": {"type": "str"},
                "uuid": {"type": "str"},
                "serial_number": {"type": "str"},
                "mac_address": {"type": "str"},
                "default_gateway": {"type": "str"},
                "make": {"type": "str"},
                "model": {"type": "str"},
                "variable": {"type": "str"},
                "operator": {"type": "str", "choices": OPERATORS, "default": "equals"},
                "value": {"type": "str"},
                "variables": {"type": "list", "elements": "dict", "required": True, "options": VARIABLE_SPEC},
            },
        },
        "variables": {"type": "list", "elements": "dict", "default": [], "options": VARIABLE_SPEC},
        "refresh_inventory": {"type": "bool", "default": False},
    }

    def check_args(self, args, env):
        for index, rule in enumerate(args["rules"]):
            where = f"rules[{index}]"
            kind = rule["type"]
            others = {f for fields in RULE_FIELDS.values() for f in fields} - set(RULE_FIELDS[kind]) - {"operator"}
            stray = sorted(f for f in others if rule.get(f))
            if stray:
                raise AnsibleActionFail(f"{where}: {', '.join(stray)} do not apply to a '{kind}' rule; "
                                        f"a '{kind}' rule uses {', '.join(RULE_FIELDS[kind])}.")
            if kind == "computer" and not any(rule.get(f) for f in RULE_FIELDS["computer"]):
                raise AnsibleActionFail(
                    f"{where}: a computer rule needs at least one of asset_tag, uuid, serial_number, mac_address."
                )
            if kind == "location" and not rule.get("default_gateway"):
                raise AnsibleActionFail(f"{where}: a location rule needs default_gateway.")
            if kind == "make_model" and not (rule.get("make") or rule.get("model")):
                raise AnsibleActionFail(f"{where}: a make_model rule needs make, model or both.")
            if kind == "variable":
                check_name(rule.get("variable"), f"{where}.variable", engine=True)
            for v_index, var in enumerate(rule["variables"]):
                check_name(var["name"], f"{where}.variables[{v_index}].name")
        for v_index, var in enumerate(args["variables"]):
            check_name(var["name"], f"variables[{v_index}].name")

    def run_step(self, args, env, task_vars):
        hw, gathered = _inventory.hardware(self, task_vars, refresh=args["refresh_inventory"])
        for name, value in engine_variables(hw).items():
            env.set(name, value, engine=True)
        variables: dict = {}
        matched: list[int] = []
        changed = False

        def apply(var_list):
            nonlocal changed
            for var in var_list:
                before = (env.get(var["name"]), env.is_hidden(var["name"]))
                stored = env.set(var["name"], env.expand(var["value"]), hidden=var["hidden"])
                changed = changed or before != (env.get(var["name"]), env.is_hidden(var["name"]))
                variables[stored or var["name"]] = MASK if var["hidden"] and stored else env.get(var["name"])

        # Rules in order, each seeing what the rules before it set, as ConfigMgr does.
        for index, rule in enumerate(args["rules"]):
            if rule_matches({k: env.expand(v) if isinstance(v, str) else v for k, v in rule.items()}, hw, env):
                matched.append(index)
                apply(rule["variables"])
        apply(args["variables"])
        return StepOutcome(
            succeeded=True, rc=0, changed=changed, variables=variables,
            fields={"matched_rules": matched, "inventory_gathered": gathered},
            facts={_inventory.FACT: hw},
        )
