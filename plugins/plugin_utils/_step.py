# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every task sequence step does around its own work.

Internal to this collection: no compatibility promise.

``StepAction.run``: validate the options (before anything reaches the host), load the
variables from facts, set ``_SMSTSCurrentActionName``, expand ``%Name%`` in the string
options, run the step, set ``_SMSTSLastAction*``, apply ``continue_on_error``, scrub every
secret out of the result and return the variables as facts.

Ansible drops the facts of a failed task (even with ``ignore_errors``), so a step that fails
with ``continue_on_error: true`` returns ``failed: false`` and ``step_failed: true``: the next
step then sees ``_SMSTSLastActionSucceeded`` = ``false``, as in ConfigMgr.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import threading
import time
import typing as t

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import become_loader
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _restart, _secrets
from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import (
    TaskSequenceEnvironment,
    TaskSequenceVariableError,
    check_name,
    kind_of,
)

COMMON_SPEC: dict[str, dict] = {
    "continue_on_error": {"type": "bool", "default": False},
    # How long a restart before, during or after the step may take (see _restart).
    "restart_timeout": {"type": "int", "default": _restart.DEFAULT_TIMEOUT},
}

RUN_AS_SPEC: dict[str, dict] = {
    "run_as_user": {"type": "str"},
    "run_as_password": {"type": "str", "no_log": True},
}

DEFAULT_SUCCESS_CODES = [0, 3010]
# Options that name a variable: never %Name%-expanded (a hidden value would become a name).
NAME_OPTIONS = ("output_variable",)
CODE_OPTIONS = ("success_codes",)
UINT32 = 2 ** 32
REBOOT_CODES = (_restart.RESTART_RC,)
OUTPUT_VARIABLE_CHARS = 1000
MAX_TIMEOUT = 999 * 60   # ConfigMgr allows 1-999 minutes
TIMEOUT_RC = 1460      # ERROR_TIMEOUT: what ConfigMgr reports for a step that ran out of time
NOT_FOUND_RC = 2       # ERROR_FILE_NOT_FOUND: the command could not be started
PACKAGES_FACT = "tsenv_packages"   # package ID -> content folder on the host
SCRIPT_DIR = os.path.join(os.path.dirname(__file__), "powershell")


@dataclasses.dataclass
class StepOutcome:
    """What a step's own work produced."""

    succeeded: bool
    rc: int | None = None
    changed: bool = False
    msg: str = ""
    fields: dict = dataclasses.field(default_factory=dict)
    variables: dict = dataclasses.field(default_factory=dict)
    reboot_required: bool = False
    facts: dict = dataclasses.field(default_factory=dict)   # facts besides the variables


def project_script(script_id: str) -> str:
    """The text of one of the collection's PowerShell scripts, as the host runs it."""
    with open(os.path.join(SCRIPT_DIR, f"{script_id}.ps1"), encoding="utf-8") as f:
        return f.read()


def last_chars(text: str, count: int = OUTPUT_VARIABLE_CHARS) -> str:
    return text[-count:] if len(text) > count else text


class StepAction(ActionBase):
    """Base for the step action plugins; subclasses set the class attributes and ``run_step``."""

    ARGUMENT_SPEC: dict[str, dict] = {}
    MUTUALLY_EXCLUSIVE: list = []
    REQUIRED_ONE_OF: list = []
    REQUIRED_TOGETHER: list = []
    REQUIRED_IF: list = []
    # String options whose %Name% references expand from the task sequence variables.
    EXPAND: tuple[str, ...] = ()
    TRANSFERS_FILES = False
    _requires_connection = True
    # ConfigMgr's "Retry this step if the computer unexpectedly restarts" (Install Application,
    # Install Package, Install Software Updates). A step that sets this to True gets the options
    # retry_on_unexpected_restart (default true) and retry_count (2, 1-5) from
    # _restart.RETRY_SPEC (documented by the tasksequence.windows.step.retry doc fragment): when
    # the host restarts during the step, the frame waits for it and runs the step again. Other
    # steps fail then, saying that the host restarted during the step.
    RETRY_ON_UNEXPECTED_RESTART = False
    # A step that restarts the host itself (Restart Computer) takes over a restart an earlier
    # step asked for, instead of the frame restarting first.
    RESTARTS_HOST = False

    @classmethod
    def option_spec(cls) -> dict[str, dict]:
        """Every option the step takes: its own, the common ones, the retry ones if switched on."""
        retry = _restart.RETRY_SPEC if cls.RETRY_ON_UNEXPECTED_RESTART else {}
        return {**cls.ARGUMENT_SPEC, **COMMON_SPEC, **retry}

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        self._supports_async = False
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp

        spec = self.option_spec()
        check_raw_types(self._task.args, spec)
        _validation, args = self.validate_argument_spec(
            argument_spec=_without_accept(spec),
            mutually_exclusive=self.MUTUALLY_EXCLUSIVE,
            required_one_of=self.REQUIRED_ONE_OF,
            required_together=self.REQUIRED_TOGETHER,
            required_if=self.REQUIRED_IF,
        )
        env = TaskSequenceEnvironment.from_task_vars(task_vars)
        secrets = [args.get(k) for k, spec in self.ARGUMENT_SPEC.items() if spec.get("no_log") and args.get(k)]
        step_name = self._task.get_name()
        try:
            self.prepare(args, env, secrets)
            _restart.check_options(args)
        except AnsibleActionFail as e:
            # An error message may quote an option that expanded a hidden value.
            raise type(e)(_secrets.scrub_text(e.message, env.secrets() + secrets)) from None
        env.begin_step(step_name)

        # Steps that restart the host themselves use this one too, so that the result tells all.
        self.restarter = restarter = _restart.Restarter(self, task_vars, args["restart_timeout"])
        try:
            outcome, restart_facts = self._run_with_restarts(args, env, task_vars, restarter, step_name)
        except _restart.HostDidNotReturn as e:
            # This host alone stops here (unreachable, as Ansible marks a host it lost); the others go on.
            result.update(unreachable=True, changed=True, restarted=False, restarts=restarter.records,
                          waited_seconds=round(e.waited, 1))
            result["msg"] = e.message
            return _secrets.scrub(result, env.secrets() + secrets)
        if restarter.records:
            outcome.msg = "; ".join(m for m in (outcome.msg, _restart.describe(restarter.records)) if m)
            restart_facts = {**_restart.facts_after(restarter.records), **restart_facts}

        rc = outcome.rc if outcome.rc is not None else (0 if outcome.succeeded else 1)
        env.end_step(step_name, outcome.succeeded, rc)
        result.update(outcome.fields)
        result.update(
            changed=outcome.changed,
            rc=rc,
            # Always explicit: Ansible would otherwise call any non-zero rc a failure.
            failed=not outcome.succeeded and not args["continue_on_error"],
            reboot_required=outcome.reboot_required,
            variables=outcome.variables,
            ansible_facts={**restart_facts, **outcome.facts, **env.facts()},
            restarted=any(not r.get("check_mode") for r in restarter.records),
            restarts=restarter.records,
        )
        if outcome.msg:
            result["msg"] = outcome.msg
        if not outcome.succeeded and args["continue_on_error"]:
            result["step_failed"] = True
            result["msg"] = f"{outcome.msg} (continue_on_error: the sequence goes on)".lstrip()
        # Masking is for display only: the facts are stored data (hidden values are already
        # the mask there), so only what is shown is scrubbed.
        facts = result.pop("ansible_facts")
        result = _secrets.scrub(result, env.secrets() + secrets)
        result["ansible_facts"] = facts
        return result

    def _run_step_once(self, args: dict, env: TaskSequenceEnvironment, task_vars: dict) -> StepOutcome:
        try:
            return self.run_step(args, env, task_vars)
        except (TaskSequenceVariableError, _secrets.KeyFileError, _restart.HostDidNotReturn):
            raise
        except AnsibleActionFail as e:
            # A failure on the host is the step's failure: continue_on_error applies to it.
            # (Bad options were refused above; a lost connection still raises.)
            return StepOutcome(succeeded=False, msg=e.message)

    def _run_with_restarts(self, args: dict, env: TaskSequenceEnvironment, task_vars: dict,
                           restarter: _restart.Restarter, step_name: str) -> tuple[StepOutcome, dict]:
        """The step under ConfigMgr's restart rules; returns its outcome and the restart facts.

        Before: a restart an earlier step asked for (3010, SMSTSRebootRequested). During: a host
        that restarted (the connection dropped and the host booted since the step began) is
        waited for, and the step runs again if it retries. After: 1641 waits for the restart the
        installer began; SMSTSRetryRequested restarts and runs the step again; 3010 and
        SMSTSRebootRequested leave a restart owed before the next step (the tsenv_restart fact).
        Controller-only steps never restart the host: a request they make waits for the next step.
        """
        check = self._task.check_mode
        facts: dict = {}
        if not self._requires_connection:
            return self._run_step_once(args, env, task_vars), facts
        owed = task_vars.get(_restart.PENDING_FACT)
        owed = owed if isinstance(owed, dict) and owed.get("pending") else None
        asked = _restart.reboot_request(env) or _restart.retry_requested(env)
        if owed or asked:
            reason = owed.get("reason") if owed else f"{_restart.REBOOT_REQUESTED} was set"
            if check:
                restarter.records.append({"kind": "requested", "reason": reason, "when": "before_step",
                                          "check_mode": True})
            else:
                env.delete(_restart.REBOOT_REQUESTED)
                env.delete(_restart.RETRY_REQUESTED)   # the step that set it has ended
                facts[_restart.PENDING_FACT] = {"pending": False}
                if not self.RESTARTS_HOST:
                    self._planned_restart(restarter, env, task_vars, kind="requested", reason=reason,
                                          when="before_step")
        unexpected = requested = 0
        retries = args["retry_count"] if args.get("retry_on_unexpected_restart") else 0
        while True:
            started = _restart.clock()
            try:
                outcome = self._run_step_once(args, env, task_vars)
            except Exception as e:
                if not _restart.is_connection_error(e):
                    raise
                record = restarter.wait_for_restart(started, kind="unexpected", when="during_step",
                                                    reason="the connection dropped during the step",
                                                    only_if_restarted=True)
                if record is None:
                    raise   # the host did not restart: a plain connection failure
                _forget_boot(task_vars, record)
                if unexpected < retries:
                    unexpected += 1
                    record["retry"] = unexpected
                    continue
                outcome = StepOutcome(
                    succeeded=False, changed=True, fields={"restarted_during_step": True},
                    msg=(f"the host restarted unexpectedly during the step {unexpected + 1} times; "
                         f"retry_count ({retries}) is used up") if retries else
                    "the host restarted unexpectedly during the step, so what the step did is unknown "
                    "(this step is not retried after an unexpected restart)")
            if check:
                return outcome, facts
            restarted_now = False
            if outcome.succeeded and outcome.rc is not None and outcome.rc % UINT32 == _restart.INSTALLER_RESTARTED_RC:
                record = restarter.wait_for_restart(
                    started, kind="installer", when="after_step",
                    reason=f"the step returned {_restart.INSTALLER_RESTARTED_RC}: the installer restarted the host")
                _forget_boot(task_vars, record)
                restarted_now = True
            if _restart.retry_requested(env):
                env.delete(_restart.RETRY_REQUESTED)
                env.delete(_restart.REBOOT_REQUESTED)
                if requested >= _restart.MAX_REQUESTED_RETRIES:
                    outcome = StepOutcome(succeeded=False, rc=outcome.rc, changed=outcome.changed, fields=outcome.fields,
                                          msg=f"{_restart.RETRY_REQUESTED} was set {requested + 1} times in a row; "
                                              f"the step is not run again after {_restart.MAX_REQUESTED_RETRIES}")
                    return outcome, facts
                requested += 1
                if not restarted_now:
                    self._planned_restart(restarter, env, task_vars, kind="retry_requested", when="after_step",
                                          reason=f"{_restart.RETRY_REQUESTED} was set: the step runs again")
                continue
            if (outcome.reboot_required or _restart.reboot_request(env)) and not restarted_now:
                why = (f"'{step_name}' returned {outcome.rc}" if outcome.reboot_required
                       else f"'{step_name}' set {_restart.REBOOT_REQUESTED}")
                facts[_restart.PENDING_FACT] = {"pending": True, "reason": why, "step": step_name}
            env.delete(_restart.REBOOT_REQUESTED)
            return outcome, facts

    def _planned_restart(self, restarter: _restart.Restarter, env: TaskSequenceEnvironment, task_vars: dict,
                         **how) -> dict:
        """A restart the engine makes, with ConfigMgr's engine-wide notice variables."""
        message = env.get(_restart.ENGINE_MESSAGE) or None
        delay = (env.get(_restart.ENGINE_DELAY) or "").strip()
        notice = min(int(delay), _restart.MAX_NOTICE) if delay.isdigit() else _restart.MIN_NOTICE
        record = restarter.restart(message=message[:_restart.MAX_MESSAGE] if message else None, notice=notice,
                                   sensitive=env.is_hidden(_restart.ENGINE_MESSAGE), **how)
        _forget_boot(task_vars, record)
        return record

    def prepare(self, args: dict, env: TaskSequenceEnvironment, secrets: list) -> None:
        """Expand %Name% and check every option: all of it before anything reaches the host."""
        for option in self.EXPAND:
            if isinstance(args.get(option), str):
                args[option] = env.expand(args[option])
        for option in NAME_OPTIONS:
            if args.get(option) is None:
                continue
            check_name(args[option], option)
        for option in CODE_OPTIONS:
            if option in args and args[option] is not None:
                args[option] = check_exit_codes(args[option], option)
        timeout = args.get("timeout")
        if timeout is not None and not 1 <= timeout <= MAX_TIMEOUT:
            raise AnsibleActionFail(
                f"timeout: {timeout} is out of range; give seconds from 1 to {MAX_TIMEOUT} "
                "(ConfigMgr's 1-999 minutes), or leave it unset for no limit."
            )
        self.check_args(args, env)

    def check_args(self, args: dict, env: TaskSequenceEnvironment) -> None:
        """Step-specific checks of the options, before anything runs on the host."""

    def run_step(self, args: dict, env: TaskSequenceEnvironment, task_vars: dict) -> StepOutcome:
        raise NotImplementedError

    # Helpers for the steps -------------------------------------------------

    def set_output_variable(self, env: TaskSequenceEnvironment, name: str | None, stdout: str,
                            variables: dict) -> None:
        if name:
            # Without the final line break: sequences written for ConfigMgr compare the output with
            # `equals` (a script's Write-Output 'de-DE' must equal de-DE).
            stored = env.set(name, last_chars(stdout.rstrip("\r\n")), field="output_variable")
            variables[stored or name] = env.get(name, "")

    def run_module(self, module: str, module_args: dict, task_vars: dict, *, sensitive: bool = False,
                   environment: dict | None = None, timeout: int | None = None) -> dict:
        """One remote execution of an ansible.windows module.

        ``sensitive`` runs it with no_log, so Ansible.Basic censors the invocation and the
        connection logs nothing of it. ``environment`` is added to the task's environment,
        which ansible-core sets in the module's process and its children inherit.
        ``timeout`` (seconds) stops the execution: see ``_remote_time_limit``.
        """
        no_log, environments = self._task.no_log, self._task.environment
        if sensitive:
            self._task.no_log = True
        if environment:
            # Values are data, never templates (ansible-core templates the task environment).
            self._task.environment = [*_as_list(environments), {k: wrap_var(v) for k, v in environment.items()}]
        try:
            with _remote_time_limit(self._connection, timeout):
                return self._execute_module(module_name=module, module_args=module_args, task_vars=task_vars)
        finally:
            self._task.no_log, self._task.environment = no_log, environments

    def upstream_action_plugin(self, name: str, action_args: dict, *, no_log: bool = False):
        """An ansible.windows action plugin (win_copy, win_updates) set up as a task of its own would be:
        this task's connection and check mode, its own arguments, no async."""
        task = self._task.copy()
        task.args = dict(action_args)
        task.async_val = 0
        task.no_log = no_log or self._task.no_log
        return self._shared_loader_obj.action_loader.get(
            name, task=task, connection=self._connection, play_context=self._play_context, loader=self._loader,
            templar=self._templar, shared_loader_obj=self._shared_loader_obj)

    def upstream_action(self, name: str, action_args: dict, task_vars: dict, *, no_log: bool = False) -> dict:
        """Run an ansible.windows action plugin and return its result."""
        return self.upstream_action_plugin(name, action_args, no_log=no_log).run(task_vars=task_vars)

    def run_command(self, args: dict, env: TaskSequenceEnvironment, task_vars: dict, *, display_cmd: str,
                    cmd: str | None = None, argv: list[str] | None = None, chdir: str | None = None,
                    stdin: str | None = None, output_encoding: str | None = None,
                    sensitive: bool = False, extra_environment: dict | None = None) -> StepOutcome:
        """Run one process through ansible.windows.win_command under ConfigMgr's rules for codes.

        One remote execution. The task sequence variables are the process's environment; run
        as another account goes through become (runas); a timeout ends the WinRM command.
        """
        if self._task.check_mode:
            # win_command has no check mode: report what would run, run nothing.
            return StepOutcome(succeeded=True, changed=True, msg=f"check mode: would run {display_cmd}",
                               fields={"cmd": display_cmd})
        environment = {**env.as_environment(), **(extra_environment or {})}
        if argv is None:
            # Connect To Network Folder's connections do not outlive their WinRM task: a command
            # that names a recorded drive letter or share connects it again in its own process.
            from ansible_collections.tasksequence.windows.plugins.plugin_utils._content import reconnect_network_folders

            cmd, chdir, reconnect_env = reconnect_network_folders(task_vars, cmd, chdir)
            environment.update(reconnect_env)
            sensitive = sensitive or bool(reconnect_env)
        module_args: dict = {"argv": argv} if argv is not None else {"cmd": cmd}
        if chdir:
            module_args["chdir"] = chdir
        if stdin is not None:
            module_args["stdin"] = stdin
        if output_encoding:
            module_args["output_encoding_override"] = output_encoding
        sensitive = bool(sensitive or env.secrets() or args.get("run_as_password"))
        timeout = args.get("timeout")
        try:
            with self.run_as(args.get("run_as_user"), args.get("run_as_password")):
                res = self.run_module("ansible.windows.win_command", module_args, task_vars, sensitive=sensitive,
                                      environment=environment, timeout=timeout)
        except RemoteTimeout:
            return StepOutcome(succeeded=False, rc=TIMEOUT_RC, changed=True, fields={"cmd": display_cmd, "timed_out": True},
                               msg=f"the command ran longer than timeout ({timeout} s); its WinRM command and "
                                   "the processes it started were stopped")
        stdout, stderr = res.get("stdout") or "", _readable_stderr(res.get("stderr") or "")
        fields = {"cmd": display_cmd, "stdout": stdout, "stderr": stderr, "stdout_lines": stdout.splitlines(),
                  "stderr_lines": stderr.splitlines(), "timed_out": False}
        rc = res.get("rc")
        if res.get("failed") and "stdout" not in res:
            # win_command could not start the program (rc is the Win32 error, e.g. 2: not found).
            return StepOutcome(succeeded=False, rc=rc if isinstance(rc, int) and rc else NOT_FOUND_RC, changed=False,
                               fields=fields, msg=f"the command could not be started: {res.get('msg') or 'unknown error'}")
        if not isinstance(rc, int):
            raise AnsibleActionFail(f"ansible.windows.win_command returned no exit code: {res.get('msg') or res}")
        variables: dict = {}
        self.set_output_variable(env, args.get("output_variable"), stdout, variables)
        succeeded, reboot = success_outcome(rc, args["success_codes"])
        msg = "" if succeeded else f"the command returned {rc}, which is not in success_codes {args['success_codes']}"
        return StepOutcome(succeeded=succeeded, rc=rc, changed=True, fields=fields, variables=variables,
                           reboot_required=reboot, msg=msg)

    @contextlib.contextmanager
    def run_as(self, user: str | None, password: str | None):
        """Run the remote module as another account (ConfigMgr's 'run as'), through become."""
        if not user:
            yield
            return
        previous = self._connection.become
        plugin = become_loader.get("runas")
        plugin.set_options(direct={"become_user": user, "become_pass": password or ""})
        self._connection.set_become_plugin(plugin)
        try:
            yield
        finally:
            self._connection.set_become_plugin(previous)

    def run_project_script(self, script_id: str, parameters: dict, task_vars: dict, *, depth: int = 2) -> t.Any:
        """One remote execution: a collection script through ansible.windows.win_powershell.

        The script's data goes in win_powershell's ``parameters`` (bound by name, JSON types:
        nothing of ours is quoted into code); returns the script's single output object.
        """
        module_args = {"script": project_script(script_id), "parameters": parameters, "depth": depth}
        res = self.run_module("ansible.windows.win_powershell", module_args, task_vars)
        output = res.get("output") or []
        if res.get("failed") or len(output) != 1:
            errors = "; ".join(_error_text(e) for e in res.get("error") or [])
            reason = res.get("msg") or errors or "no result was returned"
            raise AnsibleActionFail(f"the {script_id} script failed on the host: {reason}")
        return output[0]


class RemoteTimeout(BaseException):
    """The step's time ran out. A BaseException, so no ``except Exception`` on the way swallows it."""


@contextlib.contextmanager
def _remote_time_limit(connection, seconds: int | None):
    """Stop a remote execution after ``seconds``, as ConfigMgr kills a step that runs too long.

    Windows has no kill-on-timeout for win_command, and async's watchdog leaves the program
    running. WinRM does: the processes a shell starts live in the shell's job object, and
    closing the shell ends them all, grandchildren included. So when time runs out the
    WinRM command is signalled (the winrm plugin's own cleanup) and the shell is closed.
    Like ansible-core's task timeout, this uses SIGALRM, so it needs the worker's main thread.
    """
    if not seconds:
        yield
        return
    if threading.current_thread() is not threading.main_thread():
        raise AnsibleActionFail("timeout: cannot be enforced outside the worker's main thread; "
                                "leave timeout unset here.")

    expired = False

    def expire(_signum, _frame):
        nonlocal expired
        expired = True
        raise RemoteTimeout()

    outer = signal.getitimer(signal.ITIMER_REAL)[0]
    if outer and outer <= seconds:
        yield   # the task's own timeout (ansible-core's, also SIGALRM) ends it first
        return
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    except BaseException:
        if not expired:
            raise
        # The alarm cut a request short, and the connection plugin's own cleanup may have
        # failed on the half-used session in its place: the step timed out all the same.
        _close_shell_anew(connection)
        raise RemoteTimeout() from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:   # give the task's own timeout back what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001))


def _close_shell_anew(connection) -> None:
    """Close the timed-out WinRM shell from a fresh session (the old one is out of step)."""
    old_shell = getattr(connection, "shell_id", None)
    with contextlib.suppress(Exception):
        connection.reset()          # a new session (and shell) for what comes next
        protocol = getattr(connection, "protocol", None)
        if old_shell and protocol is not None and old_shell != getattr(connection, "shell_id", None):
            protocol.close_shell(old_shell)   # ends the processes in the old shell's job
            return
    with contextlib.suppress(Exception):
        connection.close()          # psrp and others: closing ends the remote processes


def _forget_boot(task_vars: dict, record: dict) -> None:
    """After a restart the step itself must not use what belonged to the old boot."""
    task_vars.pop("tsenv_hardware", None)
    task_vars[_restart.LASTBOOT_FACT] = record["boot_time"]


def _readable_stderr(stderr: str) -> str:
    """PowerShell writes its own error records to stderr as CLIXML: show their text."""
    if "#< CLIXML" not in stderr:
        return stderr
    try:   # ansible-core's own decoder (internal, hence the fallback)
        from ansible.plugins.shell.powershell import _replace_stderr_clixml

        return _replace_stderr_clixml(stderr.encode("utf-8")).decode("utf-8", "replace")
    except Exception:   # pragma: no cover - an ansible-core without it: show it as it came
        return stderr


def _as_list(environments) -> list:
    if not environments:
        return []
    return list(environments) if isinstance(environments, list) else [environments]


def _error_text(record) -> str:
    """win_powershell's error records carry the text in 'output' or 'exception.message'."""
    if not isinstance(record, dict):
        return str(record)
    exception = record.get("exception") if isinstance(record.get("exception"), dict) else {}
    return str(record.get("output") or exception.get("message") or record.get("message") or record)


def package_location(task_vars: dict, package_id: str, field: str = "package_id") -> str:
    """Where a package's content is on the host, as recorded by download_package_content."""
    locations = task_vars.get(PACKAGES_FACT) or {}
    for key, path in locations.items():
        if key.upper() == package_id.upper():
            return path
    raise AnsibleActionFail(
        f"{field}: no content location is known for package '{package_id}' on this host. "
        "Run tasksequence.windows.download_package_content for it earlier in the sequence, "
        "or give the folder that holds the content with start_in."
    )


def success_outcome(rc: int | None, success_codes: t.Iterable[int]) -> tuple[bool, bool]:
    """(succeeded, reboot_required) for a process exit code under ConfigMgr's rules.

    Windows exit codes are 32-bit: -1 and 4294967295 are the same code.
    """
    if rc is None:
        return False, False
    codes = {code % UINT32 for code in success_codes}
    # 1641 (the installer restarted the host itself) succeeds wherever 3010 does: the frame
    # then waits for the host instead of restarting it.
    succeeded = rc % UINT32 in codes or (rc % UINT32 == _restart.INSTALLER_RESTARTED_RC and _restart.RESTART_RC in codes)
    return succeeded, succeeded and rc % UINT32 in REBOOT_CODES


def check_exit_codes(codes: t.Any, field: str) -> list[int]:
    """Exit codes as Windows reports them: 0 to 4294967295, or their negative int32 form."""
    if not codes:
        raise AnsibleActionFail(f"{field}: is empty; give at least one exit code that means success (ConfigMgr: 0 3010).")
    for code in codes:
        if isinstance(code, bool) or not isinstance(code, int) or not -(2 ** 31) <= code < UINT32:
            raise AnsibleActionFail(
                f"{field}: {code!r} is not a Windows exit code; give whole numbers from 0 to 4294967295 "
                "(or -2147483648 to -1 for the same codes written signed)."
            )
    return list(codes)


# Ansible's own conversions would turn a list or a number into text: refuse them instead.
_RAW_TYPES: dict[str, tuple] = {"str": (str,), "int": (int, str), "bool": (bool, str), "list": (list,),
                                "dict": (dict,)}


def _without_accept(spec: dict) -> dict:
    """The spec without our own ``accept`` key, for Ansible's validator."""
    out = {}
    for name, option in spec.items():
        option = {k: v for k, v in option.items() if k != "accept"}
        if isinstance(option.get("options"), dict):
            option["options"] = _without_accept(option["options"])
        out[name] = option
    return out


def check_raw_types(raw: dict, spec: dict, where: str = "") -> None:
    """Refuse an option given as the wrong kind of value, before any conversion."""
    for name, value in (raw or {}).items():
        option = spec.get(name)
        if option is None or value is None:
            continue
        kind = option.get("type", "str")
        allowed = option.get("accept", _RAW_TYPES.get(kind))
        field = f"{where}{name}"
        if allowed is None:
            continue
        if kind == "int" and isinstance(value, bool) or not isinstance(value, allowed):
            raise AnsibleActionFail(
                f"{field}: is a {kind_of(value)}; give a {kind}"
                + (" (quote it in YAML if it is text)" if kind == "str" else "") + "."
            )
        if kind == "list":
            element = option.get("elements")
            for index, item in enumerate(value):
                if element == "dict" and option.get("options"):
                    if not isinstance(item, dict):
                        raise AnsibleActionFail(f"{field}[{index}]: is a {kind_of(item)}; give a dictionary.")
                    check_raw_types(item, option["options"], f"{field}[{index}].")
                elif element in ("str", "int") and (
                        isinstance(item, bool) or not isinstance(item, _RAW_TYPES[element] if element == "str" else int)):
                    raise AnsibleActionFail(f"{field}[{index}]: is a {kind_of(item)}; give a {element}.")
        if kind == "dict" and option.get("options") and isinstance(value, dict):
            check_raw_types(value, option["options"], f"{field}.")
