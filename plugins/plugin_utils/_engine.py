# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The task sequence engine: ConfigMgr's run rules over a sequence definition, as data.

Internal to this collection: no compatibility promise.

Pure controller logic, used by the ``sequence_*`` action plugins of the ``task_sequence`` role
and tested on its own (``tests/unit/roles/``):

* ``plan``: the definition flattened into its steps, each naming its enclosing groups
  (outermost first). The role runs one task per step, in this order.
* ``Run``: the state of one host's run: which groups were entered and how they ended, how
  each step ended. ``decide`` says whether a step runs (or why it is skipped); ``finish``
  applies a step's outcome (a failure ends its group, and the group above unless a group on
  the way has continue on error; a failure that reaches the top ends the sequence).
* Conditions: the semantics are ``_conditions``' (the one module for them: variables, versions,
  times, product types); the conditions that need the host become data-described queries answered
  in one remote execution (``host_queries`` / ``host_leaf_value``).
* ``StateFile``: the checkpoint on the controller, written atomically after every step;
  hidden values only as ciphertext (the ``tsenv_hidden`` fact's own).
* The host checkpoint: the same state, sealed whole (``seal_state``), in
  ``%ProgramData%\\TaskSequence\\<plan id>\\state.json`` on the host, written with ansible.windows'
  win_file and win_copy when ``host_checkpoint_due`` says so and read back with its slurp when a
  run starts; ``newest`` picks between it and the controller's.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import ntpath
import os
import re
import tempfile
import typing as t

from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _conditions, _inventory, _secrets
from ansible_collections.tasksequence.windows.plugins.plugin_utils._conditions import like
from ansible_collections.tasksequence.windows.plugins.plugin_utils._inventory import _product_type, language_name
from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import TaskSequenceEnvironment

STATE_FORMAT = 1
MODULES_WITH_CODES = ("run_command_line", "run_powershell_script")
# Statuses of a step in a run.
SUCCEEDED, FAILED, FAILED_CONTINUED, SKIPPED = "succeeded", "failed", "failed_continue", "skipped"
ENDED = (SUCCEEDED, FAILED_CONTINUED, SKIPPED)   # what a resumed run does not repeat
HOST_KINDS = ("os_version", "os_language", "file", "folder", "registry", "wmi", "software")
SUBSEQUENCE_TYPE = "SMS_TaskSequence_SubTasksequence"


class EngineError(AnsibleActionFail):
    """The definition or the run's state cannot be used; the message says what to fix."""


# ---------------------------------------------------------------------------------------------
# plan


def definition_id(definition: dict) -> str:
    """Identifies a definition's content: a checkpoint is resumed only by the same definition."""
    text = json.dumps(definition, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def plan(definition: dict, children: dict | None = None) -> dict:
    """Groups and steps in run order.

    ``children`` maps the package ID of a Run Task Sequence placeholder's ``child_sequence`` to the
    child definition (a hand-written placeholder without ``child_sequence``: its step name); the
    child's steps run in its place, as a group with the placeholder's options, sharing the
    variables (ConfigMgr's child sequences share one environment).
    """
    groups: list[dict] = []
    steps: list[dict] = []
    children = {str(k).lower(): v for k, v in (children or {}).items()}

    def walk(items: list, ancestors: list[int], path: list[str], depth: int) -> None:
        if depth > 64:
            raise EngineError("groups and child sequences nest more than 64 deep (a child that includes itself?)")
        for item in items:
            if "group" in item:
                gid = len(groups)
                groups.append(_group(gid, item, ancestors, path, item["group"]))
                walk(item.get("steps") or [], [*ancestors, gid], [*path, item["group"]], depth + 1)
                continue
            child = children.get(_child_key(item)) if _is_subsequence(item) else None
            if child is not None:
                gid = len(groups)
                node = {**item, "disabled": bool(item.get("disabled")) and not item.get("placeholder")}
                group = _group(gid, node, ancestors, path, item["name"])
                group["child"] = {"name": child.get("name", item["name"]), "variables": list(child.get("variables") or [])}
                groups.append(group)
                walk(child.get("steps") or [], [*ancestors, gid], [*path, item["name"]], depth + 1)
                continue
            steps.append({
                "index": len(steps),
                "name": item["name"],
                "module": item.get("module"),
                "options": item.get("options") or {},
                "success_codes": item.get("success_codes"),
                "timeout": item.get("timeout"),
                "retry_count": item.get("retry_count") or 0,
                "disabled": bool(item.get("disabled")),
                "continue_on_error": bool(item.get("continue_on_error")),
                "conditions": item.get("conditions"),
                "placeholder": (item.get("placeholder") or {}).get("reason"),
                "action_variables": item.get("action_variables") or {},
                "groups": list(ancestors),
                "path": list(path),
            })

    walk(definition.get("steps") or [], [], [], 0)
    return {"id": definition_id(definition), "name": definition.get("name", ""), "groups": groups, "steps": steps,
            "variables": list(definition.get("variables") or [])}


def _group(gid: int, item: dict, ancestors: list[int], path: list[str], name: str) -> dict:
    return {"id": gid, "name": name, "parent": ancestors[-1] if ancestors else None,
            "disabled": bool(item.get("disabled")), "continue_on_error": bool(item.get("continue_on_error")),
            "conditions": item.get("conditions"), "path": [*path, name]}


def _is_subsequence(item: dict) -> bool:
    return (item.get("source") or {}).get("type") == SUBSEQUENCE_TYPE or item.get("module") == "run_task_sequence"


def _child_key(item: dict) -> str:
    """What names a Run Task Sequence step's child: its package ID (the importer's ``child_sequence``);
    the step name only for a hand-written placeholder without one. Without case, as ConfigMgr's IDs."""
    package_id = (item.get("child_sequence") or {}).get("package_id")
    return str(package_id or item.get("name") or "").lower()


# ---------------------------------------------------------------------------------------------
# the run


class Run:
    """One host's run: group and step outcomes (JSON-able, kept in a fact and the checkpoint)."""

    def __init__(self, data: dict | None = None):
        data = data or {}
        self.groups: dict[str, dict] = dict(data.get("groups") or {})
        self.steps: dict[str, dict] = dict(data.get("steps") or {})
        self.failed: bool = bool(data.get("failed"))
        self.run_id: str = data.get("run_id") or ""
        self.resumed_from: int | None = data.get("resumed_from")

    def data(self) -> dict:
        return {"groups": self.groups, "steps": self.steps, "failed": self.failed, "run_id": self.run_id,
                "resumed_from": self.resumed_from}

    def first_unfinished(self, count: int) -> int:
        for index in range(count):
            if (self.steps.get(str(index)) or {}).get("status") not in ENDED:
                return index
        return count

    def groups_to_enter(self, the_plan: dict, step: dict) -> list[dict]:
        """The step's enclosing groups not entered yet, outermost first."""
        return [the_plan["groups"][g] for g in step["groups"] if str(g) not in self.groups]

    def blocked_by(self, the_plan: dict, step: dict) -> str | None:
        """Why an enclosing group keeps this step from running, or None."""
        for gid in step["groups"]:
            state = self.groups.get(str(gid))
            if state and state.get("ended"):
                return f"group '{the_plan['groups'][gid]['name']}' {state['ended']}"
        return None

    def enter(self, group: dict, runs: bool, reason: str = "") -> None:
        self.groups[str(group["id"])] = {"entered": True, "ran": runs,
                                         **({} if runs else {"ended": reason or "was skipped"})}

    def record(self, step: dict, status: str, **fields) -> None:
        self.steps[str(step["index"])] = {"status": status, **fields}

    def fail(self, the_plan: dict, step: dict) -> tuple[bool, list[str]]:
        """A step failed without its own continue on error: end its groups up to the first one
        with continue on error. Returns (the sequence goes on, the names of the groups that failed)."""
        failed: list[str] = []
        for gid in reversed(step["groups"]):
            group = the_plan["groups"][gid]
            self.groups.setdefault(str(gid), {"entered": True, "ran": True})["ended"] = "stopped after a failure"
            self.groups[str(gid)]["failed"] = True
            failed.append(group["name"])
            if group["continue_on_error"]:
                return True, failed
        self.failed = True
        return False, failed


# ---------------------------------------------------------------------------------------------
# conditions


def describe(node: dict | None) -> str:
    """A condition in words, for the log (values of variables are not shown: they may be secret)."""
    if not node:
        return "always"
    (kind, value), = node.items()
    if kind in ("all", "any", "none"):
        inner = f" {'and' if kind == 'all' else 'or'} ".join(describe(c) for c in value) or "-"
        return f"not ({inner})" if kind == "none" else f"({inner})"
    if kind == "variable":
        op = value.get("operator", "equals")
        return f"variable {value.get('name')} {op}" + ("" if op in ("exists", "not_exists") else f" '{value.get('value', '')}'")
    return f"{kind} {json.dumps(dict(value.items()), sort_keys=True)}"


def host_leaves(node: dict | None, out: list | None = None) -> list[dict]:
    """The leaves of a condition that need the host, in order."""
    out = [] if out is None else out
    if not node:
        return out
    (kind, value), = node.items()
    if kind in ("all", "any", "none"):
        for child in value:
            host_leaves(child, out)
    elif kind in HOST_KINDS:
        out.append(node)
    return out


def leaf_key(node: dict) -> str:
    return hashlib.sha256(json.dumps(node, sort_keys=True, default=str).encode()).hexdigest()[:12]


def evaluate(node: dict | None, env: TaskSequenceEnvironment, host: dict[str, t.Any], trace: list[str]) -> bool:
    """Whether a condition holds. ``host`` maps ``leaf_key`` to what ``host_leaf_value`` found."""
    if not node:
        return True
    (kind, value), = node.items()
    if kind in ("all", "any", "none"):
        # Every operand is evaluated (not short-circuited), so the log shows each result.
        results = [evaluate(c, env, host, trace) for c in value]
        result = all(results) if kind == "all" else any(results) if kind == "any" else not any(results)
    elif kind == "variable":
        result = _conditions.variable_leaf(env, value, field="condition operator")
        trace.append(f"{describe(node)}: {str(result).lower()}")
        return result
    elif kind in HOST_KINDS:
        found = host.get(leaf_key(node))
        if isinstance(found, HostError):
            raise EngineError(f"condition {describe(node)}: {found}")
        result = bool(found)
        trace.append(f"{describe(node)}: {str(result).lower()}")
        return result
    else:
        raise EngineError(f"condition kind '{kind}' is unknown")
    trace.append(f"{kind} -> {str(result).lower()}")
    return result


class HostError(str):
    """A host condition that could not be evaluated (the text says why)."""


# What the host is asked, as host_query data (plugins/plugin_utils/powershell/host_query.ps1):
# 'cim' (namespace, class, properties, optional WQL filter), 'registry' (path, value, optional
# type), 'path' (a file or folder: is it a folder, its last write time) and 'key' (a registry key
# exists). Every host condition of one step, its groups entered there included, is answered in
# ONE remote execution.
OS_QUERY = {"kind": "cim", "namespace": "root\\cimv2", "class": "Win32_OperatingSystem",
            "properties": ["Version", "OSArchitecture", "ProductType", "OSLanguage"]}
UNINSTALL = ("HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
             "HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall")
# RegistryKey.GetValueKind's names, as the registry condition's type spells them.
VALUE_KINDS = {"String": "REG_SZ", "ExpandString": "REG_EXPAND_SZ", "Binary": "REG_BINARY", "DWord": "REG_DWORD",
               "MultiString": "REG_MULTI_SZ", "QWord": "REG_QWORD", "None": "REG_NONE"}
FILETIME_EPOCH = 116_444_736_000_000_000   # 1970-01-01 in 100 ns ticks since 1601 (Windows file times)
_WQL = re.compile(r"^\s*select\s+(?P<props>.+?)\s+from\s+(?P<cls>\w+)\s*(?:where\s+(?P<where>.+?))?\s*;?\s*$",
                  re.IGNORECASE | re.DOTALL)


UPGRADE_CODES = "HKLM:\\SOFTWARE\\Classes\\Installer\\UpgradeCodes"


def packed_guid(guid: str) -> str:
    """Windows Installer's packed form of a GUID, as its registry keys name products and upgrade codes:
    the first three groups reversed, then each byte of the last two with its hex digits swapped."""
    parts = guid.strip().strip("{}").upper().split("-")
    if [len(p) for p in parts] != [8, 4, 4, 4, 12]:
        raise EngineError(f"'{guid}' is not a GUID")
    head = "".join(p[::-1] for p in parts[:3])
    tail = "".join(parts[3] + parts[4])
    return head + "".join(tail[i + 1] + tail[i] for i in range(0, len(tail), 2))


def wql_string(text: str) -> str:
    """A WQL string literal: backslash and quote escaped with a backslash."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def file_version_query(name: str, path: str) -> dict:
    """A file's version: CIM_DataFile by its full name (win_stat reports no file version)."""
    return {"name": name, "kind": "cim", "namespace": "root\\cimv2", "class": "CIM_DataFile",
            "properties": ["Name", "Version"], "filter": f"Name={wql_string(path)}"}


def host_queries(leaves: list[dict], env: TaskSequenceEnvironment, inventory: dict | None) -> list[dict]:
    """The host_query queries that answer ``leaves`` (all in one execution). Paths expand %Name%."""
    queries: dict[str, dict] = {}
    for node in leaves:
        (kind, v), = node.items()
        key = leaf_key(node)
        if kind in ("os_version", "os_language"):
            if not inventory:
                queries["os"] = {"name": "os", **OS_QUERY}
        elif kind in ("file", "folder"):
            path = env.expand(v["path"])
            queries[key] = {"name": key, "kind": "path", "path": path}
            if kind == "file" and v.get("version") and "%" not in path:
                # Its name as the host knows it: a host environment variable left in it cannot be expanded here.
                queries[f"{key}_version"] = file_version_query(f"{key}_version", path)
        elif kind == "registry":
            path = _conditions.registry_path(env.expand(v["key"]))
            if v.get("value"):
                queries[key] = {"name": key, "kind": "registry", "path": path, "value": env.expand(v["value"])}
                if v.get("type") and v.get("operator", "exists") in ("exists", "not_exists"):
                    queries[key]["type"] = True
            else:
                queries[key] = {"name": key, "kind": "key", "path": path}
        elif kind == "software":
            if v.get("upgrade_code") and (v.get("match") == "any_version" or not v.get("product_code")):
                # Any version of the product family: Windows Installer keeps a key per upgrade code.
                queries[key] = {"name": key, "kind": "key", "path": f"{UPGRADE_CODES}\\{packed_guid(v['upgrade_code'])}"}
            elif v.get("product_code"):
                for n, root in enumerate(UNINSTALL):
                    queries[f"{key}_{n}"] = {"name": f"{key}_{n}", "kind": "registry", "path": f"{root}\\{v['product_code']}",
                                             "value": "DisplayVersion"}
            else:
                queries[key] = {"name": key, "kind": "cim", "namespace": "root\\cimv2",
                                "class": "Win32_InstalledWin32Program", "properties": ["Name", "Version"]}
        elif kind == "wmi":
            m = _WQL.match(v.get("query") or "")
            if not m:
                continue   # reported by host_leaf_value
            # Without WHERE, only the count matters: no property is named (a system property such
            # as __PATH in -Property is not something to rely on).
            props = sorted(set(_wql_properties(m.group("where") or "")))
            queries[key] = {"name": key, "kind": "cim", "namespace": v.get("namespace") or "root\\cimv2",
                            "class": m.group("cls"), "properties": props}
    return list(queries.values())


def ask_host(action, leaves: list[dict], env: TaskSequenceEnvironment, task_vars: dict,
             cached_inventory: dict | None) -> tuple[dict[str, t.Any], int]:
    """What the host says about each leaf (``leaf_key`` -> value, for ``evaluate``), and the remote
    executions it took: all of them answered by ONE host_query.ps1 run (none when the inventory of
    this boot or no leaf needs the host). ``action`` is a StepAction (its ``run_project_script``)."""
    inventory = cached_inventory if _inventory.is_current(cached_inventory, task_vars) else None
    queries = host_queries(leaves, env, inventory)
    answers: dict = {}
    if queries:
        answers = action.run_project_script("host_query", {"Queries": queries}, task_vars, depth=_inventory.QUERY_DEPTH)
        if not isinstance(answers, dict):
            raise EngineError("the host's answer to the condition queries is not a dictionary")
    return {leaf_key(node): host_leaf_value(node, answers, inventory) for node in leaves}, 1 if queries else 0


def host_leaf_value(node: dict, answers: dict, inventory: dict | None):
    """Whether a host condition holds, from the answers (or a HostError saying why it cannot tell)."""
    (kind, v), = node.items()
    key = leaf_key(node)
    try:
        if kind in ("os_version", "os_language"):
            os_ = _os_facts(answers, inventory)
            if kind == "os_language":
                wanted = str(v.get("language", "")).strip().lower()
                return wanted in (str(os_["lcid"]), os_["language"].lower())
            return _os_matches(v, os_)
        if kind in ("file", "folder"):
            rows = _rows(answers, key)
            if not rows or bool(rows[0].get("folder")) != (kind == "folder"):
                return False
            ok = True
            if kind == "file" and v.get("version"):
                if f"{key}_version" not in answers:
                    return HostError(f"the file version of {v['path']} is read by CIM_DataFile, by the full path: it "
                                     "cannot name a host environment variable; use the full path or a task sequence "
                                     "variable")
                found = _rows(answers, f"{key}_version")
                version = found[0].get("Version") if found else None
                ok = version is not None and _conditions.compare_versions(version, v["version"],
                                                                          v.get("version_operator", "equals"))
            if v.get("date_time"):
                when = _epoch(v["date_time"])
                written = (int(rows[0]["time"]) - FILETIME_EPOCH) / 10_000_000
                ok = ok and when is not None and _conditions.compare_times(written, when,
                                                                           v.get("date_time_operator", "equals"))
            return ok
        if kind == "registry":
            op = v.get("operator", "exists")
            rows = _rows(answers, key)
            exists = bool(rows)
            if v.get("value") and v.get("type") and op in ("exists", "not_exists") and exists:
                # ConfigMgr: the type matters for existence only (a value of another type does not exist).
                found = VALUE_KINDS.get(str(rows[0].get("type")), str(rows[0].get("type")))
                exists = found.upper() == str(v["type"]).upper()
            if op in ("exists", "not_exists") or not v.get("value"):
                return exists if op != "not_exists" else not exists
            if not exists:
                return False
            data = rows[0].get("value")
            if isinstance(data, int) and not isinstance(data, bool) and data < 0:
                # PowerShell reads a DWORD/QWORD as signed; regedit, ConfigMgr and win_reg_stat show it unsigned.
                data += 2 ** 32 if data >= -(2 ** 31) else 2 ** 64
            data = ",".join(str(d) for d in data) if isinstance(data, list) else str(data)
            return _conditions.compare_text(data, str(v.get("data", "")), op)
        if kind == "software":
            if v.get("upgrade_code") and (v.get("match") == "any_version" or not v.get("product_code")):
                answer = answers.get(key) or {}
                return bool(answer.get("rows")) and not answer.get("error")   # the 'key' query: a row when it exists
            if v.get("product_code"):
                versions = [(answers.get(f"{key}_{n}") or {}) for n in range(len(UNINSTALL))]
                found = [str((a.get("rows") or [{}])[0].get("value") or "") for a in versions
                         if not a.get("error") and a.get("rows")]
            else:
                rows = (answers.get(key) or {}).get("rows") or []
                found = [str(r.get("Version") or "") for r in rows if str(r.get("Name") or "") == v.get("product_name")]
            if not found:
                return False
            return v.get("match") == "any_version" or not v.get("version") or v["version"] in found
        if kind == "wmi":
            m = _WQL.match(v.get("query") or "")
            if not m:
                if v.get("ignore_query_failure"):
                    return False
                return HostError(f"the WQL query is not one the engine can send: {v.get('query')!r}")
            answer = answers.get(key) or {}
            if answer.get("error"):
                return False if v.get("ignore_query_failure") else HostError(f"the WMI query failed: {answer['error']}")
            rows = answer.get("rows") or []
            where = m.group("where")
            return any(_wql_where(where, row) for row in rows) if where else bool(rows)
    except (KeyError, ValueError, TypeError) as e:
        return HostError(f"the host's answer cannot be read ({e})")
    return HostError(f"condition kind '{kind}' is not a host condition")


def _rows(answers: dict, name: str) -> list[dict]:
    """A query's rows; none when it failed (a path, key or value the host cannot read does not exist)."""
    answer = answers.get(name) or {}
    rows = answer.get("rows") or []
    if answer.get("error") or not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return []
    return rows


def _os_facts(answers: dict, inventory: dict | None) -> dict:
    if inventory:
        os_ = inventory["os"]
        return {"version": os_["version"], "architecture": os_["architecture"], "product_type": os_["product_type"],
                "lcid": int(os_.get("lcid") or 0), "language": os_.get("language") or ""}
    answer = answers.get("os") or {}
    if answer.get("error") or not answer.get("rows"):
        raise ValueError(f"no Win32_OperatingSystem answer ({answer.get('error') or 'no rows'})")
    row = answer["rows"][0]
    lcid = int(row.get("OSLanguage") or 0)
    return {"version": str(row.get("Version") or ""), "architecture": str(row.get("OSArchitecture") or ""),
            "product_type": _product_type(row.get("ProductType")), "lcid": lcid, "language": language_name(lcid)}


def _host_architecture(text: str) -> str:
    """The host's OSArchitecture (localised text: ``64-bit``, ``64 bits``, ``ARM 64-bit Processor``)."""
    known = _conditions.normalize_architecture(text)
    if known:
        return known
    text = str(text).lower()
    return "arm64" if "arm" in text else "x64" if "64" in text else "x86"


def _os_matches(v: dict, os_: dict) -> bool:
    if v.get("architecture"):
        wanted = _conditions.normalize_architecture(v["architecture"]) or str(v["architecture"]).lower()
        if wanted != _host_architecture(os_["architecture"]):
            return False
    if v.get("product_type") and not _conditions.product_type_matches(v["product_type"], os_["product_type"]):
        return False
    for bound, op in (("min_version", "greater_equal"), ("max_version", "less_equal")):
        if v.get(bound) and not _conditions.compare_versions(os_["version"], _conditions.platform_version(v[bound]), op):
            return False
    return True


def _epoch(text: str) -> int | None:
    try:
        value = datetime.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return int(value.timestamp())


# A small WQL WHERE: comparisons, LIKE, IS [NOT] NULL, AND / OR / NOT, parentheses. The host
# returns the class's rows; the filter runs here, where it is cheap and testable.
_WQL_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*'|\"[^\"]*\")|(?P<num>-?\d+(?:\.\d+)?)|(?P<op><>|!=|<=|>=|=|<|>)"
                        r"|(?P<paren>[()])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))")


def _wql_tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _WQL_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ValueError(f"cannot read the WQL condition at {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


def _wql_properties(where: str) -> list[str]:
    try:
        tokens = _wql_tokens(where)
    except ValueError:
        return []
    keywords = {"and", "or", "not", "like", "is", "null", "true", "false"}
    return [v for k, v in tokens if k == "word" and v.lower() not in keywords]


def _wql_where(where: str, row: dict) -> bool:
    tokens = _wql_tokens(where)
    pos = 0

    def peek(word: str | None = None):
        if pos < len(tokens) and (word is None or tokens[pos][1].lower() == word):
            return tokens[pos]
        return None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def value(tok):
        kind, text = tok
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        return _row_get(row, text)

    def primary() -> bool:
        if peek("not"):
            take()
            return not primary()
        if peek() and peek()[0] == "paren" and peek()[1] == "(":
            take()
            result = disjunction()
            take()
            return result
        left = value(take())
        if peek("is"):
            take()
            negate = bool(peek("not")) and take() is not None
            take()   # NULL
            return (left is None) != negate
        if peek("like"):
            take()
            return left is not None and like(str(left), str(value(take())))
        op = take()[1]
        right = value(take())
        if left is None:
            return False
        if isinstance(right, float):
            try:
                left = float(left)
            except (TypeError, ValueError):
                return False
        elif isinstance(left, str) and isinstance(right, str):
            left, right = left.lower(), right.lower()
        return {"=": left == right, "<>": left != right, "!=": left != right, "<": left < right,
                "<=": left <= right, ">": left > right, ">=": left >= right}[op]

    def conjunction() -> bool:
        result = primary()
        while peek("and"):
            take()
            result = primary() and result
        return result

    def disjunction() -> bool:
        result = conjunction()
        while peek("or"):
            take()
            result = conjunction() or result
        return result

    return disjunction()


def _row_get(row: dict, name: str):
    for key, value in row.items():
        if key.lower() == name.lower():
            return value
    return None


# ---------------------------------------------------------------------------------------------
# the checkpoint


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:120] or "_"


def replace_whole(path: str, text: str) -> None:
    """Writes ``text`` to ``path`` (mode 0600) through a file beside it renamed over it: a kill
    mid-write leaves the previous file whole, and a reader never sees half of one."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class StateFile:
    """One host's checkpoint on the controller: ``<dir>/<host>.json``, mode 0600, replaced atomically."""

    def __init__(self, directory: str, host: str):
        self.directory = os.path.expanduser(directory)
        self.path = os.path.join(self.directory, f"{_safe(host)}.json")

    def load(self) -> dict | None:
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise EngineError(f"the checkpoint {self.path} cannot be read ({e}); move it away to start over") from None
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise EngineError(f"the checkpoint {self.path} is not one this version writes; move it away to start over")
        return data

    def save(self, data: dict) -> None:
        """Writes ``data`` and counts the write in it (``seq``: which of two copies of one run is newer)."""
        data["seq"] = int(data.get("seq") or 0) + 1
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        replace_whole(self.path, json.dumps({"format": STATE_FORMAT, **data}, sort_keys=True))


# ---------------------------------------------------------------------------------------------
# the checkpoint on the host

HOST_CHECKPOINT_MODES = ("boundaries", "every_step", "never")
HOST_CHECKPOINT_FOLDER = "%ProgramData%\\TaskSequence"
HOST_CHECKPOINT_FILE = "state.json"


def host_checkpoint_path(plan_id: str) -> str:
    return f"{HOST_CHECKPOINT_FOLDER}\\{_safe(plan_id)}\\{HOST_CHECKPOINT_FILE}"


def seal_state(state: dict) -> str:
    """The host checkpoint's text: a small clear header (which plan and run, how far) and the whole
    state sealed with the controller's key (``_secrets``), so nothing of ``tsenv`` is in clear on the
    host, hidden or not (hidden values are sealed twice). The controller's paths stay on it."""
    body = {k: v for k, v in state.items() if k not in ("plan_path", "host")}
    run = state.get("run") or {}
    header = {"format": STATE_FORMAT, "plan_id": state.get("plan_id"), "run_id": run.get("run_id"),
              "seq": state.get("seq"), "status": state.get("status"), "updated": state.get("updated"),
              "steps_ended": sum(1 for s in (run.get("steps") or {}).values() if s.get("status") in ENDED),
              "sealed": _secrets.seal(json.dumps(body, sort_keys=True))}
    return json.dumps(header, sort_keys=True)


def unseal_state(text: str) -> dict | None:
    """The state of a host checkpoint's text; None when the text is not a whole checkpoint (a write
    cut short). A checkpoint sealed with another key raises: it is not this controller's to read."""
    try:
        header = json.loads(text)
    except (TypeError, ValueError):
        return None
    if not isinstance(header, dict) or header.get("format") != STATE_FORMAT or not header.get("sealed"):
        return None
    try:
        body = json.loads(_secrets.unseal("the host checkpoint", header["sealed"]))
    except AnsibleActionFail as e:
        raise EngineError(f"the task sequence checkpoint on the host cannot be read by this controller: "
                          f"{e.message}") from None
    if not isinstance(body, dict) or body.get("plan_id") != header.get("plan_id"):
        return None
    body["seq"] = int(body.get("seq") or 0)
    return body


def host_checkpoint_from(found: dict | None) -> dict | None:
    """The newest whole checkpoint among what the host read returned (state.json, state.json.tmp)."""
    states = [s for s in (unseal_state(v) for v in (found or {}).values() if isinstance(v, str)) if s]
    return max(states, key=lambda s: s["seq"], default=None)


def host_checkpoint_due(the_plan: dict, step: dict, mode: str, ends: bool) -> bool:
    """Whether the host checkpoint is written after this step: every step (``every_step``), or
    (``boundaries``) when the step leaves a group, ends the sequence or is its last step."""
    if mode == "never":
        return False
    if mode == "every_step" or ends:
        return True
    steps = the_plan["steps"]
    if step["index"] + 1 >= len(steps):
        return True
    following = steps[step["index"] + 1]["groups"]
    return any(g not in following for g in step["groups"])


def newest(controller: dict | None, on_host: dict | None) -> tuple[dict | None, str]:
    """Which checkpoint a run resumes from: the controller's journal or the host's copy.

    The same run in both: the one written later (``seq``, counted on every write), so a controller
    that crashed and left an older journal behind does not repeat what another controller did.
    Different runs: the one updated last."""
    if on_host is None:
        return controller, "controller"
    if controller is None:
        return on_host, "host"
    if (controller.get("run") or {}).get("run_id") == (on_host.get("run") or {}).get("run_id"):
        return (on_host, "host") if on_host["seq"] > int(controller.get("seq") or 0) else (controller, "controller")

    def when(state):
        return str(state.get("updated") or state.get("started") or "")

    return (on_host, "host") if when(on_host) > when(controller) else (controller, "controller")


def _host_module(action, module: str, args: dict, task_vars: dict) -> dict:
    """One remote execution of an ansible.windows module, with no_log: what it carries is
    ciphertext, but the invocation need not be logged at all."""
    no_log = action._task.no_log
    action._task.no_log = True
    try:
        return action._execute_module(module_name=module, module_args=args, task_vars=task_vars)
    finally:
        action._task.no_log = no_log


def write_host_checkpoint(action, state: dict, task_vars: dict) -> str:
    """The sealed state to the host through ansible.windows: the folder once per run (win_file),
    then the file with win_copy's own action (content: query, transfer, copy). Returns the path."""
    path = host_checkpoint_path(state["plan_id"])
    if not state.get("host_folder_made"):   # once per run: the caller keeps the flag in its journal
        res = _host_module(action, "ansible.windows.win_file", {"path": ntpath.dirname(path), "state": "directory"},
                           task_vars)
        if res.get("failed"):
            raise AnsibleActionFail(f"making the checkpoint folder failed on the host: {res.get('msg')}")
        state["host_folder_made"] = True
    res = action.upstream_action("ansible.windows.win_copy", {"content": seal_state(state), "dest": path}, task_vars,
                                 no_log=True)
    if res.get("failed"):
        raise AnsibleActionFail(f"writing the task sequence checkpoint failed on the host: {res.get('msg')}")
    return path


def read_host_checkpoint(action, plan_id: str, task_vars: dict) -> dict | None:
    """The host's checkpoint of this plan (one remote execution: ansible.windows.slurp), or None."""
    res = _host_module(action, "ansible.windows.slurp", {"src": host_checkpoint_path(plan_id)}, task_vars)
    if res.get("failed"):
        if "not found" in str(res.get("msg", "")).lower() or "does not exist" in str(res.get("msg", "")).lower():
            return None
        raise AnsibleActionFail(f"reading the task sequence checkpoint failed on the host: {res.get('msg')}")
    try:
        text = base64.b64decode(res.get("content") or "").decode("utf-8-sig")
    except (ValueError, UnicodeDecodeError):
        return None   # not a whole checkpoint: as if there were none
    return host_checkpoint_from({"state.json": text})


def final_status(run: Run) -> str:
    """How a run whose last step is done ended."""
    return "failed" if run.failed or any(s.get("status") == FAILED for s in run.steps.values()) else "succeeded"


def journal(state_dir: str, host: str, check_mode: bool) -> StateFile:
    """The run's own state, read and written by every step. A real run's journal is its checkpoint;
    a dry run (check mode) keeps its own, so it never marks a step as done."""
    return StateFile(os.path.join(state_dir, "check_mode") if check_mode else state_dir, host)


def save_plan(state_dir: str, the_plan: dict) -> tuple[str, str]:
    """The plan, on the controller, and the role's tasks for it: one
    ``sequence_step`` task per step, named after the step (each step its own task event). Hosts
    running the same definition share both files, so they include the same tasks and go through
    them together. The names are the definition's text: written inert (``!unsafe`` where Jinja
    could read them), never templated. One static file instead of a templated include per step:
    the per-step templating and include processing cost more than the step's own engine work."""
    # Here only: the importer's package is not worth loading in every step's worker.
    from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import inert

    directory = os.path.join(os.path.expanduser(state_dir), "plans")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    tasks = [{"name": inert.unsafe(title(s)), "tasksequence.windows.sequence_step": {"index": s["index"]}}
             for s in the_plan["steps"]]
    paths = []
    for suffix, text in ((".json", json.dumps(the_plan, sort_keys=True)),
                         (".tasks.yml", f"---\n# tasksequence.windows: the steps of plan {the_plan['id']}\n"
                                        + inert.dump(tasks))):
        # Named by what they hold, not only by the definition's id: the same definition with other
        # child sequences, or planned by another version of the collection, is another plan.
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        path = os.path.join(directory, f"{the_plan['id']}-{digest}{suffix}")
        if not os.path.exists(path):
            replace_whole(path, text)   # hosts starting together may write the same file at once
        paths.append(path)
    return paths[0], paths[1]


def load_plan(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise EngineError(f"the sequence plan {path} cannot be read ({e}); run the role again") from None


def title(step: dict) -> str:
    """The task name of a step: the sequence's own name, and where it sits."""
    name = step["name"][:1].upper() + step["name"][1:]
    where = " / ".join(step["path"])
    return f"{where} / {name}" if where else name


def plain(value):
    """The definition as plain data (no templating, no lazy containers)."""
    return json.loads(json.dumps(value, default=str))


def validate(definition: dict, where: str) -> None:
    """The format's own schema check (the importer's), with the engine's optional step keys."""
    from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import validate as schema
    from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer.errors import SequenceImportError

    stripped = json.loads(json.dumps(definition))
    todo = list(stripped.get("steps") or []) if isinstance(stripped, dict) else []
    while todo:
        item = todo.pop()
        if not isinstance(item, dict):
            continue
        extra = item.pop("action_variables", None)
        if extra is not None and (not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values())):
            raise EngineError(f"{where}: action_variables of '{item.get('name')}' must map names to text")
        todo.extend(item.get("steps") or [])
    try:
        schema.validate(stripped, where)
    except SequenceImportError as e:
        raise EngineError(str(e)) from None


SECRET_REF = re.compile(r"^\{\{ (tasksequence_secret_[a-z0-9_]{1,100}) \}\}$")


def resolve_secret(templar, task_vars: dict, value, field: str):
    """An importer's secret reference, ``{{ tasksequence_secret_<name> }}``, resolved from the
    play's variables (ansible-vault, an AWX credential). Nothing else in a definition is templated."""
    m = SECRET_REF.match(value) if isinstance(value, str) else None
    if not m:
        return value
    name = m.group(1)
    if name not in task_vars:
        raise EngineError(f"{field}: the secret {name} is not defined; define it (for example from ansible-vault) "
                          "before running the sequence")
    return str(templar.copy_with_new_env(available_variables=task_vars).resolve_variable_expression(name))


def summary(the_plan: dict, state: dict) -> dict:
    """What each step did, and the counts, for the role's result and the reports."""
    run = Run(state.get("run"))
    steps = []
    counts = {SUCCEEDED: 0, FAILED_CONTINUED: 0, FAILED: 0, SKIPPED: 0, "not_run": 0}
    for step in the_plan["steps"]:
        entry = run.steps.get(str(step["index"])) or {}
        status = entry.get("status", "not_run")
        counts[status] = counts.get(status, 0) + 1
        steps.append({"index": step["index"], "name": step["name"], "path": step["path"], "status": status,
                      **{k: entry[k] for k in ("reason", "rc", "msg") if k in entry}})
    failed = run.failed or counts[FAILED] > 0
    return {"name": the_plan["name"], "status": "failed" if failed else "succeeded", "failed": failed,
            "counts": counts, "steps": steps, "check_mode": bool(state.get("check_mode")),
            "restarts": state.get("restart_log") or [], "resumes": state.get("resumes") or []}


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
