# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hardware inventory that Set Dynamic Variables and Check Readiness share.

Internal to this collection: no compatibility promise.

Gathered by one small script (``powershell/hardware_inventory.ps1``) at most once per
boot and kept in the ``tsenv_hardware`` fact. It is gathered again when the host's boot
time (``ansible_lastboot`` from fresh facts, as after a reboot) is newer than the one it
was taken at, or when a step asks for a refresh.
"""

from __future__ import annotations

import datetime

FACT = "tsenv_hardware"


def _parse_time(text) -> datetime.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    text = text.strip().replace("Z", "+00:00").replace(" ", "T", 1)
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def is_current(cached, task_vars: dict) -> bool:
    """True while the cached inventory belongs to the host's current boot."""
    if not isinstance(cached, dict) or "boot_time" not in cached:
        return False
    booted = _parse_time(task_vars.get("ansible_lastboot"))
    taken = _parse_time(cached.get("boot_time"))
    if booted is None or taken is None:
        return True   # nothing tells us of a newer boot
    # Both are local time in 'u' form; setup derives its value from the tick count, so the
    # two can differ by a moment without a boot in between.
    return booted <= taken + datetime.timedelta(seconds=5)


def hardware(action, task_vars: dict, refresh: bool = False) -> tuple[dict, bool]:
    """(inventory, gathered_now): at most one remote execution."""
    cached = task_vars.get(FACT)
    if not refresh and is_current(cached, task_vars):
        return cached, False
    return action.run_project_script("hardware_inventory", {}, task_vars, sensitive=False), True
