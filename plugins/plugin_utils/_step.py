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
import json
import os
import typing as t

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import become_loader

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _secrets
from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import (
    HIDDEN_FACT,
    TaskSequenceEnvironment,
    TaskSequenceVariableError,
    check_name,
)

COMMON_SPEC: dict[str, dict] = {
    "continue_on_error": {"type": "bool", "default": False},
}

RUN_AS_SPEC: dict[str, dict] = {
    "run_as_user": {"type": "str"},
    "run_as_password": {"type": "str", "no_log": True},
}

DEFAULT_SUCCESS_CODES = [0, 3010]
REBOOT_CODES = (3010,)
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
    """The text of one of the collection's PowerShell scripts (first line is its marker)."""
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

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        self._supports_async = False
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp

        _validation, args = self.validate_argument_spec(
            argument_spec={**self.ARGUMENT_SPEC, **COMMON_SPEC},
            mutually_exclusive=self.MUTUALLY_EXCLUSIVE,
            required_one_of=self.REQUIRED_ONE_OF,
            required_together=self.REQUIRED_TOGETHER,
            required_if=self.REQUIRED_IF,
        )
        env = TaskSequenceEnvironment.from_task_vars(task_vars)
        secrets = [args.get(k) for k, spec in self.ARGUMENT_SPEC.items() if spec.get("no_log") and args.get(k)]
        step_name = self._task.get_name()
        env.begin_step(step_name)
        for option in self.EXPAND:
            if isinstance(args.get(option), str):
                args[option] = env.expand(args[option])
        if args.get("output_variable"):
            check_name(args["output_variable"], "output_variable")
        timeout = args.get("timeout")
        if timeout is not None and not 1 <= timeout <= MAX_TIMEOUT:
            raise AnsibleActionFail(
                f"timeout: {timeout} is out of range; give seconds from 1 to {MAX_TIMEOUT} "
                "(ConfigMgr's 1-999 minutes), or leave it unset for no limit."
            )
        self.check_args(args, env)

        try:
            outcome = self.run_step(args, env, task_vars)
        except TaskSequenceVariableError:
            raise
        except AnsibleActionFail as e:
            # A failure on the host is the step's failure: continue_on_error applies to it.
            # (Bad options were refused above; a lost connection still raises.)
            outcome = StepOutcome(succeeded=False, msg=e.message)

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
            ansible_facts={**outcome.facts, **env.facts()},
        )
        if outcome.msg:
            result["msg"] = outcome.msg
        if not outcome.succeeded and args["continue_on_error"]:
            result["step_failed"] = True
            result["msg"] = f"{outcome.msg} (continue_on_error: the sequence goes on)".lstrip()
        # The ciphertexts are not scrubbed: a short secret could occur inside one and corrupt it.
        sealed = result["ansible_facts"].pop(HIDDEN_FACT)
        result = _secrets.scrub(result, env.secrets() + secrets)
        result["ansible_facts"][HIDDEN_FACT] = sealed
        return result

    def check_args(self, args: dict, env: TaskSequenceEnvironment) -> None:
        """Step-specific checks of the options, before anything runs on the host."""

    def run_step(self, args: dict, env: TaskSequenceEnvironment, task_vars: dict) -> StepOutcome:
        raise NotImplementedError

    # Helpers for the steps -------------------------------------------------

    def set_output_variable(self, env: TaskSequenceEnvironment, name: str | None, stdout: str,
                            variables: dict) -> None:
        if name:
            stored = env.set(name, last_chars(stdout), field="output_variable")
            variables[stored or name] = env.get(name, "")

    def run_process(self, args: dict, env: TaskSequenceEnvironment, task_vars: dict, *,
                    command_line: str | None, display_cmd: str, powershell: dict | None = None,
                    working_directory: str | None = None, redirect_wow64: bool = False,
                    quiet: bool = False) -> StepOutcome:
        """Run one process on the host (one remote execution) under ConfigMgr's rules."""
        if self._task.check_mode:
            return StepOutcome(succeeded=True, changed=True, msg=f"check mode: would run {display_cmd}",
                               fields={"cmd": display_cmd})
        payload = {"command_line": command_line, "environment": env.as_environment(), "powershell": powershell}
        params = {
            "working_directory": working_directory,
            "timeout_seconds": args.get("timeout") or 0,
            "redirect_wow64": redirect_wow64,
        }
        sensitive = bool(quiet or env.secrets() or args.get("run_as_password"))
        with self.run_as(args.get("run_as_user"), args.get("run_as_password")):
            out = self.run_project_script("run_process", params, task_vars, sensitive=sensitive,
                                          payload=json.dumps(payload))
        stdout, stderr = out.get("stdout") or "", out.get("stderr") or ""
        fields = {"cmd": display_cmd, "stdout": stdout, "stderr": stderr,
                  "stdout_lines": stdout.splitlines(), "stderr_lines": stderr.splitlines(),
                  "timed_out": bool(out.get("timed_out"))}
        variables: dict = {}
        if not out.get("command_found", True):
            return StepOutcome(succeeded=False, rc=NOT_FOUND_RC, changed=False, fields=fields,
                               msg=f"the command could not be started: {stderr.strip() or 'not found'}")
        if out.get("timed_out"):
            return StepOutcome(succeeded=False, rc=TIMEOUT_RC, changed=True, fields=fields,
                               msg=f"the command ran longer than timeout ({args['timeout']} s) and was stopped")
        rc = out.get("rc")
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

    def run_project_script(self, script_id: str, parameters: dict, task_vars: dict, *,
                           sensitive: bool, payload: str | None = None) -> dict:
        """One remote execution: a collection script through ansible.windows.win_powershell.

        Returns the script's single output object. ``payload`` (JSON text) reaches the
        script as ``payload_json``, or, when ``sensitive``, as the SecureString
        ``sensitive_payload`` through win_powershell's no_log ``sensitive_parameters``, so the
        module's invocation never echoes it; ``sensitive`` also runs the module with no_log.
        """
        module_args = {"script": project_script(script_id), "parameters": dict(parameters)}
        if payload is not None:
            if sensitive:
                module_args["sensitive_parameters"] = [{"name": "sensitive_payload", "value": payload}]
            else:
                module_args["parameters"]["payload_json"] = payload
        no_log = self._task.no_log
        if sensitive:
            self._task.no_log = True
        try:
            res = self._execute_module(
                module_name="ansible.windows.win_powershell", module_args=module_args, task_vars=task_vars
            )
        finally:
            self._task.no_log = no_log
        output = res.get("output") or []
        if res.get("failed") or len(output) != 1 or not isinstance(output[0], dict):
            errors = "; ".join(_error_text(e) for e in res.get("error") or [])
            reason = res.get("msg") or errors or "no result was returned"
            raise AnsibleActionFail(f"the {script_id} script failed on the host: {reason}")
        return output[0]


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
    """(succeeded, reboot_required) for a process exit code under ConfigMgr's rules."""
    if rc is None:
        return False, False
    succeeded = rc in set(success_codes)
    return succeeded, succeeded and rc in REBOOT_CODES
