#!/usr/bin/python
# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Action-only module: the logic is in plugins/action/install_package.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: install_package
short_description: Run a catalog package's program on a Windows host (ConfigMgr's Install Package step)
version_added: 0.2.0
description:
  - Runs a program of a package declared in the content catalog (C(tasksequence_catalog), see
    docs/content-catalog.md), from the package's content folder on the host, as ConfigMgr's
    C(Install Package) step does. The catalog is checked before anything reaches the host.
  - The content comes from the C(tsenv_packages) fact (M(tasksequence.windows.download_package_content));
    a package not downloaded earlier is downloaded into the task sequence working directory first.
  - The program's command line runs through M(ansible.windows.win_command) in the content folder
    (the program is found there, as ConfigMgr finds it), with every task sequence variable in its environment.
  - A program with a C(detection) method in the catalog is skipped (C(changed=false)) when it is
    detected, and detected again after it ran; without one it runs every time, as in ConfigMgr.
  - Exit code C(3010) sets RV(reboot_required); C(1641) (the program restarts the computer) does too,
    with C(hard_restart) in RV(installs). A program the catalog marks C(may_restart=false) fails on either.
  - A command line that names a drive letter or share recorded by
    M(tasksequence.windows.connect_to_network_folder) connects it again first (see that module).
options:
  package_id:
    description:
      - The package (upper-case ID, e.g. C(PS100012)). Needs O(program_name).
    type: str
  program_name:
    description:
      - The program of O(package_id) to run (ConfigMgr's C(_SMSSWDProgramName)); case-sensitive.
    type: str
  base_variable_name:
    description:
      - Install the list in the variables C(<base>001), C(<base>002), ..., each C(PACKAGEID:Program),
        up to the first missing number. With no C(<base>001) nothing is installed and the step succeeds.
    type: str
  continue_on_install_error:
    description:
      - Go on with the next program of the list when one fails; the step still fails at the end.
    type: bool
    default: false
extends_documentation_fragment:
  - tasksequence.windows.step
seealso:
  - module: tasksequence.windows.download_package_content
  - module: tasksequence.windows.install_application
author:
  - Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Install the agent
  tasksequence.windows.install_package:
    package_id: PS100012
    program_name: Install

- name: Install what PackagesToInstall001, 002, ... list
  tasksequence.windows.install_package:
    base_variable_name: PackagesToInstall
    continue_on_install_error: true
"""

RETURN = r"""
rc:
  description: The exit code of the failed program, or of the last program run.
  returned: always
  type: int
reboot_required:
  description: A program asked for a restart (3010) or restarts the computer (1641).
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
installs:
  description: One entry per program tried, with C(package_id), C(program), C(changed), C(failed),
    C(rc), C(reboot_required), C(path) and C(detection) (what detection found).
  returned: always
  type: list
  elements: dict
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
