#!/usr/bin/python
# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Action-only module: the logic is in plugins/action/install_application.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: install_application
short_description: Install catalog applications on a Windows host (ConfigMgr's Install Application step)
version_added: 0.2.0
description:
  - Installs applications declared in the content catalog (C(tasksequence_catalog), see
    docs/content-catalog.md) as ConfigMgr's C(Install Application) step does. The catalog is checked
    before anything reaches the host (unknown names, dependency loops, a deployment type without a
    detection method).
  - For each application, dependencies first (in the catalog's order, each once), then the
    application. The first deployment type whose requirements (OS version, architecture, memory, free
    disk, from the host inventory that M(tasksequence.windows.check_readiness) also uses) are met
    is used; then its detection method runs, and an application already there is skipped
    (C(changed=false), no install). Otherwise its content is put on the host as
    M(tasksequence.windows.download_package_content) does, the installer runs through
    M(ansible.windows.win_package) and the detection method runs again to verify it.
  - Detection runs on the host through ansible.windows modules. MSI product code
    (M(ansible.windows.win_package) in check mode), with a version compared against the product's
    C(DisplayVersion) (M(ansible.windows.win_reg_stat)); a file exists (M(ansible.windows.win_stat));
    a file's version, equality only (win_package's C(creates_path)/C(creates_version), which reads the
    file's version resource, since M(ansible.windows.win_stat) returns no version); a registry value
    (M(ansible.windows.win_reg_stat)); and C(all)/C(any) of them.
  - The installer's exit code is mapped by the deployment type's C(return_codes) (ConfigMgr's
    defaults 0 and 1707 success, 3010 soft restart, 1641 hard restart, 1618 fast retry). A soft or
    hard restart sets RV(reboot_required); 1618 is tried again twice, C(OSDAppInstallRetryTimeout)
    milliseconds apart (default 30000).
  - Sets C(_TSAppInstallStatus) to C(Success), C(Error) (an application failed), C(Warning) (no
    deployment type's requirements were met; a failure when C(TSErrorOnWarning) is C(true)) or
    C(Undefined) (nothing to install).
  - ConfigMgr's C(Retry this step if the computer unexpectedly restarts) is the step frame's
    (O(retry_on_unexpected_restart), O(retry_count)). Running the step again is safe, because
    applications already installed are detected and skipped.
options:
  applications:
    description:
      - Application names (case-sensitive, as in ConfigMgr), in order.
    type: list
    elements: str
  base_variable_name:
    description:
      - Install the applications named in C(<base>01), C(<base>02), ... up to the first missing
        number. With no C(<base>01) nothing is installed and the step succeeds.
    type: str
  continue_on_install_error:
    description:
      - Go on with the next application when one fails; the step still fails at the end.
        An application whose dependency failed is not installed.
    type: bool
    default: false
  clear_cache:
    description:
      - Remove an application's content from the host after it installed.
    type: bool
    default: false
extends_documentation_fragment:
  - tasksequence.windows.step
  - tasksequence.windows.step.retry
seealso:
  - module: tasksequence.windows.install_package
  - module: ansible.windows.win_package
author:
  - Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Install the viewer (its runtime dependency comes first)
  tasksequence.windows.install_application:
    applications: [Contoso Viewer]

- name: Install what Apps01, Apps02, ... name, going on after a failure
  tasksequence.windows.install_application:
    base_variable_name: Apps
    continue_on_install_error: true
"""

RETURN = r"""
rc:
  description: The failed installer's exit code, else 0.
  returned: always
  type: int
reboot_required:
  description: An installer asked for a restart (soft or hard restart code).
  returned: always
  type: bool
variables:
  description: Task sequence variables this step set (none besides the built-ins).
  returned: always
  type: dict
step_failed:
  description: The step failed but O(continue_on_error) let the sequence go on.
  returned: when the step failed with continue_on_error
  type: bool
install_status:
  description: What C(_TSAppInstallStatus) was set to.
  returned: when an application was tried
  type: str
applications:
  description: One entry per application tried, dependencies included, in install order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The application.
      type: str
    status:
      description: C(installed), C(already_installed), C(requirements_not_met) or C(failed).
      type: str
    changed:
      description: An installer ran.
      type: bool
    deployment_type:
      description: The deployment type used.
      type: str
    dependency_of:
      description: The application that needed it, for a dependency.
      type: str
    rc:
      description: The installer's exit code.
      type: int
    detection:
      description: What each detection clause found.
      type: list
      elements: str
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
