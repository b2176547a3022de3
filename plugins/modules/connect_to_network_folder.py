#!/usr/bin/python
# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Action-only module: the logic is in plugins/action/connect_to_network_folder.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: connect_to_network_folder
short_description: Connect a network folder for the rest of the sequence (ConfigMgr's Connect To Network Folder step)
version_added: 0.2.0
description:
  - ConfigMgr maps the drive once and every later step of the sequence sees it. Over WinRM that
    cannot work as such. Every Ansible task is its own logon session on the host, and a drive
    mapped in one session is gone by the next task (ansible.windows issues 383 and 579, and the notes of
    M(ansible.windows.win_mapped_drive)).
  - So this step does two things. With a O(drive_letter), M(ansible.windows.win_mapped_drive)
    connects the share with the account, so a wrong path or password fails here, as in ConfigMgr.
    Then the connection is recorded in the sequence state, the C(tsenv_network_folders) fact, with
    the password encrypted with the controller's key, like hidden variables.
  - Later steps of this collection reach the folder in their own execution. This covers
    M(tasksequence.windows.run_command_line) and M(tasksequence.windows.install_package), whose
    command line or start folder names the drive letter or the share. Their command then runs as
    C(cmd.exe /d /s /c "net use <letter> <share> ... && <command>"), with the password passed to
    net.exe through an environment variable of that process, never in the command text.
  - M(tasksequence.windows.download_package_content) and M(tasksequence.windows.install_application)
    copy content from a recorded share with C(runas) become and C(logon_type=new_credentials). Only
    the copy's network access then uses the share's account.
options:
  path:
    description:
      - The share, C(\\server\share), optionally with a folder (ConfigMgr's C(SMSConnectNetworkFolderPath)).
    type: str
    required: true
  drive_letter:
    description:
      - D to Z, never X (ConfigMgr's C(SMSConnectNetworkFolderDriveLetter)); C(Z) or C(Z:).
        Empty connects the share without a letter. The step then only records it, with nothing
        checked on the host.
    type: str
  account:
    description:
      - The account that connects (ConfigMgr's C(SMSConnectNetworkFolderAccount)), e.g. C(CONTOSO\svc-content).
    type: str
  password:
    description:
      - Its password (C(SMSConnectNetworkFolderPassword)); never shown, kept only encrypted.
        It may not contain a double quote.
    type: str
extends_documentation_fragment:
  - tasksequence.windows.step
notes:
  - Limits of this approach. A later command that uses the folder runs through C(cmd.exe), so
    cmd's special characters in it (C(&), C(|), C(<), C(>), C(^), C(%)) mean what they mean to cmd.
  - While net.exe runs, the password is in its command line, which administrators of the host can
    see in the process list. It never appears in Ansible's output or in the WinRM command.
  - M(tasksequence.windows.run_powershell_script) (whose script is started with an argument list)
    does not connect it again; use the UNC path with C(run_as_user) there.
  - The drive letter is also remembered for the WinRM account's interactive logons
    (win_mapped_drive's C(UpdateProfile)); remove it with M(ansible.windows.win_mapped_drive)
    C(state=absent) when no longer wanted.
  - The tests run this against a simulated Windows host only.
seealso:
  - module: ansible.windows.win_mapped_drive
  - module: tasksequence.windows.run_command_line
author:
  - Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Connect the content share as drive Z
  tasksequence.windows.connect_to_network_folder:
    path: \\fs01\content
    drive_letter: Z
    account: CONTOSO\svc-content
    password: "{{ vault_content_password }}"

# A later run_command_line with command_line Z:\tools\inventory.exe connects Z again itself.

- name: Record a share without a drive letter (a later step names it by its UNC path)
  tasksequence.windows.connect_to_network_folder:
    path: \\fs01\tools
"""

RETURN = r"""
rc:
  description: The step's return code (0, or 1 when the share could not be connected).
  returned: always
  type: int
reboot_required:
  description: Always false for this step.
  returned: always
  type: bool
variables:
  description: Task sequence variables this step set (none).
  returned: always
  type: dict
step_failed:
  description: The step failed but O(continue_on_error) let the sequence go on.
  returned: when the step failed with continue_on_error
  type: bool
connection:
  description: What was recorded (the password as C(********)).
  returned: when the step succeeded
  type: dict
ansible_facts:
  description: The task sequence variables after the step, and the recorded connections.
  returned: always
  type: dict
  contains:
    tsenv_network_folders:
      description: Connections for later steps; each with C(path), C(drive_letter), C(account)
        and C(password) (encrypted with the controller's key).
      type: list
      elements: dict
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
