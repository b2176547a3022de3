# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One step of a task sequence run by the task_sequence role: decide, run, checkpoint.

The role runs this once per step, as a task named after the step, so every step is its own task
event. Here, on the controller: the step's groups (entered once: disabled, or their condition
evaluated once), the step's own condition, then the step module's own action plugin, in this
process, with the run's variables; then ConfigMgr's failure rules and the checkpoint.
"""

from __future__ import annotations

import os
import time

from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _engine, _inventory, _secrets
from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import StepAction
from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import TaskSequenceEnvironment

COLLECTION = "tasksequence.windows"
ARGUMENT_SPEC = {"index": {"type": "int", "required": True}}


class ActionModule(StepAction):
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):   # noqa: C901 - the engine's rules, in order
        self._supports_check_mode = True
        self._supports_async = False
        task_vars = task_vars or {}
        result = super(StepAction, self).run(tmp, task_vars)
        _v, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        info = task_vars.get("__task_sequence_run") or {}
        if not info.get("journal"):
            raise AnsibleActionFail("sequence_step runs inside the tasksequence.windows.task_sequence role only.")
        journal = _engine.StateFile.__new__(_engine.StateFile)
        journal.directory, journal.path = os.path.dirname(info["journal"]), info["journal"]
        state = journal.load()
        if state is None:
            raise AnsibleActionFail(f"the run's journal {info['journal']} is gone; run the role again.")
        the_plan = _engine.load_plan(state["plan_path"])
        step = the_plan["steps"][args["index"]]
        run = _engine.Run(state["run"])
        env = TaskSequenceEnvironment(state["tsenv"], state["tsenv_hidden"])
        self.__state, self.__journal = state, journal
        self.__task_vars = task_vars
        record = {"index": step["index"], "name": step["name"], "path": step["path"], "module": step["module"],
                  "started": _engine.now(), "conditions": [], "check_mode": bool(self._task.check_mode),
                  "host": task_vars.get("inventory_hostname"), "pid": os.getpid()}
        t0 = time.monotonic()

        def skip(reason: str, **extra):
            run.record(step, _engine.SKIPPED, reason=reason, ended=_engine.now())
            record.update(status=_engine.SKIPPED, reason=reason, ended=_engine.now(),
                          duration=round(time.monotonic() - t0, 3), **extra)
            self._close_if_last(state, run, the_plan, step)
            self._save(state, run, env)
            warning = self._to_host(state, the_plan, step, task_vars, record, ends=run.failed)
            out = dict(result, skipped=True, changed=False, skip_reason=reason, sequence_step=record,
                       **({"warnings": [warning]} if warning else {}))
            return _secrets.scrub(out, env.secrets())

        previous = run.steps.get(str(step["index"])) or {}
        if previous.get("status") in _engine.ENDED:
            record["resumed"] = True
            return dict(result, skipped=True, changed=False, sequence_step=dict(record, status="resumed", **{
                "reason": f"ended ({previous['status']}) in an earlier run; resumed after it"}),
                skip_reason="ended in an earlier run (resume)")
        if run.failed:
            return skip("the sequence has already failed")
        blocked = run.blocked_by(the_plan, step)
        if blocked:
            return skip(blocked)

        entering = run.groups_to_enter(the_plan, step)
        leaves: list = []
        for group in entering:
            if group["disabled"]:
                break
            _engine.host_leaves(group["conditions"], leaves)
        if not step["disabled"]:
            _engine.host_leaves(step["conditions"], leaves)
        try:
            host = self._ask_host(leaves, env, task_vars, state, record) if leaves else {}
            for group in entering:
                if group["disabled"]:
                    run.enter(group, False, "is disabled")
                    return skip(f"group '{group['name']}' is disabled")
                if group.get("child"):
                    self._child_variables(group, env, task_vars)
                trace: list[str] = []
                holds = _engine.evaluate(group["conditions"], env, host, trace)
                if group["conditions"]:
                    record["conditions"].append({"of": f"group {group['name']}", "holds": holds, "trace": trace,
                                                 "condition": _engine.describe(group["conditions"])})
                run.enter(group, holds, f"was skipped: its condition {_engine.describe(group['conditions'])} is false")
                if not holds:
                    return skip(f"group '{group['name']}': its condition is false "
                                f"({_engine.describe(group['conditions'])})")
            if step["placeholder"]:
                return skip(f"placeholder, not run: {step['placeholder']}")
            if step["disabled"]:
                return skip("disabled in the task sequence")
            trace = []
            holds = _engine.evaluate(step["conditions"], env, host, trace)
            if step["conditions"]:
                record["conditions"].append({"of": "step", "holds": holds, "trace": trace,
                                             "condition": _engine.describe(step["conditions"])})
            if not holds:
                return skip(f"its condition is false ({_engine.describe(step['conditions'])})")
        except _secrets.KeyFileError:
            raise
        except AnsibleActionFail as e:
            # A condition that cannot be evaluated fails the step, as in ConfigMgr.
            outcome = {"failed": True, "msg": _secrets.scrub_text(str(e.message), env.secrets()), "rc": 1}
            env.end_step(step["name"], False, 1)
            return self._finish(result, outcome, step, run, env, the_plan, record, t0, before=None)

        before = {"run": _engine.Run(run.data()).data(), "tsenv": env.facts()}
        outcome, env = self._run_step(step, env, task_vars, state, record)
        return self._finish(result, outcome, step, run, env, the_plan, record, t0, before=before)

    # -------------------------------------------------------------------------------------------

    def _save(self, state: dict, run: _engine.Run, env: TaskSequenceEnvironment) -> None:
        facts = env.facts()
        state.update(run=run.data(), tsenv=facts["tsenv"], tsenv_hidden=facts["tsenv_hidden"], updated=_engine.now())
        self.__journal.save(state)

    @staticmethod
    def _close_if_last(state: dict, run: _engine.Run, the_plan: dict, step: dict) -> None:
        """After the last step the run has ended: the checkpoint says so (on the host too, without
        waiting for sequence_end, which has no connection to write with)."""
        if step["index"] + 1 >= len(the_plan["steps"]) and state.get("status") == "running":
            state["status"] = _engine.final_status(run)

    def _to_host(self, state: dict, the_plan: dict, step: dict, task_vars: dict, record: dict, ends: bool):
        """The checkpoint to the host when due (task_sequence_host_checkpoint): one remote execution.
        A write that fails is a warning: the step is done and the controller's journal has it."""
        mode = state.get("host_checkpoint") or "never"
        if self._task.check_mode or not _engine.host_checkpoint_due(the_plan, step, mode, ends):
            return None
        try:
            made = state.get("host_folder_made")
            record["host_checkpoint"] = _engine.write_host_checkpoint(self, state, task_vars)
            if state.get("host_folder_made") != made:
                self.__journal.save(state)   # the folder is made once per run
        except AnsibleActionFail as e:
            record["host_checkpoint"] = None
            return f"the checkpoint was not written to the host ({e.message}); the controller's journal has it"
        record["host_executions"] = int(record.get("host_executions") or 0) + 1
        return None

    def _finish(self, result, outcome, step, run, env, the_plan, record, t0, before):
        state = self.__state
        failed = bool(outcome.get("failed") or outcome.get("step_failed"))
        rc = outcome.get("rc")
        record.update(rc=rc, changed=bool(outcome.get("changed")), msg=outcome.get("msg", ""),
                      variables=outcome.get("variables") or {}, ended=_engine.now(),
                      duration=round(time.monotonic() - t0, 3))
        event_failed = False
        if not failed:
            status = _engine.SUCCEEDED
        elif step["continue_on_error"]:
            status, record["reason"] = _engine.FAILED_CONTINUED, "the step failed; continue on error: the group goes on"
        else:
            goes_on, groups = run.fail(the_plan, step)
            record["failed_groups"] = groups
            if goes_on:
                status = _engine.FAILED_CONTINUED
                record["reason"] = (f"the step failed; group '{groups[-1]}' has continue on error: "
                                    "the sequence goes on with its next sibling")
            else:
                status, event_failed = _engine.FAILED, True
                record["reason"] = "the step failed; the task sequence ends here"
        record["status"] = status
        run.record(step, status, rc=rc, ended=record["ended"], msg=_secrets.scrub(str(record["msg"]), env.secrets()))
        if event_failed and before is not None:
            # A resumed run runs this step again: keep the groups and variables as they were
            # before it, with the failure noted for the report.
            saved = _engine.Run(before["run"])
            saved.steps[str(step["index"])] = run.steps[str(step["index"])]
            saved.failed = True
            state["status"] = "failed"
            state.update(run=saved.data(), tsenv=before["tsenv"]["tsenv"], tsenv_hidden=before["tsenv"]["tsenv_hidden"],
                         updated=_engine.now(), failed_step=step["index"])
            self.__journal.save(state)
        else:
            if event_failed:
                state["status"] = "failed"
            self._close_if_last(state, run, the_plan, step)
            self._save(state, run, env)
        warning = self._to_host(state, the_plan, step, self.__task_vars, record, ends=event_failed)
        shown = {k: v for k, v in outcome.items() if k not in ("ansible_facts", "failed", "step_failed", "invocation")}
        out = dict(result, **shown)
        out.update(failed=event_failed, sequence_step=record)
        if warning:
            out["warnings"] = [*(out.get("warnings") or []), warning]
        if failed and not event_failed:
            out["step_failed"] = True
        out = _secrets.scrub(out, env.secrets())
        facts = env.facts()
        facts.update(state.get("facts") or {})
        out["ansible_facts"] = facts
        return out

    def _run_step(self, step: dict, env: TaskSequenceEnvironment, task_vars: dict, state: dict, record: dict):
        module = step["module"]
        fqcn = f"{COLLECTION}.{module}"
        plugin_class = self._shared_loader_obj.action_loader.get(fqcn, class_only=True)
        if plugin_class is None:
            env.begin_step(step["name"])
            env.end_step(step["name"], False, 1)
            return {"failed": True, "rc": 1, "msg": f"{fqcn} is not available in this version of the collection; "
                    "this step cannot run yet"}, env
        # Action variables apply to this step only, unless the variable was set before it: then the
        # value set earlier wins and stays (ConfigMgr; the SDK and the generated playbook agree).
        added = {}
        for name, value in step["action_variables"].items():
            if env.get(name) is None:
                added[name] = env.expand(value)
                env.set(name, added[name], field=f"action_variables[{name}]")
        attempts = int(step["retry_count"] or 0) + 1
        attempt = 0
        while True:
            attempt += 1
            outcome, env = self._call_step(fqcn, plugin_class, step, env, task_vars, state)
            # Restarts (3010, SMSTSRebootRequested, SMSTSRetryRequested) are the step frame's
            # (the shared restart helper); the pending one travels in the run's facts.
            for restart in outcome.get("restarts") or []:
                record.setdefault("restarts", []).append(restart)
                state.setdefault("restart_log", []).append({"step": record["index"], **restart})
            failed = bool(outcome.get("failed") or outcome.get("step_failed"))
            if not failed or attempt >= attempts:
                break
            time.sleep(state.get("retry_delay", 10))
        record["attempts"] = attempt
        for name, value in added.items():
            if env.get(name) == value:   # not set by the step itself meanwhile
                env.delete(name)
        return outcome, env

    def _call_step(self, fqcn: str, plugin_class: type, step: dict, env: TaskSequenceEnvironment, task_vars: dict,
                   state: dict):
        spec = getattr(plugin_class, "ARGUMENT_SPEC", {})
        step_args = {}
        for key, value in step["options"].items():
            step_args[key] = _engine.resolve_secret(self._templar, task_vars, value, f"{step['name']}: {key}")
        if step["success_codes"] is not None and "success_codes" in spec:
            step_args["success_codes"] = step["success_codes"]
        if step["timeout"] and "timeout" in spec:
            step_args["timeout"] = step["timeout"]
        # Always: the engine, not Ansible, decides what a failure ends (and the facts survive it).
        step_args["continue_on_error"] = True
        task = self._task.copy(exclude_parent=False, exclude_tasks=True)
        task.action = fqcn
        task._resolved_action = fqcn
        task.args = step_args
        task.name = step["name"]
        # The step's own name (ConfigMgr's _SMSTSCurrentActionName), without the role's prefix.
        task.get_name = lambda include_role_fqcn=True, _name=step["name"]: _name
        plugin = plugin_class(task=task, connection=self._connection, play_context=self._play_context,
                              loader=self._loader, templar=self._templar, shared_loader_obj=self._shared_loader_obj)
        step_vars = dict(task_vars)
        step_vars.update(state.get("facts") or {})
        step_vars.update(env.facts())
        try:
            outcome = plugin.run(task_vars=step_vars)
        except (AnsibleConnectionFailure, _secrets.KeyFileError):
            raise   # unreachable / setup: not the step's failure; the checkpoint stays before it
        except AnsibleActionFail as e:
            env.begin_step(step["name"])
            env.end_step(step["name"], False, 1)
            return {"failed": True, "rc": 1, "msg": _secrets.scrub_text(str(e.message), env.secrets())}, env
        facts = outcome.get("ansible_facts") or {}
        env = TaskSequenceEnvironment(facts.get("tsenv") or {}, facts.get("tsenv_hidden") or {})
        state["facts"] = {**(state.get("facts") or {}),
                          **{k: v for k, v in facts.items() if k not in ("tsenv", "tsenv_hidden")}}
        return outcome, env

    def _child_variables(self, group: dict, env: TaskSequenceEnvironment, task_vars: dict) -> None:
        """A child sequence's own variables, set when it starts, in the shared environment."""
        for var in group["child"]["variables"]:
            value = _engine.resolve_secret(self._templar, task_vars, var["value"], f"variables[{var['name']}]")
            env.set(var["name"], value, hidden=bool(var.get("hidden")))

    def _ask_host(self, leaves: list, env: TaskSequenceEnvironment, task_vars: dict, state: dict, record: dict) -> dict:
        """Every host condition this step (and the groups it enters) needs, from ONE host_query execution."""
        cached = (state.get("facts") or {}).get(_inventory.FACT) or task_vars.get(_inventory.FACT)
        host, record["host_executions"] = _engine.ask_host(self, leaves, env, task_vars, cached)
        return host
