#!/usr/bin/python
# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Action-only module: the logic is in plugins/action/evaluate_conditions.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: evaluate_conditions
short_description: Evaluate a task sequence condition on a Windows host, as the sequence engine does
version_added: 0.1.0
description:
  - Evaluates a condition of the collection's sequence format (docs/sequence-format.md) with the
    same code as the C(tasksequence.windows.task_sequence) role - variables from the C(tsenv) fact,
    host checks (WMI query, OS version and language, installed software, file, folder, registry)
    answered in one remote execution of M(ansible.windows.win_powershell) running the collection's
    read-only C(host_query.ps1).
  - Playbooks written by the importer use it for the checks Ansible has no module to read (WMI
    queries, OS language, installed software, file versions).
  - It changes nothing on the host and sets no task sequence variable.
options:
  conditions:
    description:
      - One condition node - C(all), C(any) or C(none) of nodes, or a leaf such as
        C(wmi), C(os_language), C(software), C(file), C(folder), C(registry), C(os_version), C(variable).
    type: dict
    required: true
attributes:
  check_mode:
    support: full
    description: Read-only; it runs in check mode too.
  diff_mode:
    support: none
    description: No diff is shown.
  platform:
    support: full
    platforms: windows
    description: Windows hosts reached over WinRM (or PSRP).
seealso:
  - module: tasksequence.windows.set_dynamic_variables
author:
  - Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Only on hosts with the Citrix VDA installed and at least Windows 10 1809
  tasksequence.windows.evaluate_conditions:
    conditions:
      all:
        - software: {product_name: Citrix Virtual Delivery Agent, match: any_version}
        - os_version: {min_version: 10.0.17763}
  register: citrix_ready

- name: Upgrade the VDA
  tasksequence.windows.run_command_line:
    command_line: C:\Install\VDAServerSetup.exe /quiet /noreboot
  when: citrix_ready.holds
"""

RETURN = r"""
holds:
  description: Whether the condition holds.
  returned: always
  type: bool
trace:
  description: Each leaf and operator with its result, in words (variable values are not shown).
  returned: always
  type: list
  elements: str
host_executions:
  description: Remote executions it took (0 when no leaf needs the host, else 1).
  returned: always
  type: int
"""
