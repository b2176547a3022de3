#!/usr/bin/python
# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Action-only module: the logic is in plugins/action/check_readiness.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: check_readiness
short_description: Check that a Windows host is ready (ConfigMgr's Check Readiness step)
version_added: 0.1.0
description:
  - Runs every check that is switched on, records each result in its read-only C(_TS_CR*)
    variable (C(1) passed, C(0) failed, unset when the check is off), then fails with return
    code C(4316) listing every failed check, as ConfigMgr does.
  - A check is on when its option is set (for the yes/no checks, when it is C(true)).
  - Uses the same once-per-boot inventory as M(tasksequence.windows.set_dynamic_variables).
options:
  memory_mb:
    description: Minimum memory in MB (C(_TS_CRMEMORY)).
    type: int
  cpu_speed_mhz:
    description: Minimum processor speed in MHz (C(_TS_CRSPEED)).
    type: int
  free_disk_mb:
    description: Minimum free space on the system drive in MB (C(_TS_CRDISK)).
    type: int
  os_type:
    description: The OS must be a client or a server OS (C(_TS_CROSTYPE)).
    type: str
    choices: [client, server]
  architecture:
    description: OS architecture (C(_TS_CRARCH)).
    type: str
    choices: [x86, x64]
  min_os_version:
    description: Minimum OS version, such as C(10.0.16299) (C(_TS_CRMINOSVER)).
    type: str
  max_os_version:
    description: Maximum OS version (C(_TS_CRMAXOSVER)).
    type: str
  min_client_version:
    description: Minimum ConfigMgr client version; a host without a client fails (C(_TS_CRCLIENTMINVER)).
    type: str
  os_language:
    description: OS language, as a culture name (C(en-US)) or LCID (C(1033)) (C(_TS_CROSLANGUAGE)).
    type: str
  ac_power:
    description: The host must be on AC power (C(_TS_CRACPOWER)).
    type: bool
    default: false
  network_connected:
    description: A network adapter must be connected (C(_TS_CRNETWORK)).
    type: bool
    default: false
  network_wired:
    description: A connected adapter must not be wireless (C(_TS_CRWIRED)).
    type: bool
    default: false
  uefi:
    description: The host must run in UEFI mode (C(_TS_CRUEFI)).
    type: bool
    default: false
  tpm_enabled:
    description: A TPM 2.0 must be enabled (C(_TS_CRTPMENABLED)).
    type: bool
    default: false
  tpm_activated:
    description: A TPM 2.0 must be activated (C(_TS_CRTPMACTIVATED)).
    type: bool
    default: false
  refresh_inventory:
    description: Ask the host again even if this boot's inventory is already known.
    type: bool
    default: false
extends_documentation_fragment:
  - tasksequence.windows.step
seealso:
  - module: tasksequence.windows.set_dynamic_variables
author:
  - Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Ready for the upgrade?
  tasksequence.windows.check_readiness:
    memory_mb: 4096
    free_disk_mb: 20480
    os_type: client
    architecture: x64
    min_os_version: 10.0.19041
    ac_power: true
    network_wired: true
    uefi: true
    tpm_enabled: true

- name: Record readiness but let the sequence decide
  tasksequence.windows.check_readiness:
    memory_mb: 8192
    continue_on_error: true
"""

RETURN = r"""
rc:
  description: The step's return code, as C(_SMSTSLastActionRetCode) holds it.
  returned: always
  type: int
reboot_required:
  description: The step asks for a restart before the sequence goes on (exit code 3010).
  returned: always
  type: bool
variables:
  description: Task sequence variables this step set (hidden values masked; C(null) for a deleted one).
  returned: always
  type: dict
step_failed:
  description: The step failed but O(continue_on_error) let the sequence go on.
  returned: when the step failed with continue_on_error
  type: bool
ansible_facts:
  description: The task sequence variables after the step.
  returned: always
  type: dict
  contains:
    tsenv:
      description: Variable name to value; hidden values are C(********).
      type: dict
    tsenv_hidden:
      description: Hidden variables' values, encrypted with the controller's key.
      type: dict
checks:
  description: Each check that was on, with what was required, what was found and whether it passed.
  returned: always
  type: dict
failed_checks:
  description: Names of the checks that failed.
  returned: always
  type: list
  elements: str
inventory_gathered:
  description: Whether the host was asked for its inventory by this task.
  returned: always
  type: bool
restarted:
  description: The host restarted during or after this step (planned, requested or unexpected).
  returned: always
  type: bool
restarts:
  description: Each restart of this step - kind, when, reason, the new boot time, seconds waited.
  returned: always
  type: list
  elements: dict
"""
