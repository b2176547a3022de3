#!/usr/bin/python
# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Action-only module: the logic is in plugins/action/install_software_updates.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: install_software_updates
short_description: Install Windows updates in rounds, restarting between them (ConfigMgr's Install Software Updates step)
version_added: 0.2.0
description:
  - Installs the updates the host's Windows Update Agent offers, the way ConfigMgr's
    C(Install Software Updates) step does. It works in rounds and restarts the host between rounds
    until a round has nothing left to install.
  - Each round is one run of the M(ansible.windows.win_updates) action (its start, poll and cancel
    module calls) with C(reboot=false); the restarts between rounds are the collection's shared
    restart (see M(tasksequence.windows.restart_computer)), bounded by O(restart_timeout).
  - A round that installs only updates an earlier round installed means that an update rolled
    back during the restart; the step stops there and names it in RV(rolled_back_updates)
    instead of installing it again.
  - If the host restarts unexpectedly during a round, the step waits for it and runs again
    (O(retry_on_unexpected_restart), O(retry_count)).
  - ConfigMgr deployments are not visible to the Windows Update Agent (win_updates does not
    support ConfigMgr). O(target=Mandatory) installs what Windows Update does not mark optional
    (win_updates' C(skip_optional)); O(target=All) installs everything offered.
options:
  target:
    description:
      - C(Mandatory) (ConfigMgr's C(Required for installation)) or C(All) (C(Available for installation)).
      - Unset means the value of C(SMSInstallUpdateTarget); one of the two must be given.
    type: str
    choices: [Mandatory, All]
  use_cache:
    description:
      - ConfigMgr's C(Evaluate software updates from cached scan results)
        (C(SMSTSSoftwareUpdateScanUseCache) when unset; true by default).
      - Recorded in the result only. win_updates offers no choice of scan source, so the Windows
        Update Agent searches as it is configured either way.
    type: bool
  category_names:
    description:
      - Update categories to install (win_updates' C(category_names), e.g. C(SecurityUpdates)).
        C(*) (the default) is every category, as ConfigMgr installs whatever is deployed.
    type: list
    elements: str
    default: ['*']
  accept_list:
    description:
      - Only updates whose title or KB matches one of these regular expressions.
    type: list
    elements: str
    default: []
  reject_list:
    description:
      - Never updates whose title or KB matches one of these regular expressions.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - tasksequence.windows.step
  - tasksequence.windows.step.retry
seealso:
  - module: ansible.windows.win_updates
  - module: tasksequence.windows.restart_computer
author:
  - Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Required updates, restarting as often as they need
  tasksequence.windows.install_software_updates:
    target: Mandatory

- name: Everything but preview builds, security and rollups only
  tasksequence.windows.install_software_updates:
    target: All
    category_names: [SecurityUpdates, UpdateRollups]
    reject_list: ['Preview']
    retry_count: 3
"""

RETURN = r"""
rc:
  description: C(0), or the HRESULT of the first update that failed, or C(1).
  returned: always
  type: int
reboot_required:
  description: A restart is still pending (only when the step stopped before it could restart).
  returned: always
  type: bool
restarted:
  description: The host restarted during this task.
  returned: always
  type: bool
restarts:
  description: Each restart (between rounds, or unexpected during one); see M(tasksequence.windows.restart_computer).
  returned: always
  type: list
  elements: dict
rounds:
  description: Each round, with what it found, installed and failed (titles with KB) and whether it needed a restart.
  returned: when the step ran
  type: list
  elements: dict
installed_updates:
  description: Updates installed (C(id), C(title), C(kb)).
  returned: when the step ran
  type: list
  elements: dict
failed_updates:
  description: Updates that failed, with C(failure_hresult_code) and C(failure_msg).
  returned: when the step ran
  type: list
  elements: dict
rolled_back_updates:
  description: Updates that rolled back during a restart and were offered again (the update loop).
  returned: when the step ran
  type: list
  elements: dict
found_update_count:
  description: Updates selected over all rounds.
  returned: when the step ran
  type: int
installed_update_count:
  description: Updates installed.
  returned: when the step ran
  type: int
failed_update_count:
  description: Updates that failed.
  returned: when the step ran
  type: int
filtered_update_count:
  description: Updates left out by O(target), O(category_names), O(accept_list) or O(reject_list).
  returned: when the step ran
  type: int
target:
  description: The target used.
  returned: when the step ran
  type: str
use_cache:
  description: The use_cache value in force.
  returned: when the step ran
  type: bool
variables:
  description: Task sequence variables this step set (none).
  returned: always
  type: dict
step_failed:
  description: The step failed but O(continue_on_error) let the sequence go on.
  returned: when the step failed with continue_on_error
  type: bool
ansible_facts:
  description: The task sequence variables after the step (and, after a restart, the new boot time).
  returned: always
  type: dict
  contains:
    tsenv:
      description: Variable name to value; hidden values are C(********).
      type: dict
    tsenv_hidden:
      description: Hidden variables' values, encrypted with the controller's key.
      type: dict
"""
