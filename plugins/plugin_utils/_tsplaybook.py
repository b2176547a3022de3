# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sequence definition -> a standalone, readable playbook that uses the step modules directly.

Internal to this collection: no compatibility promise.

Groups become blocks; variable conditions become ``when:`` (case-insensitive lookups with the
``tasksequence.windows.tsvar`` test); conditions that need the host (file, folder, registry,
WMI, installed software, OS language) become check tasks right before the step or group,
whose registered results the ``when:`` reads; continue-on-error becomes the steps'
``continue_on_error`` option (Ansible drops a failed task's facts) or a ``rescue`` for groups;
disabled steps and placeholders stay, skipped, with their reason.
"""

from __future__ import annotations

import json
import os

import yaml

COLLECTION = "tasksequence.windows"
PROCESS_MODULES = ("run_command_line", "run_powershell_script")
ACTION_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "action")


def available_modules() -> set[str]:
    """Step modules this installed collection implements."""
    return {f[:-3] for f in os.listdir(ACTION_DIR) if f.endswith(".py") and not f.startswith("_")}


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        # Lists indented under their key, as ansible-lint's examples are.
        return super().increase_indent(flow, False)


def _str_presenter(dumper, data):
    style = "|" if "\n" in data and not data.endswith((" ", "\t")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def _q(value) -> str:
    """A Jinja literal."""
    return json.dumps(value)


class PlaybookWriter:
    def __init__(self, definition: dict, hosts_var: str = "tasksequence_hosts"):
        self.d = definition
        self.hosts_var = hosts_var
        self.available = available_modules()
        self.checks = 0

    # conditions -----------------------------------------------------------------------------

    def condition(self, node: dict, checks: list[dict]) -> str:
        """Jinja expression for a condition node; host checks are appended to ``checks``."""
        (kind, value), = node.items()
        if kind in ("all", "any", "none"):
            parts = [self.condition(child, checks) for child in value] or ["true"]
            joined = (" and " if kind == "all" else " or ").join(f"({p})" for p in parts)
            return f"not ({joined})" if kind == "none" else joined
        if kind == "variable":
            args = [_q(value["name"]), _q(value["operator"])]
            if "value" in value:
                args.append(_q(value["value"]))
            return f"tsenv | default({{}}) is tasksequence.windows.tsvar({', '.join(args)})"
        if kind == "os_version":
            parts = [f"ansible_facts['architecture'] is search({_q('64' if value.get('architecture') == 'x64' else '32')})"]
            if value.get("min_version"):
                parts.append(f"ansible_facts['distribution_version'] is version({_q(value['min_version'])}, '>=')")
            if value.get("max_version"):
                parts.append(f"ansible_facts['distribution_version'] is version({_q(value['max_version'])}, '<=')")
            return " and ".join(parts)
        self.checks += 1
        reg = f"ts_check_{self.checks}"
        task, expr = self._host_check(kind, value, reg)
        checks.append(task)
        return expr

    def _host_check(self, kind: str, v: dict, reg: str) -> tuple[dict, str]:
        """A task that looks at the host, and the expression that reads its result."""
        v = {k: _expanded(x) if k in ("path", "key", "query") else x for k, x in v.items()}
        if kind in ("file", "folder"):
            task = {"name": f"Check {kind} {v['path']}", "ansible.windows.win_stat": {"path": v["path"]}, "register": reg}
            expr = f"{reg}.stat.exists and {reg}.stat.{'isreg' if kind == 'file' else 'isdir'}"
            if v.get("version"):
                expr += (f" and ({reg}.stat.file_version | default('0')) is version({_q(v['version'])}, "
                         f"{_q(_cmp(v.get('version_operator', 'equals')))})")
            if v.get("date_time") and _epoch(v["date_time"]) is not None:
                # ConfigMgr compares the UTC timestamp; win_stat gives seconds since the epoch.
                op = _cmp(v.get("date_time_operator", "equals"))
                expr += f" and ({reg}.stat.lastwritetime | int) {op} {_epoch(v['date_time'])}"
            return task, f"({expr})"
        if kind == "registry":
            args = {"path": v["key"]}
            if v.get("value"):
                args["name"] = v["value"]
            task = {"name": f"Check registry {v['key']}", "ansible.windows.win_reg_stat": args, "register": reg}
            op = v["operator"]
            if op == "exists":
                return task, f"{reg}.exists"
            if op == "not_exists":
                return task, f"not {reg}.exists"
            return task, f"({reg}.exists and ({reg}.value | string) {_cmp(op)} {_q(v.get('data', ''))})"
        if kind == "software" and v.get("product_code") and v["match"] == "exact" and not v.get("version"):
            key = f"HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{v['product_code']}"
            task = {"name": f"Check installed product {v['product_code']}", "ansible.windows.win_reg_stat": {"path": key},
                    "register": reg}
            return task, f"{reg}.exists"
        script, params = _check_script(kind, v)
        task = {"name": f"Check {kind.replace('_', ' ')} on the host", "ansible.windows.win_powershell":
                {"script": script, "parameters": params}, "register": reg, "changed_when": False}
        return task, f"({reg}.output | first | default(false) | bool)"

    # items ----------------------------------------------------------------------------------

    def items(self, items: list[dict]) -> list[dict]:
        out: list[dict] = []
        for item in items:
            out.extend(self.group(item) if "group" in item else self.step(item))
        return out

    def _when(self, item: dict) -> tuple[list[dict], str | None]:
        checks: list[dict] = []
        expr = self.condition(item["conditions"], checks) if item.get("conditions") else None
        return checks, expr

    def group(self, g: dict) -> list[dict]:
        name = f"Group: {g['group']}"   # "Group:" also keeps ansible-lint's name[casing] satisfied
        if g.get("disabled"):
            note = g.get("note") or "disabled in the task sequence"
            return [{"name": f"{name} (skipped: {note})", "ansible.builtin.debug": {"msg": f"{g['group']}: {note}"},
                     "when": False}]
        checks, expr = self._when(g)
        block: dict = {"name": name}
        if expr:
            block["when"] = expr
        block["block"] = self.items(g["steps"]) or [
            {"name": "Empty group", "ansible.builtin.debug": {"msg": "this group has no steps"}}]
        if g.get("continue_on_error"):
            block["rescue"] = [{"name": f"{g['group']} failed; the sequence goes on (continue on error)",
                                "ansible.builtin.debug": {"msg": "{{ ansible_failed_result.msg | default('failed') }}"}}]
        return [*checks, block]

    def step(self, s: dict) -> list[dict]:
        if s.get("placeholder"):
            return [{"name": f"{_title(s['name'])} (placeholder, not run: {s['placeholder']['reason']})",
                     "ansible.builtin.debug": {"msg": f"{s['source']['type']}: {s['placeholder']['reason']}"},
                     "when": False}]
        module = s["module"]
        options = {k: _untab(v) for k, v in (s.get("options") or {}).items()}
        task: dict = {"name": _title(s["name"])}
        if module in PROCESS_MODULES:
            if "success_codes" in s and s["success_codes"] != [0, 3010]:
                options["success_codes"] = s["success_codes"]
            if "timeout" in s:
                options["timeout"] = s["timeout"]
        elif "timeout" in s:
            task["timeout"] = s["timeout"]
        if s.get("continue_on_error"):
            options["continue_on_error"] = True
        if module not in self.available:
            # Fail where the step would run rather than skip an install silently.
            task["ansible.builtin.fail"] = {"msg": f"{COLLECTION}.{module} is not available in this version of the "
                                                   "collection; this step cannot run yet."}
            task["vars"] = {"ts_step_options": options}
        else:
            task[f"{COLLECTION}.{module}"] = options
        if s.get("retry_count"):
            task.update(register="ts_step_result", until="ts_step_result is succeeded", retries=s["retry_count"],
                        delay=10)
        if s.get("disabled"):
            task["name"] = f"{_title(s['name'])} (disabled in the task sequence)"
            task["when"] = False
            return [task]
        checks, expr = self._when(s)
        if expr:
            task["when"] = expr
        return [*checks, task]

    def playbook(self) -> list[dict]:
        tasks: list[dict] = []
        for var in self.d.get("variables") or []:
            args = {"name": var["name"], "value": var["value"]}
            if var.get("hidden"):
                args["hidden"] = True
            tasks.append({"name": f"Sequence variable {var['name']}",
                          f"{COLLECTION}.set_task_sequence_variable": args})
        tasks.extend(self.items(self.d["steps"]))
        if not tasks:
            tasks = [{"name": "Empty sequence", "ansible.builtin.debug": {"msg": "the task sequence has no steps"}}]
        return [{"name": _title(self.d["name"]), "hosts": "{{ " + self.hosts_var + " | default('windows') }}",
                 "gather_facts": True, "tasks": tasks}]

    def text(self) -> str:
        s = self.d.get("import_summary") or {}
        src = self.d.get("source") or {}
        head = [f"# {self.d['name']}: imported by {COLLECTION} from {src.get('file', 'a task sequence')}",
                f"# ({src.get('format', '?')}, format_version {self.d['format_version']}).",
                f"# {s.get('steps', '?')} steps: {s.get('imported', '?')} imported, "
                f"{len(s.get('placeholders', []))} kept as skipped placeholders."]
        if self.d.get("secrets"):
            head.append("# Secrets to supply (for example from ansible-vault), never stored here:")
            head += [f"#   {sec['variable']}  ({sec['step']}: {sec['option']})" for sec in self.d["secrets"]]
        missing = sorted({i["module"] for i in _walk(self.d["steps"]) if i.get("module") and i["module"] not in self.available})
        if missing:
            head.append("# Steps whose module is not in this version fail when reached:")
            head += [f"#   {COLLECTION}.{m}" for m in missing]
        body = yaml.dump(self.playbook(), Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=True)
        if any(len(line) > 160 for line in body.splitlines()):
            # Scripts and command lines are kept exactly; some of their lines are long.
            head.append("# yamllint disable rule:line-length")
        return "---\n" + "\n".join(head) + "\n" + body


def _expanded(value):
    """%Name% in a check's path or query expands from the task sequence variables, as ConfigMgr does."""
    if isinstance(value, str) and "%" in value:
        return "{{ " + _q(value) + " | tasksequence.windows.tsexpand(tsenv | default({})) }}"
    return value


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
    for item in items:
        if "group" in item:
            yield from _walk(item["steps"])
        else:
            yield item


def _cmp(op: str) -> str:
    return {"equals": "==", "not_equals": "!=", "less": "<", "less_equal": "<=", "greater": ">",
            "greater_equal": ">="}.get(op, "==")


def _epoch(text: str) -> int | None:
    import datetime

    try:
        value = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return int(value.timestamp())


def _check_script(kind: str, v: dict) -> tuple[str, dict]:
    """Small read-only PowerShell for checks Ansible has no module for (result: one boolean)."""
    if kind == "wmi":
        return ("[CmdletBinding(SupportsShouldProcess)]\nparam([string]$Namespace, [string]$Query, [bool]$IgnoreFailure)\n"
                "try { [bool](Get-CimInstance -Namespace $Namespace -Query $Query -ErrorAction Stop) }\n"
                "catch { if ($IgnoreFailure) { $false } else { throw } }\n",
                {"Namespace": v["namespace"], "Query": v["query"], "IgnoreFailure": bool(v.get("ignore_query_failure"))})
    if kind == "os_language":
        return ("[CmdletBinding(SupportsShouldProcess)]\nparam([string]$Language)\n"
                "$os = Get-CimInstance -ClassName Win32_OperatingSystem\n"
                "$name = [Globalization.CultureInfo]::GetCultureInfo([int]$os.OSLanguage).Name\n"
                "($name -eq $Language) -or ([string]$os.OSLanguage -eq $Language)\n", {"Language": v["language"]})
    # Installed software by name, upgrade code or version (Windows Installer's own list).
    return ("[CmdletBinding(SupportsShouldProcess)]\n"
            "param([string]$ProductCode, [string]$UpgradeCode, [string]$ProductName, [string]$Version, [string]$Match)\n"
            "$installer = New-Object -ComObject WindowsInstaller.Installer\n"
            "$codes = @(if ($UpgradeCode) { $installer.RelatedProducts($UpgradeCode) } else { $installer.Products })\n"
            "$found = $codes | Where-Object {\n"
            "    $name = $installer.ProductInfo($_, 'ProductName')\n"
            "    $ver = $installer.ProductInfo($_, 'VersionString')\n"
            "    (-not $ProductCode -or $_ -eq $ProductCode) -and (-not $ProductName -or $name -eq $ProductName) -and\n"
            "    ($Match -eq 'any_version' -or -not $Version -or $ver -eq $Version)\n"
            "}\n"
            "[bool]$found\n",
            {"ProductCode": v.get("product_code", ""), "UpgradeCode": v.get("upgrade_code", ""),
             "ProductName": v.get("product_name", ""), "Version": v.get("version", ""), "Match": v["match"]})


def playbook_text(definition: dict, hosts_var: str = "tasksequence_hosts") -> str:
    return PlaybookWriter(definition, hosts_var).text()
