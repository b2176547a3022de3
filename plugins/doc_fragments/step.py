# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:

    # Options and behaviour every step shares.
    DOCUMENTATION = r"""
options:
  continue_on_error:
    description:
      - ConfigMgr's C(Continue on error) step option.
      - When the step fails, the task still succeeds (with RV(step_failed=true)) so that the
        task sequence variables it set, including C(_SMSTSLastActionSucceeded=false), reach the
        next step. Ansible's own C(ignore_errors) keeps going too, but Ansible drops the facts of
        a failed task, so the next step would not see the failure.
      - Bad options are never covered by this; they fail before anything runs.
    type: bool
    default: false
  restart_timeout:
    description:
      - Seconds a restart of the host may take, from the restart to the host running modules
        again (1 to 86400). A restart can come before the step (an earlier step returned C(3010)
        or set C(SMSTSRebootRequested)), during it (unexpected, or exit code C(1641)), or after it
        (C(SMSTSRetryRequested)); see the collection's docs/restarts.md.
      - A host that does not come back in time fails alone (unreachable), with the time waited.
    type: int
    default: 1200
notes:
  - Task sequence variables live in the C(tsenv) fact (a dict). Names are case-insensitive
    (the first spelling is kept), 1-256 letters, digits, C(_) or C(-); values at most 4000
    characters. Names starting with C(_) are read-only.
  - C(%Name%) in the step's string options is replaced by the variable's value before the step
    runs; unknown names stay as written.
  - Hidden variables show as C(********) in C(tsenv); their value is kept encrypted in the
    C(tsenv_hidden) fact with a key that stays on the controller (see the collection's
    docs/variables.md), and is scrubbed from every result.
  - Before the step runs C(_SMSTSCurrentActionName) is the task name; after it,
    C(_SMSTSLastActionName), C(_SMSTSLastActionSucceeded) (C(true)/C(false)) and
    C(_SMSTSLastActionRetCode) describe it.
  - Restarts as ConfigMgr's engine makes them. A step that ends with C(3010) (RV(reboot_required))
    or sets C(SMSTSRebootRequested) (C(HD) or C(true); C(WinPE) is refused) leaves a restart owed in
    the C(tsenv_restart) fact, and the next step that runs on the host restarts it first.
    C(SMSTSRetryRequested) restarts the host at once and runs the same step again. Exit code
    C(1641) succeeds wherever C(3010) does, and the step waits for the restart the installer began.
    C(SMSTSRebootMessage) and C(SMSTSRebootDelay) (seconds, at least 2) set the notice shown.
  - After a restart the step returns the new C(ansible_lastboot) and an empty C(tsenv_hardware), so
    the next step that needs the hardware inventory gathers it again; C(tsenv) and C(tsenv_hidden)
    are kept. RV(restarted) and RV(restarts) say what happened.
attributes:
  check_mode:
    support: full
    description: Reports what the step would do; nothing changes on the host. Variables the
      step sets on the controller alone are still set, so later steps plan with them.
  diff_mode:
    support: none
    description: No diff is shown.
  platform:
    support: full
    platforms: windows
    description: Windows hosts reached over WinRM (or PSRP).
"""

    # A step that retries after an unexpected restart (StepAction.RETRY_ON_UNEXPECTED_RESTART).
    RETRY = r"""
options:
  retry_on_unexpected_restart:
    description:
      - ConfigMgr's C(Retry this step if computer unexpectedly restarts).
      - When the connection drops during the step and the host booted since the step began, the
        step waits for the host (O(restart_timeout)) and runs again, up to O(retry_count) times.
        A step that failed for any other reason is not retried.
    type: bool
    default: true
  retry_count:
    description:
      - How many times the step runs again after unexpected restarts (ConfigMgr's C(RetryCount), 1 to 5).
    type: int
    default: 2
"""

    # A step that runs a process on the host.
    PROCESS = r"""
options:
  start_in:
    description:
      - The working directory of the process (ConfigMgr's C(Start in)). It must exist.
    type: str
  success_codes:
    description:
      - Exit codes that mean success. C(3010) also sets RV(reboot_required).
    type: list
    elements: int
    default: [0, 3010]
  timeout:
    description:
      - Seconds the process may run (ConfigMgr's 1-999 minutes, so 1 to 59940). When it runs
        out, the step stops its WinRM command and closes the WinRM shell, and Windows ends every
        process the shell started (they live in the shell's job object), and the step fails with
        RV(rc=1460) and RV(timed_out=true).
      - Enforced on the controller with C(SIGALRM), as ansible-core's task C(timeout) is, over the
        C(winrm) or C(psrp) connection. A task C(timeout) shorter than this one wins.
      - Unset means no limit.
    type: int
  output_variable:
    description:
      - Task sequence variable that receives the last 1000 characters of standard output, without its final line break.
    type: str
  run_as_user:
    description:
      - Run the process as this account (ConfigMgr's C(Run this step as the following account)),
        through Ansible's C(runas) become method.
    type: str
  run_as_password:
    description:
      - Password of O(run_as_user). Never shown in any output.
    type: str
"""

    # The role's engine tasks (sequence_start, sequence_step, sequence_end): not for playbooks.
    ENGINE = r"""
attributes:
  check_mode:
    support: full
    description: Used by the role in check mode too; the dry run is the role's own.
  diff_mode:
    support: none
    description: No diff is shown.
  platform:
    support: full
    platforms: windows
    description: Controller-side engine step for Windows hosts.
"""
