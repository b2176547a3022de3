#!/usr/bin/python
# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Action-only module: the logic is in plugins/action/run_command_line.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: run_command_line
short_description: Run a command line on a Windows host (ConfigMgr's Run Command Line step)
version_added: 0.1.0
description:
  - Runs one program on the host the way ConfigMgr's C(Run Command Line) task sequence step does,
    in one remote execution of M(ansible.windows.win_command).
  - The program is started directly (CreateProcess), not through C(cmd.exe). Pipes, redirection
    and shell built-ins need C(cmd /c).
  - The command line goes to CreateProcess verbatim (win_command's C(cmd)). The program is looked
    for on C(PATH) and then in the working folder (O(start_in) or the package folder), so a
    C(setup.exe) in the package runs, as in ConfigMgr.
  - A program named without an extension is looked for as C(.exe) (ansible.windows'
    C(Resolve-ExecutablePath)); ConfigMgr also tries C(.com) and C(.bat), so name those with
    their extension.
  - Every task sequence variable is in the process environment (the task's C(environment),
    which ansible-core sets for the module and its child); C(%Name%) in the options is expanded
    before the command is sent.
  - Exit code C(3010) with the default O(success_codes) succeeds and sets RV(reboot_required).
options:
  command_line:
    description:
      - The program and its arguments, at most 32,000 characters.
    type: str
    required: true
  package_id:
    description:
      - Run from this package's content folder on the host, recorded earlier in the
        C(tsenv_packages) fact by M(tasksequence.windows.download_package_content).
      - With O(start_in), the working folder is O(start_in) inside the package content (a
        relative path, as ConfigMgr's C(Start in) is with a package).
    type: str
  disable_wow64_redirection:
    description:
      - ConfigMgr runs steps in a 32-bit process, so on 64-bit Windows a path under
        C(System32) is redirected to C(SysWOW64). Set this to run the program named by the path
        itself (ConfigMgr's C(Disable 64-bit file system redirection)).
    type: bool
    default: false
  output_encoding:
    description:
      - The encoding the program writes its output in, for a program that ignores the console's
        code page (passed to win_command's C(output_encoding_override), e.g. C(windows-1252)).
        By default the output is read as UTF-8.
    type: str
extends_documentation_fragment:
  - tasksequence.windows.step
  - tasksequence.windows.step.process
seealso:
  - module: tasksequence.windows.run_powershell_script
  - module: ansible.windows.win_command
author:
  - Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Install the agent (3010 means success, restart needed)
  tasksequence.windows.run_command_line:
    command_line: msiexec.exe /i C:\Temp\agent.msi /qn
    timeout: 1800

- name: Pipes need cmd /c; keep the output in a variable
  tasksequence.windows.run_command_line:
    command_line: cmd.exe /c "ipconfig | findstr IPv4"
    output_variable: IPv4Lines

- name: Use a task sequence variable, as another account
  tasksequence.windows.run_command_line:
    command_line: C:\Tools\register.exe --site %SiteCode%
    start_in: C:\Tools
    disable_wow64_redirection: true
    run_as_user: CONTOSO\svc-deploy
    run_as_password: "{{ vault_svc_deploy_password }}"
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
  description: The process ran out of O(timeout); its WinRM command and shell were closed, which
    ends the processes the shell started.
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
