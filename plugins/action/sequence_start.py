# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The task_sequence role's first task: load the definition, set up the variables, resume or start."""

from __future__ import annotations

import os
import uuid

import yaml
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _engine, _secrets
from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import kind_of
from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import (
    TaskSequenceEnvironment,
    TaskSequenceVariableError,
)

ARGUMENT_SPEC = {
    "definition": {"type": "raw"},
    "definition_file": {"type": "path"},
    "collection_variables": {"type": "dict", "default": {}},
    "device_variables": {"type": "dict", "default": {}},
    "child_sequences": {"type": "dict", "default": {}},
    "inherit_tsenv": {"type": "bool", "default": False},
    "resume": {"type": "bool", "default": True},
    "state_dir": {"type": "path"},
    "retry_delay": {"type": "int", "default": 10},
    "host_checkpoint": {"type": "str", "default": "never", "choices": list(_engine.HOST_CHECKPOINT_MODES)},
}
DEFAULT_STATE_DIR = "~/.ansible/tasksequence_windows/state"


class _InertLoader(yaml.SafeLoader):
    """YAML as data: ``!unsafe`` text stays text (it is never templated here anyway)."""


_InertLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load_definition(value, path: str | None, what: str) -> dict:
    if value is None and not path:
        raise AnsibleActionFail(f"{what}: give the sequence as data (task_sequence_definition) or as a file "
                                "(task_sequence_definition_file).")
    if value is None:
        try:
            with open(path, encoding="utf-8-sig") as f:
                value = yaml.load(f, Loader=_InertLoader)   # noqa: S506 - a SafeLoader subclass
        except (OSError, yaml.YAMLError) as e:
            raise AnsibleActionFail(f"{what}: cannot read {path}: {e}") from None
    elif isinstance(value, str):
        raise AnsibleActionFail(f"{what}: is text; give the definition as a dictionary, or its path as a file.")
    if not isinstance(value, dict):
        raise AnsibleActionFail(f"{what}: is a {kind_of(value)}, not a sequence definition (a dictionary).")
    definition = _engine.plain(value)
    _engine.validate(definition, what)
    return definition


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    # The host's checkpoint is read here (one remote execution per run, see _checkpoint).
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        _v, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        host = task_vars.get("inventory_hostname", "localhost")
        try:
            definition = load_definition(args["definition"], args["definition_file"], "task_sequence_definition")
            children = {name: load_definition(v if isinstance(v, dict) else None, v if isinstance(v, str) else None,
                                              f"task_sequence_child_sequences[{name}]")
                        for name, v in (args["child_sequences"] or {}).items()}
            the_plan = _engine.plan(definition, children)
        except _engine.EngineError as e:
            raise AnsibleActionFail(str(e)) from None

        state_dir = os.path.expanduser(args["state_dir"] or DEFAULT_STATE_DIR)
        check = bool(self._task.check_mode)
        journal = _engine.journal(state_dir, host, check)
        warnings: list[str] = []
        checkpoint, source = self._checkpoint(args, state_dir, host, check, the_plan, task_vars, warnings)
        # A run that stopped (controller killed: still "running") or failed goes on from its first
        # unfinished step; the failed step runs again, with the variables it started with.
        resumable = (checkpoint is not None and checkpoint.get("plan_id") == the_plan["id"]
                     and checkpoint.get("status") in ("running", "failed"))
        if checkpoint and not resumable and checkpoint.get("status") == "running":
            warnings.append(f"the checkpoint of an unfinished run of another version of the sequence "
                            f"({checkpoint.get('name')}) is set aside: this run starts over")
        plan_path, tasks_file = _engine.save_plan(state_dir, the_plan)
        if resumable:
            state = dict(checkpoint)
            run = _engine.Run(state["run"])
            if state.get("status") == "failed":
                failed_step = state.pop("failed_step", None)
                if failed_step is not None:
                    run.steps.pop(str(failed_step), None)
                run.failed = False
                state["status"] = "running"
            first = run.first_unfinished(len(the_plan["steps"]))
            run.resumed_from = first
            state.update(run=run.data(), restarts=state.get("restarts", 0))
            state.setdefault("resumes", []).append({"at": _engine.now(), "step": first})
            env = TaskSequenceEnvironment(state["tsenv"], state["tsenv_hidden"])
        else:
            try:
                env = self._environment(definition, args, task_vars, the_plan)
            except (TaskSequenceVariableError, _secrets.KeyFileError):
                raise
            run = _engine.Run({"run_id": uuid.uuid4().hex})
            first = 0
            state = {"plan_id": the_plan["id"], "plan_path": plan_path, "name": the_plan["name"], "host": host,
                     "status": "running", "started": _engine.now(), "run": run.data(), "facts": {}, "restarts": 0,
                     "resumes": [], "check_mode": check, "retry_delay": args["retry_delay"]}
        state.update(tsenv=env.facts()["tsenv"], tsenv_hidden=env.facts()["tsenv_hidden"], plan_path=plan_path,
                     check_mode=check, retry_delay=args["retry_delay"], host=host,
                     host_checkpoint="never" if check else args["host_checkpoint"])
        journal.save(state)

        steps = the_plan["steps"]
        result.update(
            changed=False,
            sequence={"name": the_plan["name"], "id": the_plan["id"], "run_id": run.run_id, "steps": len(steps),
                      "groups": len(the_plan["groups"]), "resumed": resumable, "first_step": first,
                      "check_mode": check, "journal": journal.path,
                      "resumed_from": source if resumable else None},
            ansible_facts={"__task_sequence_run": {"journal": journal.path, "run_id": run.run_id,
                                                   "tasks_file": tasks_file, "first_step": first},
                           **env.facts()},
        )
        if resumable:
            result["msg"] = f"resuming {the_plan['name']} at step {first + 1} of {len(steps)}" + (
                " from the checkpoint on the host" if source == "host" else "")
        else:
            result["msg"] = f"starting {the_plan['name']}: {len(steps)} steps"
        if warnings:
            result["warnings"] = warnings
        return result

    def _checkpoint(self, args: dict, state_dir: str, host: str, check: bool, the_plan: dict, task_vars: dict,
                    warnings: list) -> tuple[dict | None, str]:
        """The checkpoint to resume from: the controller's journal, or the host's copy when that is
        newer (or the journal is missing: a new controller, an AWX job on another node)."""
        if not args["resume"]:
            return None, "controller"
        controller = _engine.StateFile(state_dir, host).load()
        if check or args["host_checkpoint"] == "never":
            return controller, "controller"
        try:
            on_host = _engine.read_host_checkpoint(self, the_plan["id"], task_vars)
        except _engine.EngineError:
            if controller is None:
                raise
            warnings.append("the checkpoint on the host is not readable with this controller's key; "
                            "the controller's journal is used")
            return controller, "controller"
        except AnsibleActionFail as e:
            if controller is None:
                raise AnsibleActionFail(f"{e.message}; set task_sequence_host_checkpoint: never to run without "
                                        "the host's checkpoint") from None
            warnings.append(f"{e.message}; the controller's journal is used")
            return controller, "controller"
        return _engine.newest(controller, on_host)

    def _environment(self, definition: dict, args: dict, task_vars: dict, the_plan: dict) -> TaskSequenceEnvironment:
        """Precedence (ConfigMgr's): the sequence's own variables < collection < device < set during the run."""
        env = TaskSequenceEnvironment(*(
            (task_vars.get("tsenv") or {}, task_vars.get("tsenv_hidden") or {}) if args["inherit_tsenv"] else ()))
        inherited = set(env.names())
        for var in definition.get("variables") or []:
            if var["name"].lower() in {n.lower() for n in inherited}:
                continue
            value = _engine.resolve_secret(self._templar, task_vars, var["value"], f"variables[{var['name']}]")
            env.set(var["name"], value, hidden=bool(var.get("hidden")))
        for scope in ("collection_variables", "device_variables"):
            for name, value in (args[scope] or {}).items():
                if name.lower() in {n.lower() for n in inherited}:
                    continue
                hidden = False
                if isinstance(value, dict):
                    value, hidden = value.get("value"), bool(value.get("hidden"))
                env.set(str(name), value, hidden=hidden, field=f"task_sequence_{scope}")
        machine = str(task_vars.get("ansible_hostname") or task_vars.get("inventory_hostname") or "")
        for name, value in (("_SMSTSPackageName", the_plan["name"]), ("_SMSTSType", "2"),
                            ("_SMSTSMachineName", machine.split(".", maxsplit=1)[0].upper())):
            if value:
                env.set(name, value, engine=True)
        return env
