#!/usr/bin/python
# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Action-only module: the logic is in plugins/action/run_powershell_script.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: run_powershell_script
short_description: Run a PowerShell script on a Windows host (ConfigMgr's Run PowerShell Script step)
version_added: 0.1.0
description:
  - Runs a script in C(powershell.exe), the way ConfigMgr's C(Run PowerShell Script) step does,
    in one remote execution of M(ansible.windows.win_command), so the script's exit code is the
    step's return code and is judged by O(success_codes).
  - powershell.exe runs the collection's small call script (C(run_script.ps1), sent with
    C(-EncodedCommand) under O(execution_policy)); the script, its path and its parameters
    reach it as data on standard input. An inline or controller script is written to a temporary
    C(.ps1) on the host first, so the execution policy applies to it, and removed afterwards.
  - Exit code - C(exit N) in the script gives N; a script that ends normally gives 0; a
    terminating error gives 1 (its message on standard error).
  - The script runs as a script file, so C($PSScriptRoot) is the temporary folder for an inline
    or controller script and the package folder for a package script.
  - The script is inline (O(script)), a file on the controller (O(script_name) found in the
    C(files) folders of the play or role), or a file in package content already on the host
    (O(script_name) with O(package_id)).
  - Parameters are not shown in the result or logs unless O(log_parameters) is set
    (ConfigMgr's C(OSDLogPowerShellParameters)).
options:
  script:
    description:
      - The script's text. Mutually exclusive with O(script_name).
    type: str
  script_name:
    description:
      - A C(.ps1) file name, on the controller or in the content of O(package_id) on the host.
    type: str
  package_id:
    description:
      - Package whose content (recorded in the C(tsenv_packages) fact by
        M(tasksequence.windows.download_package_content)) holds O(script_name).
    type: str
  parameters:
    description:
      - Either ConfigMgr's parameter string or a dict of parameter name to value.
      - The string (C(-Name 'value' -Switch)) is parsed as PowerShell, as ConfigMgr parses it,
        after C(%Name%) expands in it, so a variable's value becomes PowerShell code there. Use the
        dict for values that come from variables or users.
      - The dict is splatted (C(& script @parameters)); its values are never parsed as code.
        Values are strings (C(%Name%) expands), numbers, booleans (C(true) sets a switch), null,
        or lists of those.
    type: raw
  execution_policy:
    description:
      - C(AllSigned) runs only signed scripts, C(Bypass) runs any script, C(Undefined) leaves the
        host's policy in force.
      - The default is C(Bypass), what Ansible users expect of an inline script; ConfigMgr's
        console proposes C(AllSigned). The importer always writes the sequence's own value.
    type: str
    choices: [AllSigned, Bypass, Undefined]
    default: Bypass
  log_parameters:
    description:
      - Show the parameters in RV(cmd) and let the module invocation be logged.
    type: bool
    default: false
extends_documentation_fragment:
  - tasksequence.windows.step
  - tasksequence.windows.step.process
seealso:
  - module: tasksequence.windows.run_command_line
  - module: ansible.windows.win_powershell
author:
  - Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Inline script with parameters as a dict
  tasksequence.windows.run_powershell_script:
    script: |
      param([string]$Site, [switch]$Force)
      Write-Output "site=$Site force=$Force"
    parameters:
      Site: "%SiteCode%"
      Force: true
    output_variable: ScriptOutput

- name: A script from the role's files folder, ConfigMgr parameter string, signed only
  tasksequence.windows.run_powershell_script:
    script_name: Set-Branding.ps1
    parameters: -Company 'Contoso Ltd' -Verbose
    execution_policy: AllSigned
    timeout: 600
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
cmd:
  description: The command line run (parameters and hidden values masked).
  returned: always
  type: str
stdout:
  description: Standard output of the process (hidden values masked).
  returned: when the process ran
  type: str
stderr:
  description: Standard error of the process (hidden values masked).
  returned: when the process ran
  type: str
stdout_lines:
  description: RV(stdout) split into lines.
  returned: when the process ran
  type: list
  elements: str
stderr_lines:
  description: RV(stderr) split into lines.
  returned: when the process ran
  type: list
  elements: str
timed_out:
  description: The process ran out of O(timeout) and was killed.
  returned: when the process ran
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
