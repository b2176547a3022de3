# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check Readiness: every check runs, each result lands in _TS_CR*, then the step fails (4316)."""

from __future__ import annotations

import re

from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _inventory
from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import StepAction, StepOutcome

NOT_READY_RC = 4316
VERSION_RE = re.compile(r"^\d+(\.\d+){0,3}$")


def version(text) -> tuple[int, ...]:
    return tuple(int(p) for p in str(text).split("."))


def _tpm2(hw) -> dict:
    tpm = hw.get("tpm") or {}
    return tpm if tpm.get("present") and str(tpm.get("spec_version") or "").startswith("2.") else {}


def _language_matches(os_info: dict, wanted: str) -> bool:
    wanted = str(wanted).strip().lower()
    return wanted in {str(os_info.get("language") or "").lower(), str(os_info.get("lcid") or "")}


def _adapters(hw) -> list[dict]:
    return hw.get("network_adapters") or []


def _at_least(key):
    return lambda hw, wanted: (hw.get(key) or 0) >= wanted


def _os_type(hw) -> str:
    return "client" if hw["os"].get("product_type") == "workstation" else "server"


def _arch(hw) -> str:
    return "x64" if "64" in str(hw["os"].get("architecture")) else "x86"


def _connected(hw) -> bool:
    return any(a.get("connected") for a in _adapters(hw))


def _wired(hw) -> bool:
    return any(a.get("connected") and not a.get("wireless") for a in _adapters(hw))


# option -> (variable, what was found, whether it passes given the wanted value)
CHECKS = {
    "memory_mb": ("_TS_CRMEMORY", lambda hw: hw.get("memory_mb"), _at_least("memory_mb")),
    "cpu_speed_mhz": ("_TS_CRSPEED", lambda hw: hw.get("cpu_mhz"), _at_least("cpu_mhz")),
    "free_disk_mb": ("_TS_CRDISK", lambda hw: hw.get("system_drive_free_mb"), _at_least("system_drive_free_mb")),
    "os_type": ("_TS_CROSTYPE", _os_type, lambda hw, wanted: _os_type(hw) == wanted),
    "architecture": ("_TS_CRARCH", _arch, lambda hw, wanted: _arch(hw) == wanted),
    "min_os_version": ("_TS_CRMINOSVER", lambda hw: hw["os"].get("version"),
                       lambda hw, wanted: version(hw["os"].get("version")) >= version(wanted)),
    "max_os_version": ("_TS_CRMAXOSVER", lambda hw: hw["os"].get("version"),
                       lambda hw, wanted: version(hw["os"].get("version")) <= version(wanted)),
    "min_client_version": ("_TS_CRCLIENTMINVER", lambda hw: hw.get("configmgr_client_version"),
                           lambda hw, wanted: bool(hw.get("configmgr_client_version"))
                           and version(hw["configmgr_client_version"]) >= version(wanted)),
    "os_language": ("_TS_CROSLANGUAGE", lambda hw: hw["os"].get("language"),
                    lambda hw, wanted: _language_matches(hw["os"], wanted)),
    "ac_power": ("_TS_CRACPOWER", lambda hw: bool(hw.get("on_ac_power")), lambda hw, wanted: bool(hw.get("on_ac_power"))),
    "network_connected": ("_TS_CRNETWORK", _connected, lambda hw, wanted: _connected(hw)),
    "network_wired": ("_TS_CRWIRED", _wired, lambda hw, wanted: _wired(hw)),
    "uefi": ("_TS_CRUEFI", lambda hw: bool(hw.get("uefi")), lambda hw, wanted: bool(hw.get("uefi"))),
    "tpm_enabled": ("_TS_CRTPMENABLED", lambda hw: bool(_tpm2(hw).get("enabled")),
                    lambda hw, wanted: bool(_tpm2(hw).get("enabled"))),
    "tpm_activated": ("_TS_CRTPMACTIVATED", lambda hw: bool(_tpm2(hw).get("activated")),
                      lambda hw, wanted: bool(_tpm2(hw).get("activated"))),
}


BOOL_CHECKS = ("ac_power", "network_connected", "network_wired", "uefi", "tpm_enabled", "tpm_activated")
VERSION_OPTIONS = ("min_os_version", "max_os_version", "min_client_version")


class ActionModule(StepAction):
    ARGUMENT_SPEC = {
        "memory_mb": {"type": "int"},
        "cpu_speed_mhz": {"type": "int"},
        "free_disk_mb": {"type": "int"},
        "os_type": {"type": "str", "choices": ["client", "server"]},
        "architecture": {"type": "str", "choices": ["x86", "x64"]},
        "min_os_version": {"type": "str"},
        "max_os_version": {"type": "str"},
        "min_client_version": {"type": "str"},
        "os_language": {"type": "str"},
        **{name: {"type": "bool", "default": False} for name in BOOL_CHECKS},
        "refresh_inventory": {"type": "bool", "default": False},
    }

    def check_args(self, args, env):
        for name in ("memory_mb", "cpu_speed_mhz", "free_disk_mb"):
            if args[name] is not None and args[name] < 0:
                raise AnsibleActionFail(f"{name}: {args[name]} is negative; give a minimum of 0 or more.")
        for name in VERSION_OPTIONS:
            if args[name] is not None and not VERSION_RE.match(args[name]):
                raise AnsibleActionFail(f"{name}: '{args[name]}' is not a version; write it as 10.0.19045.")

    def enabled(self, args) -> list[str]:
        return [name for name in CHECKS if (args[name] is True if name in BOOL_CHECKS else args[name] is not None)]

    def run_step(self, args, env, task_vars):
        hw, gathered = _inventory.hardware(self, task_vars, refresh=args["refresh_inventory"])
        checks, failed, variables = {}, [], {}
        enabled = self.enabled(args)
        for name, (variable, measure, test) in CHECKS.items():
            if name not in enabled:
                env.delete(variable)   # blank: the check is off
                continue
            actual = measure(hw)
            passed = bool(test(hw, args[name]))
            checks[name] = {"required": args[name], "actual": actual, "passed": passed}
            env.set(variable, "1" if passed else "0", engine=True)
            variables[variable] = "1" if passed else "0"
            if not passed:
                failed.append(name)
        msg = ""
        if failed:
            details = ", ".join(f"{n} (required {checks[n]['required']}, found {checks[n]['actual']})" for n in failed)
            msg = f"the host is not ready: {details}"
        return StepOutcome(
            succeeded=not failed, rc=NOT_READY_RC if failed else 0, changed=False, msg=msg,
            variables=variables, facts={_inventory.FACT: hw},
            fields={"checks": checks, "failed_checks": failed, "inventory_gathered": gathered},
        )
