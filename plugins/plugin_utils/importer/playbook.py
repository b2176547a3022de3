# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sequence definition -> a standalone, readable playbook that uses the step modules directly.

Internal to this collection: no compatibility promise.

Groups become blocks whose condition is evaluated once, before the group (a ``set_fact``), as
ConfigMgr does; step conditions become ``when:``; conditions that need the host (file, folder,
registry, WMI, installed software, OS language) become check tasks right before the step or
group, whose registered results the ``when:`` reads. Every string from the definition is
written ``!unsafe`` and reaches expressions only through task ``vars`` (see ``inert``).
"""

from __future__ import annotations

import datetime
import os

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _conditions
from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import inert, validate
from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer.errors import SequenceImportError
from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer.inert import Unsafe

COLLECTION = "tasksequence.windows"
PROCESS_MODULES = ("run_command_line", "run_powershell_script")
ACTION_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "action")
# Ansible's version test takes these spellings of the comparison table's operators.
VERSION_OPS = {"equals": "==", "not_equals": "!=", "less": "<", "less_equal": "<=", "greater": ">",
               "greater_equal": ">="}
TSENV = "tsenv | default({})"
TSVAR = f"{COLLECTION}.tsvar"
# What ansible.windows' setup reports as os_product_type, by the OS condition's product type.
PRODUCT_TYPES = {"client": ["workstation"], "server": ["server", "domain_controller"]}


def available_modules() -> set[str]:
    """Step modules this installed collection implements."""
    return {f[:-3] for f in os.listdir(ACTION_DIR) if f.endswith(".py") and not f.startswith("_")}


class PlaybookWriter:
    def __init__(self, definition: dict, hosts_var: str = "tasksequence_hosts"):
        validate.validate(definition, "the sequence definition")
        self.d = definition
        self.hosts_var = hosts_var
        self.available = available_modules()
        self.secrets = {s["variable"] for s in definition.get("secrets") or []}
        self.n = 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    # conditions --------------------------------------------------------------------------------

    def condition(self, node: dict, checks: list[dict], variables: dict) -> str:
        """Jinja expression for a condition node. Its data goes to ``variables`` (the task's
        ``vars``, ``!unsafe``); host checks are appended to ``checks``. Comparisons go through the
        ``tsvar`` test, so they mean what ``_conditions`` says (the engine's semantics)."""
        (kind, value), = node.items()
        if kind in ("all", "any", "none"):
            parts = [f"({self.condition(child, checks, variables)})" for child in value]
            if kind == "all":
                return " and ".join(parts) or "true"
            joined = " or ".join(parts) or "false"   # any: one node holds, so an empty any never holds
            return f"not ({joined})" if kind == "none" else joined
        n = self._next()
        ref = f"ts_c{n}"
        if kind == "variable":
            op = value["operator"]
            variables[ref] = inert.unsafe({"name": value["name"], "value": value.get("value", "")})
            if op not in _conditions.VARIABLE_OPERATORS:
                raise SequenceImportError(f"variable condition operator {op!r} is unknown.", file="the sequence definition")
            if op == "not_like":
                # As not_equals: a variable that does not exist is not compared (_conditions.variable_leaf).
                return (f"{TSENV} is {TSVAR}({ref}.name, 'exists') and "
                        f"not ({TSENV} is {TSVAR}({ref}.name, 'like', {ref}.value))")
            if op in ("exists", "not_exists"):
                return f"{TSENV} is {TSVAR}({ref}.name, '{op}')"
            return f"{TSENV} is {TSVAR}({ref}.name, '{op}', {ref}.value)"
        if kind == "os_version":
            variables[ref] = inert.unsafe(dict(value))
            facts = "ansible_facts"
            parts = []
            arch = value.get("architecture")
            if arch == "x64":
                parts.append(f"{facts}['architecture'] is search('64') and {facts}['architecture'] is not search('ARM')")
            elif arch == "x86":
                parts.append(f"{facts}['architecture'] is search('32')")
            elif arch == "arm64":
                parts.append(f"{facts}['architecture'] is search('ARM')")
            if value.get("product_type"):
                kinds = PRODUCT_TYPES[value["product_type"]]
                parts.append(f"{facts}['os_product_type'] | default('') in {kinds!r}")
            for key, op in (("min_version", ">="), ("max_version", "<=")):
                if value.get(key):
                    parts.append(f"{facts}['distribution_version'] is version({ref}.{key}, '{op}')")
            return " and ".join(parts) or "true"
        task, expr = self._host_check(kind, value, f"ts_check_{n}", ref, variables)
        checks.append(task)
        return expr

    def _host_check(self, kind: str, v: dict, reg: str, ref: str, variables: dict) -> tuple[dict, str]:
        """A task that looks at the host, and the expression that reads its result. Values the
        expression compares go to ``variables`` (the vars of the task whose `when` reads them)."""
        task_vars: dict = {}

        def arg(key: str):
            """The value for a module argument: inert, or expanded from %Name% through a var."""
            value = v[key]
            if isinstance(value, str) and "%" in value:
                task_vars[f"{ref}_{key}"] = Unsafe(value)
                return f"{{{{ {ref}_{key} | {COLLECTION}.tsexpand({TSENV}) }}}}"
            return Unsafe(value)

        def compared(left: str, op: str, right_var: str) -> str:
            # The comparison table of _conditions (numbers as numbers, text without case), via tsvar.
            return f"({{'v': {left}}} is {TSVAR}('v', '{op}', {right_var}))"

        if kind == "file" and v.get("version"):
            # win_stat reports no file version: the engine reads it (CIM_DataFile) in one execution.
            task = {"name": Unsafe(f"Check the version of {v['path']}"),
                    f"{COLLECTION}.evaluate_conditions": {"conditions": inert.unsafe({kind: dict(v)})}, "register": reg}
            expr = f"{reg}.holds"
        elif kind in ("file", "folder"):
            task = {"name": Unsafe(f"Check {kind} {v['path']}"), "ansible.windows.win_stat": {"path": arg("path")},
                    "register": reg}
            if kind == "file":
                task["ansible.windows.win_stat"]["get_checksum"] = False
            expr = f"{reg}.stat.exists and {reg}.stat.{'isreg' if kind == 'file' else 'isdir'}"
            if v.get("date_time") and _epoch(v["date_time"]) is not None:
                # ConfigMgr compares the UTC timestamp; win_stat gives seconds since the epoch.
                variables[f"{ref}_time"] = str(_epoch(v["date_time"]))
                expr += " and " + compared(f"({reg}.stat.lastwritetime | int | string)",
                                           v.get("date_time_operator", "equals"), f"{ref}_time")
        elif kind == "registry":
            # ConfigMgr writes HKEY_LOCAL_MACHINE\...; win_reg_stat takes only HKLM:\... (win_reg_stat.ps1).
            # A key that starts with a %Name% reference is left for the variable to give the hive.
            v = {**v, "key": v["key"] if v["key"].lstrip().startswith("%") else _conditions.registry_path(v["key"])}
            args = {"path": arg("key")}
            if v.get("value"):
                args["name"] = arg("value")
            task = {"name": Unsafe(f"Check registry {v['key']}"), "ansible.windows.win_reg_stat": args, "register": reg}
            op = v["operator"]
            if op in ("exists", "not_exists"):
                expr = f"{reg}.exists"
                if v.get("type") and v.get("value"):
                    # ConfigMgr: the type matters for existence only (a value of another type does not exist).
                    variables[f"{ref}_type"] = Unsafe(v["type"])
                    expr = f"({expr} and ({reg}.type | default('') | upper) == ({ref}_type | upper))"
                if op == "not_exists":
                    expr = f"not {expr}"
            else:
                variables[f"{ref}_data"] = Unsafe(v.get("data", ""))
                # The data whatever its type: REG_MULTI_SZ and REG_BINARY lists comma-joined (as the engine does).
                data = (f"({reg}.value | join(',') if {reg}.value is iterable and {reg}.value is not string "
                        f"else {reg}.value | string)")
                expr = f"{reg}.exists and " + compared(data, op, f"{ref}_data")
        elif kind == "software" and v.get("product_code") and v["match"] == "exact" and not v.get("version"):
            key = f"HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{v['product_code']}"
            task = {"name": Unsafe(f"Check installed product {v['product_code']}"),
                    "ansible.windows.win_reg_stat": {"path": Unsafe(key)}, "register": reg}
            expr = f"{reg}.exists"
        else:
            # WMI, OS language, installed software: no module reads them, so the engine's own
            # evaluation does (one host_query execution), with the role's semantics.
            task = {"name": f"Check {kind.replace('_', ' ')} on the host",
                    f"{COLLECTION}.evaluate_conditions": {"conditions": inert.unsafe({kind: dict(v)})}, "register": reg}
            expr = f"{reg}.holds"
        if task_vars:
            task["vars"] = task_vars
        return task, f"({expr})"

    # items -------------------------------------------------------------------------------------

    def items(self, items: list[dict], in_coe: bool = False) -> list[dict]:
        """``in_coe``: inside a group with continue on error (see ``_fail_check``)."""
        out: list[dict] = []
        for item in items:
            out.extend(self.group(item, in_coe) if "group" in item else self.step(item, in_coe))
        return out

    def _when(self, item: dict) -> tuple[list[dict], str | None, dict]:
        checks: list[dict] = []
        variables: dict = {}
        expr = self.condition(item["conditions"], checks, variables) if item.get("conditions") else None
        return checks, expr, variables

    def _disabled_when(self, item: dict, task: dict) -> None:
        """A disabled item keeps its condition, never evaluated (``false`` comes first)."""
        _checks, expr, variables = self._when(item)
        task["when"] = [False, expr] if expr else False
        if variables:
            task.setdefault("vars", {}).update(variables)

    def group(self, g: dict, in_coe: bool = False) -> list[dict]:
        name = Unsafe(f"Group: {g['group']}")   # "Group:" also keeps ansible-lint's name[casing] satisfied
        inner_coe = in_coe or bool(g.get("continue_on_error"))
        if g.get("disabled"):
            note = g.get("note") or "disabled in the task sequence"
            block = {"name": Unsafe(f"{name} (skipped: {note})")}
            self._disabled_when(g, block)   # name, when, vars, block: ansible-lint's key order
            block["block"] = self.items(g["steps"], inner_coe) or [
                {"name": "Empty group", "ansible.builtin.debug": {"msg": "this group has no steps"}}]
            return [block]
        checks, expr, variables = self._when(g)
        tasks = list(checks)
        block: dict = {"name": name}
        if expr:
            # ConfigMgr evaluates a group's condition once, before the group; a block's `when`
            # would be evaluated again for every task inside it.
            fact = f"ts_group_{self._next()}"
            evaluate = {"name": Unsafe(f"Evaluate the condition of group {g['group']}"),
                        "ansible.builtin.set_fact": {fact: "{{ " + expr + " }}"}}
            if variables:
                evaluate["vars"] = variables
            tasks.append(evaluate)
            block["when"] = f"{fact} | default(false) | bool"
        block["block"] = self.items(g["steps"], inner_coe) or [
            {"name": "Empty group", "ansible.builtin.debug": {"msg": "this group has no steps"}}]
        if g.get("continue_on_error"):
            block["rescue"] = [{"name": Unsafe(f"{g['group']} failed; the sequence goes on (continue on error)"),
                                "ansible.builtin.debug": {"msg": "{{ ansible_failed_result.msg | default('failed') }}"}}]
        tasks.append(block)
        return tasks

    def _options(self, s: dict) -> dict:
        """The step's options, inert, but for the importer's own secret references."""
        hidden = s.get("module") == "set_task_sequence_variable" and (s.get("options") or {}).get("hidden") is True
        out = {}
        for key, value in (s.get("options") or {}).items():
            value = _untab(value)
            if (key in inert.SECRET_OPTIONS or (hidden and key == "value")) and inert.secret_ref(value, self.secrets):
                out[key] = value
            elif key in ("rules", "variables") and isinstance(value, list):
                out[key] = [self._dynamic(entry) for entry in value]
            else:
                out[key] = inert.unsafe(value)
        return out

    def _dynamic(self, entry):
        """A dynamic variables rule or variable: hidden values keep their secret reference."""
        if not isinstance(entry, dict):
            return inert.unsafe(entry)
        out = {}
        for key, value in entry.items():
            if key == "variables" and isinstance(value, list):
                out[key] = [self._dynamic(v) for v in value]
            elif key == "value" and entry.get("hidden") is True and inert.secret_ref(value, self.secrets):
                out[key] = value
            else:
                out[key] = inert.unsafe(value)
        return out

    def step(self, s: dict, in_coe: bool = False) -> list[dict]:
        title = _title(s["name"])
        was_disabled = (s.get("source") or {}).get("disabled") or (s.get("disabled") and not s.get("placeholder"))
        if s.get("placeholder"):
            suffix = " (disabled in the task sequence)" if was_disabled else ""
            child = s.get("child_sequence") or {}
            task = {"name": Unsafe(f"{title} (placeholder, not run: {s['placeholder']['reason']}){suffix}"),
                    "ansible.builtin.debug": {"msg": Unsafe(f"{(s.get('source') or {}).get('type', 'step')}: "
                                                            f"{s['placeholder']['reason']}")}}
            if child:
                task["vars"] = {"ts_child_sequence": inert.unsafe(child)}
            self._disabled_when(s, task)
            return [task]
        module = s["module"]
        options = self._options(s)
        task: dict = {"name": Unsafe(title)}
        if module in PROCESS_MODULES:
            if "success_codes" in s and s["success_codes"] != [0, 3010]:
                options["success_codes"] = s["success_codes"]
            if "timeout" in s:
                options["timeout"] = s["timeout"]
        elif "timeout" in s:
            task["timeout"] = s["timeout"]
        # Inside a group with continue on error, a failed step must keep its facts
        # (_SMSTSLastActionSucceeded=false) for the steps after the group: it runs with
        # continue_on_error and the check after it ends the group (the group's rescue).
        check = in_coe and not s.get("continue_on_error") and not s.get("disabled") and module in self.available
        if s.get("continue_on_error") or check:
            options["continue_on_error"] = True
        if module not in self.available:
            # Fail where the step would run rather than skip an install silently.
            task["ansible.builtin.fail"] = {"msg": f"{COLLECTION}.{module} is not available in this version of the "
                                                   "collection; this step cannot run yet."}
            task["vars"] = {"ts_step_options": options}
        else:
            task[f"{COLLECTION}.{module}"] = options
        if s.get("action_variables") and module in self.available:
            task["environment"] = self._action_variables(s)
        result = f"ts_r{self._next()}"
        if s.get("retry_count") or check:
            task["register"] = result
        if s.get("retry_count"):
            task.update(until=f"{result} is succeeded and not ({result}.step_failed | default(false))",
                        retries=s["retry_count"], delay=10)
        if s.get("disabled"):
            task["name"] = Unsafe(f"{title} (disabled in the task sequence)")
            self._disabled_when(s, task)
            task.pop("register", None)
            return [task]
        checks, expr, variables = self._when(s)
        if expr:
            task["when"] = expr
            task.setdefault("vars", {}).update(variables)
        tasks = [*checks, task]
        if check:
            fail = {"name": Unsafe(f"{title} failed: its group ends (continue on error)"),
                    "ansible.builtin.fail": {"msg": "{{ " + result + ".msg | default('the step failed') }}"},
                    "when": f"{result}.step_failed | default(false)"}
            tasks.append(fail)
        return tasks

    def _action_variables(self, s: dict) -> dict:
        """ConfigMgr's action variables of the step: in its process's environment for this task only;
        a variable the sequence already set wins (the step adds the task sequence variables after them)."""
        out = {}
        for name, value in s["action_variables"].items():
            live = inert.secret_ref(value, self.secrets)
            out[Unsafe(name)] = value if live else Unsafe(value)
        return out

    def playbook(self) -> list[dict]:
        tasks: list[dict] = []
        for var in self.d.get("variables") or []:
            value = var["value"]
            live = var.get("hidden") is True and inert.secret_ref(value, self.secrets)
            args = {"name": Unsafe(var["name"]), "value": value if live else Unsafe(value)}
            if var.get("hidden"):
                args["hidden"] = True
            tasks.append({"name": Unsafe(f"Sequence variable {var['name']}"),
                          f"{COLLECTION}.set_task_sequence_variable": args})
        tasks.extend(self.items(self.d["steps"]))
        if not tasks:
            tasks = [{"name": "Empty sequence", "ansible.builtin.debug": {"msg": "the task sequence has no steps"}}]
        return [{"name": Unsafe(_title(self.d["name"])), "hosts": "{{ " + self.hosts_var + " | default('windows') }}",
                 "gather_facts": True, "tasks": tasks}]

    def text(self) -> str:
        s = self.d.get("import_summary") or {}
        src = self.d.get("source") or {}
        c = inert.comment
        head = [f"# {c(self.d['name'])}: imported by {COLLECTION} from {c(src.get('file', 'a task sequence'))}",
                f"# ({c(src.get('format', '?'))}, format_version {c(self.d['format_version'])}).",
                f"# {c(s.get('steps', '?'))} steps: {c(s.get('imported', '?'))} imported, "
                f"{len(s.get('placeholders', []))} kept as skipped placeholders.",
                "# Every string from the export is !unsafe: Ansible never templates it."]
        if self.d.get("secrets"):
            head.append("# Secrets to supply (for example from ansible-vault), never stored here:")
            head += [f"#   {c(sec['variable'])}  ({c(sec['step'])}: {c(sec['option'])})" for sec in self.d["secrets"]]
        missing = sorted({i["module"] for i in _walk(self.d["steps"]) if i.get("module") and i["module"] not in self.available})
        if missing:
            head.append("# Steps whose module is not in this version fail when reached:")
            head += [f"#   {COLLECTION}.{m}" for m in missing]
        body = inert.dump(self.playbook())
        if any(len(line) > 160 for line in body.splitlines()):
            # Scripts and command lines are kept exactly; some of their lines are long.
            head.append("# yamllint disable rule:line-length")
        return "---\n" + "\n".join(head) + "\n" + body


def _title(name: str) -> str:
    """Task names start with a capital (ansible-lint); the rest stays as the sequence wrote it."""
    return name[:1].upper() + name[1:]


def _untab(value):
    # Tabs in scripts and command lines become spaces: ansible-lint refuses tabs in playbooks.
    if isinstance(value, str):
        return value.expandtabs(4) if "\n" in value else value.replace("\t", " ")
    if isinstance(value, list):
        return [_untab(v) for v in value]
    if isinstance(value, dict):
        return {k: _untab(v) for k, v in value.items()}
    return value


def _walk(items):
    todo = list(reversed(items))
    while todo:
        item = todo.pop()
        if "group" in item:
            todo.extend(reversed(item["steps"]))
        else:
            yield item


def _epoch(text: str) -> int | None:
    try:
        value = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return int(value.timestamp())


def playbook_text(definition: dict, hosts_var: str = "tasksequence_hosts") -> str:
    return PlaybookWriter(definition, hosts_var).text()
