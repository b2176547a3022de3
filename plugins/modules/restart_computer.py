#!/usr/bin/python
# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Action-only module: the logic is in plugins/action/restart_computer.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: restart_computer
short_description: Restart a Windows host and wait for it (ConfigMgr's Restart Computer step)
version_added: 0.2.0
description:
  - Restarts the host into the installed Windows the way ConfigMgr's C(Restart Computer) task
    sequence step does, waits until it runs modules again, and lets the sequence go on.
  - The restart is C(shutdown.exe /r /t <notice> /c <message>) run by M(ansible.windows.win_command)
    (C(1190), a shutdown already scheduled, is taken over as M(ansible.windows.win_reboot) does).
  - The wait polls C(ansible.windows.setup) (C(gather_subset=uptime)) with a short connection
    timeout, backing off from 0.25 s to 0.5 s, until the host booted after the restart, then checks
    that Windows finished starting (LogonUI's C(AutoLogonChecked) key, as win_reboot does) with
    M(ansible.windows.win_reg_stat). All of it is bounded by O(restart_timeout).
  - C(tsenv) and C(tsenv_hidden) survive; the hardware inventory cache (C(tsenv_hardware)) is
    emptied and C(ansible_lastboot) updated, so the next step that needs the inventory gathers it.
  - A restart an earlier step asked for (C(3010), C(SMSTSRebootRequested)) is this one.
options:
  target:
    description:
      - Where to restart to. C(HD) is the installed Windows. C(WinPE) (the boot image) is OS
        deployment and is refused before anything reaches the host.
    type: str
    default: HD
  notify_user:
    description:
      - Show O(message) to signed-in users before the restart (ConfigMgr's C(Notify the user before restarting)).
    type: bool
    default: true
  message:
    description:
      - The notice, at most 512 characters (C(%Name%) expanded). Unset means the value of the
        C(SMSRebootMessage) variable when set, else a short built-in text.
    type: str
  message_timeout:
    description:
      - Seconds the notice shows before the restart (ConfigMgr's message display time-out).
        Unset means C(SMSRebootTimeout) when set, else 60 (the ConfigMgr console's default).
        C(0) shows no message.
      - The restart always has at least 2 seconds of notice, so that its WinRM command can answer.
    type: int
extends_documentation_fragment:
  - tasksequence.windows.step
seealso:
  - module: ansible.windows.win_reboot
  - module: tasksequence.windows.install_software_updates
author:
  - Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Restart with the console's default notice (60 s)
  tasksequence.windows.restart_computer:
    message: Software is being installed; this computer restarts in a minute.

- name: Restart at once, no message, give a slow host 30 minutes
  tasksequence.windows.restart_computer:
    notify_user: false
    restart_timeout: 1800
"""

RETURN = r"""
rc:
  description: The step's return code (C(0)).
  returned: always
  type: int
reboot_required:
  description: Always false; the host has restarted.
  returned: always
  type: bool
restarted:
  description: The host restarted during this task.
  returned: always
  type: bool
restarts:
  description: Each restart during this task (before, in or after the step).
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: C(restart_computer), C(requested), C(retry_requested), C(installer), C(unexpected) or C(updates).
      type: str
    when:
      description: C(before_step), C(in_step), C(during_step), C(after_step) or C(between_rounds).
      type: str
    reason:
      description: Why the host restarted.
      type: str
    boot_time:
      description: The new C(ansible_lastboot).
      type: str
    waited_seconds:
      description: Seconds from the restart to the host running modules again.
      type: float
    polls:
      description: Polls of the host it took (each is one connection attempt or module run).
      type: int
    failed_polls:
      description: Polls that found the host down or not started yet.
      type: int
restart:
  description: The restart this step made (one of RV(restarts)).
  returned: when the host restarted
  type: dict
message:
  description: The notice shown, or C(null) with no notice.
  returned: always
  type: str
message_timeout:
  description: Seconds the notice showed (C(0) without one).
  returned: always
  type: int
variables:
  description: Task sequence variables this step set (none).
  returned: always
  type: dict
waited_seconds:
  description: How long the step waited for a host that did not come back.
  returned: when the host did not come back within O(restart_timeout)
  type: float
ansible_facts:
  description: The task sequence variables, the new boot time and the emptied inventory cache.
  returned: always
  type: dict
  contains:
    tsenv:
      description: Variable name to value; hidden values are C(********).
      type: dict
    tsenv_hidden:
      description: Hidden variables' values, encrypted with the controller's key.
      type: dict
    tsenv_hardware:
      description: Emptied after a restart, so that the inventory is gathered again.
      type: dict
    ansible_lastboot:
      description: The host's boot time after the restart.
      type: str
step_failed:
  description: The step failed but O(continue_on_error) let the sequence go on.
  returned: when the step failed with continue_on_error
  type: bool
"""
