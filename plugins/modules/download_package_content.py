#!/usr/bin/python
# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Action-only module: the logic is in plugins/action/download_package_content.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: download_package_content
short_description: Put catalog packages' content on a Windows host (ConfigMgr's Download Package Content step)
version_added: 0.2.0
description:
  - Downloads the content of packages declared in the content catalog (the C(tasksequence_catalog)
    variable, see the collection's docs/content-catalog.md) to the host, as ConfigMgr's
    C(Download Package Content) step does, and records where each package is in the
    C(tsenv_packages) fact for M(tasksequence.windows.install_package) and
    M(tasksequence.windows.run_command_line)'s C(package_id).
  - The whole catalog is checked before anything reaches the host; an unknown package ID,
    a bad source or any other catalog error fails the task at once.
  - B(From a controller path) the upstream M(ansible.windows.win_copy) action plugin does the copy;
    it asks the host for the SHA-1 of every file first and sends only files that differ, so content
    already on the host is not sent again. One changed file is sent alone; several are sent as one zip
    of the whole source (win_copy's own behaviour).
  - B(From an HTTP(S) URL) the host downloads it itself with M(ansible.windows.win_get_url), with the
    catalog's checksum verified on the host (a mismatch fails) and C(force=false), so a file already
    there with that checksum is not downloaded again. A failed download is tried again
    C(SMSTSDownloadRetryCount) times (default 2), C(SMSTSDownloadRetryDelay) seconds apart (default 15);
    a checksum mismatch is not retried.
  - B(From a UNC path) the host copies it (win_copy C(remote_src)); when
    M(tasksequence.windows.connect_to_network_folder) recorded that share with an account, the copy
    runs with C(runas) become, C(logon_type=new_credentials), so only its network access uses
    that account.
  - Sets C(<destination_variable>01), C(02), ... in the order of O(packages), and
    C(_SMSTSLastContentDownloadLocation).
options:
  packages:
    description:
      - Package IDs from the catalog (ConfigMgr form, upper-case, e.g. C(PS100012)), in order.
      - C(%Name%) references are expanded.
    type: list
    elements: str
    required: true
  destination:
    description:
      - Where the content goes; the package ID is appended as a folder.
      - C(working_directory) is the task sequence working directory (C(_SMSTSMDataPath), by default
        C(C:\_SMSTaskSequence)) under C(Packages); C(client_cache) is C(C:\Windows\ccmcache);
        C(custom) is O(destination_path).
    type: str
    choices: [working_directory, client_cache, custom]
    default: working_directory
  destination_path:
    description:
      - The folder for C(destination=custom) (ConfigMgr's C(OSDDownloadDestinationPath)).
    type: str
  destination_variable:
    description:
      - Base name of the variables that receive each package's folder, numbered from C(01) in the
        order of O(packages) (ConfigMgr's C(OSDDownloadDestinationVariable)).
    type: str
  continue_on_download_error:
    description:
      - Go on with the next packages when one fails (ConfigMgr's C(OSDDownloadContinueDownloadOnError)).
        The step still fails at the end, after the others are downloaded. Without it the step stops
        at the first failure.
    type: bool
    default: false
extends_documentation_fragment:
  - tasksequence.windows.step
seealso:
  - module: tasksequence.windows.install_package
  - module: ansible.windows.win_copy
  - module: ansible.windows.win_get_url
author:
  - Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Put two packages in the working directory and keep their folders in variables
  tasksequence.windows.download_package_content:
    packages: [PS100012, PS100013]
    destination_variable: AgentContent

- name: Into a folder of our own, going on when one fails
  tasksequence.windows.download_package_content:
    packages: [PS100014]
    destination: custom
    destination_path: D:\Content
    continue_on_download_error: true
"""

RETURN = r"""
rc:
  description: The step's return code, as C(_SMSTSLastActionRetCode) holds it (0, or 1 when a download failed).
  returned: always
  type: int
reboot_required:
  description: Always false for this step.
  returned: always
  type: bool
variables:
  description: Task sequence variables this step set (the numbered path variables).
  returned: always
  type: dict
step_failed:
  description: The step failed but O(continue_on_error) let the sequence go on.
  returned: when the step failed with continue_on_error
  type: bool
packages:
  description: One entry per package tried.
  returned: always
  type: list
  elements: dict
  contains:
    package_id:
      description: The package ID.
      type: str
    path:
      description: Its folder on the host.
      type: str
    changed:
      description: Content was sent or downloaded (false when it was already there).
      type: bool
    transfer:
      description: How it got there (C(win_copy), C(win_copy remote_src) or C(win_get_url)).
      type: str
    failed:
      description: This package failed.
      type: bool
ansible_facts:
  description: The task sequence variables after the step, and where each package is.
  returned: always
  type: dict
  contains:
    tsenv:
      description: Variable name to value; hidden values are C(********).
      type: dict
    tsenv_hidden:
      description: Hidden variables' values, encrypted with the controller's key.
      type: dict
    tsenv_packages:
      description: Package ID to its folder on the host.
      type: dict
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
