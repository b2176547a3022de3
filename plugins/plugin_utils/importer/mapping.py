# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ConfigMgr / MDT task sequence -> the collection's sequence definition (docs/sequence-format.md).

Internal to this collection: no compatibility promise.

Every step of the export is kept: a step of one of the 11 types becomes that module with its
options, read through the SDK's property table (``sdk``); anything that cannot run here (OS
deployment, WinPE-only) becomes a disabled placeholder that says why. Step settings that are
no module option (MDT's ``<variable name=… property=…>``) become the step's action variables,
as ConfigMgr's engine makes them. Every setting and condition is counted as kept, not
applicable or dropped (``import_summary``). Passwords never reach the definition: they become references to
variables the user supplies (from a vault). A value the export cannot mean (a non-numeric
timeout, an unknown operator) is an error naming the step, its line and the fix.
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
import xml.etree.ElementTree as ET

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _conditions
from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import reader, sdk
from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer.errors import Location, SequenceImportError

FORMAT_VERSION = 1
PREFIX = "SMS_TaskSequence_"
# Documented limits (docs/importer.md): far above real sequences, and low enough that the
# playbook's `when:` expressions stay within what Jinja's recursive parser handles.
MAX_GROUP_DEPTH = 32
MAX_CONDITION_DEPTH = 16

VARIABLE_OPERATORS = {  # ConfigMgr's spellings (any case) -> the format's
    "equals": "equals", "notequals": "not_equals", "exists": "exists", "notexists": "not_exists",
    "less": "less", "lessequal": "less_equal", "greater": "greater", "greaterequal": "greater_equal",
    "like": "like", "notlike": "not_like",
}
COMPARE_OPERATORS = {
    "equals": "equals", "notequals": "not_equals", "less": "less", "lessequal": "less_equal",
    "greater": "greater", "greaterequal": "greater_equal",
}
REGISTRY_OPERATORS = {**COMPARE_OPERATORS, "exists": "exists", "notexists": "not_exists", "nonexists": "not_exists"}
# Step types that deploy an OS or only make sense in WinPE: kept as placeholders.
OS_DEPLOYMENT = {
    "ApplyOperatingSystemAction": "applies an OS image (OS deployment)",
    "ApplyDataImageAction": "applies a data image (OS deployment)",
    "ApplyDriverPackageAction": "applies a driver package offline (OS deployment)",
    "AutoApplyAction": "auto-applies drivers offline (OS deployment)",
    "ApplyNetworkSettingsAction": "writes network settings for Windows Setup (OS deployment)",
    "ApplyWindowsSettingsAction": "writes settings for Windows Setup (OS deployment)",
    "SetupWindowsAndSMSAction": "runs Windows Setup and installs the client (OS deployment)",
    "PartitionDiskAction": "partitions and formats a disk (OS deployment)",
    "ConvertDiskAction": "converts a disk to dynamic (OS deployment)",
    "EnableBitLockerAction": "BitLocker is not one of this collection's steps",
    "DisableBitLockerAction": "BitLocker is not one of this collection's steps",
    "OfflineEnableBitLockerAction": "pre-provisions BitLocker in WinPE (OS deployment)",
    "CaptureUserStateAction": "USMT state capture is OS deployment",
    "RestoreUserStateAction": "USMT state restore is OS deployment",
    "RequestStateStoreAction": "state migration point is OS deployment",
    "ReleaseStateStoreAction": "state migration point is OS deployment",
    "PrepareSMSClientAction": "prepares the client for capture (OS deployment)",
    "PrepareOSAction": "sysprep for capture (OS deployment)",
    "CaptureSystemImageAction": "captures an OS image (OS deployment)",
    "CaptureNetworkSettingsAction": "captures settings for OS deployment",
    "CaptureWindowsSettingsAction": "captures settings for OS deployment",
    "UpgradeOperatingSystemAction": "in-place OS upgrade is OS deployment",
    "JoinDomainWorkgroupAction": "domain join is not one of this collection's steps",
    "InstallDeployToolsAction": "installs deployment tools for OS deployment",
}
SUBSEQUENCE = "SMS_TaskSequence_SubTasksequence"
# MDT steps that install the OS: the next restart boots into that OS (OS deployment).
OS_INSTALL = {"BDD_InstallOS", "SMS_TaskSequence_ApplyOperatingSystemAction", "SMS_TaskSequence_SetupWindowsAndSMSAction",
              "SMS_TaskSequence_UpgradeOperatingSystemAction"}
# MDT's phases (ZTINextPhase.wsf, the PHASE variable its templates' top groups test): only State
# Restore runs in the OS that was installed; the others restart between OS deployment phases.
MDT_FULL_OS_PHASES = {"STATERESTORE"}
PROCESS_MODULES = ("run_command_line", "run_powershell_script")
EMPTY = "empty: ConfigMgr treats an empty value as not set"
MDT_PLACEHOLDERS = {
    "BDD_InstallOS": "MDT operating system installation (OS deployment)",
    "BDD_InjectDrivers": "MDT offline driver injection (OS deployment)",
    "BDD_InstallUpdatesOffline": "MDT offline update injection (OS deployment)",
    "BDD_InstallLanguagePacksOffline": "MDT offline language packs (OS deployment)",
    "BDD_RecoverDomainJoin": "MDT domain join recovery is OS deployment",
}
UINT32_MAX = 4294967295


class Placeholder(Exception):
    """This step cannot run with this collection; the message says why."""


class Bad(Exception):
    """The export holds a value it cannot mean; (problem, fix)."""

    def __init__(self, problem: str, fix: str):
        super().__init__(problem)
        self.problem, self.fix = problem, fix


def _bool(text) -> bool:
    return str(text).strip().lower() == "true"


def _uint(text: str, what: str, minimum: int = 0, maximum: int = UINT32_MAX) -> int:
    """A ConfigMgr UInt32 (or narrower) value; anything else is refused, naming it."""
    value = (text or "").strip()
    if not re.fullmatch(r"[0-9]{1,10}", value) or not minimum <= int(value) <= maximum:
        raise Bad(f"{what} is {text!r}, not a whole number from {minimum} to {maximum}.",
                  f"Correct {what} in the task sequence (ConfigMgr writes it as digits only).")
    return int(value)


def _success_codes(text: str) -> list[int]:
    codes = []
    for part in text.split():
        if not re.fullmatch(r"-?[0-9]{1,10}", part) or not -2147483648 <= int(part) <= UINT32_MAX:
            raise Bad(f"successCodeList holds {part!r}, not an exit code.",
                      "Give space-separated exit codes from 0 to 4294967295 (or their negative int32 form), "
                      "e.g. successCodeList=\"0 3010\".")
        codes.append(int(part))
    return codes


def _snake(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", s).lower()[:40] or "step"


class Values:
    """One step's settings (its defaultVarList), read by SDK property; every read is remembered,
    so that each setting can be counted as kept, not applicable or dropped."""

    def __init__(self, elem: ET.Element, cls: str):
        self.cls = cls
        self.table = sdk.CLASSES.get(cls) or {}
        self.raw: dict[str, dict] = {}   # lower-case runtime name -> the variable
        var_list = elem.find("defaultVarList")
        for var in var_list.findall("variable") if var_list is not None else []:
            name = var.get("name") or ""
            self.raw[name.lower()] = {"name": name, "value": (var.text or "").strip("\r\n"),
                                      "property": var.get("property") or "", "hidden": _bool(var.get("hidden"))}
        self.used: set[str] = set()
        self.dropped: dict[str, str] = {}
        self.known = sdk.runtime_names(cls)
        self.numbered = [re.compile("^" + re.escape(n).replace(re.escape("{n}"), "[0-9]+") + "$")
                         for n in self.known if "{n}" in n]

    def named(self, runtime: str, default: str | None = None) -> str | None:
        """The value of a runtime variable (an empty or blank one counts as not set)."""
        rec = self.raw.get(runtime.lower())
        if rec is None:
            return default
        self.used.add(runtime.lower())
        return rec["value"] if rec["value"].strip() else default

    def get(self, prop: str, default: str | None = None) -> str | None:
        """A property of this step class by its SDK name; the SDK's default when not set."""
        setting = self.table[prop]
        for name in setting.names:
            value = self.named(name)
            if value is not None:
                return value
        return default if default is not None else setting.default

    def flag(self, prop: str) -> bool:
        return _bool(self.get(prop) or "false")

    def drop(self, prop: str, why: str) -> None:
        """A setting the mapping cannot express: counted (and named) as dropped."""
        for name in self.table[prop].names:
            if self.raw.get(name.lower(), {}).get("value", "").strip():
                self.dropped[name.lower()] = why

    def is_known(self, key: str) -> bool:
        return key in self.known or any(r.match(key) for r in self.numbered)


class Importer:
    def __init__(self, doc: reader.Document):
        self.doc = doc
        self.info, self.loc = doc.info, doc.loc
        self.secrets: list[dict] = []
        self.placeholders: list[dict] = []
        self.counts: dict[str, int] = {}
        self.imported = 0
        self._secret_next: dict[str, int] = {}
        self._secret_names: set[str] = set()
        self.attrs: dict = {}
        self.mdt = False
        self.variables_list: list[dict] = []
        self.references: list[dict] = []
        self.steps: list[dict] = []
        self.conditions = {"translated": 0, "dropped": 0}
        self.settings = {"kept": 0, "not_applicable": 0, "dropped": 0}
        self.dropped_settings: list[dict] = []
        self.groups: list[dict] = []           # the groups around the item being read, outermost first
        self._winpe_staged: set[int] = set()   # groups (by id) in which LTIApply.wsf /PE staged Windows PE
        self._os_installed = False             # an OS was installed and no restart followed yet
        self._extra: dict = {}

    def secret(self, step_name: str, what: str) -> str:
        """A reference to a variable the user provides, in place of a password."""
        base = f"tasksequence_secret_{_snake(step_name)}_{_snake(what)}"[:80]
        name = base
        # A counter per base name keeps this linear however many steps share a name.
        while name in self._secret_names:
            n = self._secret_next.get(base, 2)
            self._secret_next[base] = n + 1
            name = f"{base}_{n}"
        self._secret_names.add(name)
        self.secrets.append({"variable": name, "step": step_name, "option": what})
        return "{{ " + name + " }}"

    # conditions --------------------------------------------------------------------------------

    def condition(self, elem: ET.Element | None):
        if elem is None:
            return None
        leaves = sum(1 for e in elem.iter() if e.tag in ("expression", "osExpressionGroup"))
        try:
            nodes = [n for n in (self._node(child, 1) for child in elem) if n is not None]
        except Placeholder:
            self.conditions["dropped"] += leaves
            raise
        self.conditions["translated"] += leaves
        if not nodes:
            return None
        return nodes[0] if len(nodes) == 1 else {"all": nodes}

    def _node(self, elem: ET.Element, depth: int):
        if depth > MAX_CONDITION_DEPTH:
            raise Bad(f"conditions are nested more than {MAX_CONDITION_DEPTH} levels deep.",
                      "Simplify the condition (real sequences nest a few levels).")
        if elem.tag == "operator":
            kind = (elem.get("type") or "and").lower()
            key = {"and": "all", "or": "any", "not": "none"}.get(kind)
            if key is None:
                raise Bad(f"condition operator type {elem.get('type')!r} is not and, or or not.",
                          "Correct the condition in the task sequence editor.")
            return {key: [n for n in (self._node(c, depth + 1) for c in elem) if n is not None]}
        if elem.tag == "osConditionGroup":
            # SMS_TaskSequence_OSConditionGroup ("or") of OSExpressionGroups ("and" of WMI queries),
            # each naming its platform with one platformKey.
            platforms = elem.findall("osExpressionGroup") or [elem]
            return {"any": [self._os_platform(p) for p in platforms]}
        if elem.tag == "expression":
            return self._expression(elem)
        raise Placeholder(f"condition element <{elem.tag}> is unknown")

    def _os_platform(self, group: ET.Element) -> dict:
        queries = [self._expression(e) for e in group.findall("expression")]
        parts: list[dict] = []
        for key in group.iter("platformKey"):
            leaf: dict = {}
            if key.get("arch"):
                arch = _conditions.normalize_architecture(key.get("arch"))
                if arch is None:
                    raise Bad(f"an OS condition's architecture is {key.get('arch')!r}.",
                              "Use x86, x64 or ARM64 (any case) in the platform key.")
                leaf["architecture"] = arch
            for attr, dst in (("minVer", "min_version"), ("maxVer", "max_version")):
                if key.get(attr):
                    leaf[dst] = _conditions.platform_version(key.get(attr))
            if key.get("type"):
                leaf["platform"] = key.get("type")
            product = _product_type(queries)
            if product:
                leaf["product_type"] = product
            parts.append({"os_version": leaf})
        parts += queries   # the platform's WMI tests stay: ConfigMgr evaluates them all ("and")
        if not parts:
            raise Bad("an OS condition platform has neither a platform key nor a query.",
                      "Re-create the Operating System Version condition in the task sequence editor.")
        return parts[0] if len(parts) == 1 else {"all": parts}

    def _expression(self, elem: ET.Element):
        kind = (elem.get("type") or "").replace(PREFIX, "").replace("ConditionExpression", "")
        v = {x.get("name"): (x.text or "") for x in elem.findall("variable")}
        if kind == "Variable":
            op = VARIABLE_OPERATORS.get((v.get("Operator") or "").lower())
            if op is None:
                raise Bad(f"variable condition on {v.get('Variable')!r} has operator {v.get('Operator')!r}.",
                          "Use one of " + ", ".join(sorted(set(VARIABLE_OPERATORS))) + ".")
            leaf = {"name": v.get("Variable", ""), "operator": op}
            if op not in ("exists", "not_exists"):
                leaf["value"] = v.get("Value", "")
            return {"variable": leaf}
        if kind == "WMI":
            return {"wmi": {"namespace": v.get("Namespace") or "root\\cimv2", "query": v.get("Query", ""),
                            "ignore_query_failure": _bool(elem.get("ignoreQueryFailure"))}}
        if kind in ("File", "Folder"):
            leaf = {"path": v.get("Path", "")}
            if v.get("DateTime"):
                leaf["date_time"] = v["DateTime"]
                leaf["date_time_operator"] = self._op(COMPARE_OPERATORS, v.get("DateTimeOperator"), "DateTimeOperator")
            if kind == "File" and v.get("Version"):
                leaf["version"] = v["Version"]
                leaf["version_operator"] = self._op(COMPARE_OPERATORS, v.get("VersionOperator"), "VersionOperator")
            return {kind.lower(): leaf}
        if kind == "Registry":
            leaf = {"key": v.get("KeyPath", ""), "operator": self._op(REGISTRY_OPERATORS, v.get("Operator"), "Operator")}
            if v.get("Value"):
                leaf["value"] = v["Value"]
            if v.get("Type"):
                leaf["type"] = v["Type"]
            if leaf["operator"] not in ("exists", "not_exists"):
                leaf["data"] = v.get("Data", "")
            return {"registry": leaf}
        if kind == "Software":
            leaf = {"match": "any_version" if (v.get("Operator") or "").lower() in ("anyversion", "any") else "exact"}
            for src, dst in (("ProductCode", "product_code"), ("UpgradeCode", "upgrade_code"),
                             ("ProductName", "product_name"), ("Version", "version")):
                if v.get(src):
                    leaf[dst] = v[src]
            return {"software": leaf}
        if kind == "OSLanguage" or kind == "OperatingSystemLanguage":
            return {"os_language": {"language": v.get("Language") or v.get("LanguageId") or ""}}
        raise Placeholder(f"condition type '{elem.get('type')}' is not supported")

    @staticmethod
    def _op(table: dict, text: str | None, what: str) -> str:
        op = table.get((text or "equals").lower())
        if op is None:
            raise Bad(f"{what} is {text!r}.", "Use one of " + ", ".join(sorted(set(table))) + ".")
        return op

    # items -------------------------------------------------------------------------------------

    def _common(self, elem: ET.Element, item: dict) -> None:
        if elem.get("description"):
            item["description"] = elem.get("description")
        if _bool(elem.get("disable")):
            item["disabled"] = True
        if _bool(elem.get("continueOnError")):
            item["continue_on_error"] = True

    def group_start(self, elem: ET.Element) -> dict:
        item: dict = {"group": elem.get("name") or "(unnamed group)"}
        self._common(elem, item)
        item["steps"] = []
        return item

    def group_condition(self, item: dict, elem: ET.Element) -> None:
        try:
            cond = self.condition(elem)
        except Placeholder as e:
            item["disabled"] = True
            item["note"] = f"disabled by the importer: {e}"
            cond = None
        if cond:
            item["conditions"] = cond

    def step(self, elem: ET.Element) -> dict:
        raw_type = sys.intern(elem.get("type") or "")   # one string per type, however many steps
        name = elem.get("name") or "(unnamed step)"
        self.counts[raw_type or "(untyped)"] = self.counts.get(raw_type or "(untyped)", 0) + 1
        item: dict = {"name": name}
        self._common(elem, item)
        item["source"] = {"type": raw_type or "(untyped MDT command)"}
        if item.get("disabled"):
            item["source"]["disabled"] = True   # kept apart: a placeholder is always disabled
        if elem.get("timeout") is not None:
            item["timeout"] = _uint(elem.get("timeout"), "timeout", minimum=1)
        codes = elem.get("successCodeList")
        if codes is not None and codes.strip():
            item["success_codes"] = _success_codes(codes)
        if elem.get("retryCount") is not None:
            retries = _uint(elem.get("retryCount"), "retryCount")
            if retries:
                item["retry_count"] = retries
        run_in = (elem.get("runIn") or "").lower()
        # Untyped MDT steps are Run Command Line steps (their settings are its run-as settings).
        cls = raw_type if raw_type.startswith(PREFIX) else "" if raw_type else RUN_COMMAND_LINE
        values = Values(elem, cls)
        self._extra = {}
        action = (elem.findtext("action") or "").strip()
        try:
            cond = self.condition(elem.find("condition"))
            if cond:
                item["conditions"] = cond
            if run_in == "winpe":
                raise Placeholder("runs only in WinPE (runIn=WinPE): OS deployment")
            module, options = self.map_step(elem, raw_type, name, values, action)
            item["module"] = module
            item["options"] = options
            if "success_codes" not in item and self._extra.get("success_codes") is not None:
                item["success_codes"] = self._extra["success_codes"]
            action_variables = self.account(values, module, name)
            if action_variables:
                item["action_variables"] = action_variables
            self.imported += 1
        except Placeholder as e:
            item["module"] = None
            item["options"] = {}
            item["disabled"] = True
            item["placeholder"] = {"reason": str(e)}
            entry = {"step": name, "type": raw_type, "reason": str(e)}
            if item["source"].get("disabled"):
                entry["disabled"] = True
            self.placeholders.append(entry)
            self.account(values, None, name)
        if self._extra.get("child_sequence"):
            item["child_sequence"] = self._extra["child_sequence"]
        self._track(raw_type, action)
        return item

    def _track(self, raw_type: str, action: str) -> None:
        """What the next Restart Computer restarts into (MDT): an OS just installed, a staged Windows PE."""
        if raw_type in OS_INSTALL:
            self._os_installed = True
        if self.groups and re.search(r"ltiapply\.wsf\S*\s.*/pe\b", action, flags=re.IGNORECASE):
            self._winpe_staged.add(id(self.groups[-1]))

    def account(self, values: Values, module: str | None, name: str) -> dict:
        """Count the step's settings; the ones no option took become its action variables
        (a process step's environment while it runs, as ConfigMgr's engine sets them)."""
        action_variables: dict[str, str] = {}
        for key, rec in values.raw.items():
            if not rec["value"].strip():
                self.settings["not_applicable"] += 1   # EMPTY
            elif key in values.dropped:
                self._drop(name, rec["name"], values.dropped[key])
            elif module is None or key in values.used or values.is_known(key):
                # A placeholder's settings, a setting an option took, or one this step's
                # settings switch off (e.g. OSDMemory when OSDCheckMemory is false).
                self.settings["kept" if module and key in values.used else "not_applicable"] += 1
            elif module not in PROCESS_MODULES:
                self._drop(name, rec["name"], f"{module} starts no process that could read it")
            elif not _tsenv_name(rec["name"]):
                self._drop(name, rec["name"], "not a name a step may set (letters, digits, '_', '-'; no leading '_')")
            else:
                secret = rec["hidden"] or "password" in key
                action_variables[rec["name"]] = self.secret(name, rec["name"]) if secret else rec["value"]
                self.settings["kept"] += 1
        return action_variables

    def _drop(self, step: str, setting: str, why: str) -> None:
        self.settings["dropped"] += 1
        self.dropped_settings.append({"step": step, "setting": setting, "reason": why})

    def map_step(self, elem: ET.Element, raw_type: str, name: str, s: Values, action: str) -> tuple[str, dict]:
        kind = raw_type.replace(PREFIX, "")
        if raw_type in MDT_PLACEHOLDERS:
            raise Placeholder(MDT_PLACEHOLDERS[raw_type])
        if raw_type == "BDD_RunPowerShellAction":
            options = {"script_name": s.named("ScriptName") or ""}
            if s.named("Parameters"):
                options["parameters"] = s.named("Parameters")
            if s.named("PackageID"):
                options["package_id"] = s.named("PackageID")
            if not options["script_name"]:
                raise Placeholder("an MDT PowerShell step with no script name")
            return "run_powershell_script", options
        if not raw_type:
            return self._map_RunCommandLineAction(s, elem, action, name)
        if raw_type.startswith("BDD_"):
            # MDT's own steps run a ZTI script, which reads the step's settings (its action variables).
            if not action:
                raise Placeholder("an MDT step with no command line")
            command, package = _strip_smsswd(action)
            options = {"command_line": command}
            if package:
                options["package_id"] = package
            if elem.get("startIn"):
                options["start_in"] = elem.get("startIn")
            return "run_command_line", options
        if raw_type == SUBSEQUENCE:
            child = {k: v for k, v in (("package_id", s.get("TsPackageID")), ("name", s.get("TsName"))) if v}
            self._extra["child_sequence"] = child
            raise Placeholder(f"runs the task sequence {child.get('package_id', '(no package ID)')}: import that export "
                              "too (one definition per package ID) and run it in this step's place")
        if kind in OS_DEPLOYMENT:
            raise Placeholder(OS_DEPLOYMENT[kind])
        mapper = getattr(self, f"_map_{kind}", None)
        if mapper is None:
            raise Placeholder(f"step type '{raw_type}' is not one of the 11 steps this collection runs")
        return mapper(s, elem, action, name)

    def _run_as(self, options: dict, s: Values, name: str) -> None:
        if s.flag("RunAsUser"):
            options["run_as_user"] = s.get("UserName") or ""
            s.get("UserPassword")   # never read into the output: a secret reference instead
            options["run_as_password"] = self.secret(name, "run_as_password")

    def _codes(self, s: Values) -> None:
        codes = s.get("SuccessCodes")
        if codes is not None:
            self._extra["success_codes"] = _success_codes(codes)

    def _map_RunCommandLineAction(self, s, elem, action, name):
        command, package = _strip_smsswd(s.get("CommandLine") or action)
        if not command:
            raise Placeholder("Run Command Line with no command line")
        options = {"command_line": command}
        package = s.get("PackageID") or package
        if package:
            options["package_id"] = package
        start_in = s.get("WorkingDirectory") or elem.get("startIn")
        if start_in:
            options["start_in"] = start_in   # with a package: a folder inside its content
        if s.flag("DisableWow64Redirection"):
            options["disable_wow64_redirection"] = True
        if s.get("OutputVariableName"):
            options["output_variable"] = s.get("OutputVariableName")
        self._run_as(options, s, name)
        self._codes(s)
        s.named("LoadProfile")
        return "run_command_line", options

    def _map_RunPowerShellScriptAction(self, s, elem, action, name):
        options: dict = {}
        source = s.get("SourceScript")
        if source:
            options["script"] = _decode_script(source)
        else:
            options["script_name"] = s.get("ScriptName") or ""
            if s.get("PackageID"):
                options["package_id"] = s.get("PackageID")
            if not options["script_name"]:
                raise Placeholder("Run PowerShell Script with neither a script nor a script name")
        if s.get("Parameters"):
            options["parameters"] = s.get("Parameters")
        # Not set: the console's default, AllSigned. Policies the step has no choice for run as
        # the host's own policy (Undefined).
        policy = s.get("ExecutionPolicy", "AllSigned")
        options["execution_policy"] = {"allsigned": "AllSigned", "bypass": "Bypass"}.get(policy.lower(), "Undefined")
        if s.get("OutputVariableName"):
            options["output_variable"] = s.get("OutputVariableName")
        if s.get("WorkingDirectory"):
            options["start_in"] = s.get("WorkingDirectory")
        self._run_as(options, s, name)
        self._codes(s)
        return "run_powershell_script", options

    def _map_SetVariableAction(self, s, elem, action, name):
        var_name = s.get("VariableName")
        if not var_name:
            raise Placeholder("Set Task Sequence Variable with no variable name")
        hidden = s.flag("DoNotShowVariableValue")
        value = s.get("VariableValue") or ""
        s.get("HiddenVariableValue")   # ConfigMgr exports hidden values empty; never read into the output
        if hidden:
            value = self.secret(name, var_name)
        options = {"name": var_name, "value": value}
        if hidden:
            options["hidden"] = True
        return "set_task_sequence_variable", options

    def _map_SetDynamicVariablesAction(self, s, elem, action, name):
        rules_xml = s.get("Rules") or "<Rules/>"
        root = reader.parse_small(rules_xml, self.loc.inner(f"rules of step {name!r}"))
        rules, loose = [], []
        for rule in root.findall("Rule"):
            variables = []
            for var in rule.findall("Variables/Variable"):
                entry = {"name": var.get("Name") or "", "value": var.text or ""}
                if _bool(var.get("IsSecret")):
                    entry["value"], entry["hidden"] = self.secret(name, entry["name"]), True
                variables.append(entry)
            cond = rule.find("condition")
            if cond is None or not list(cond):
                loose.extend(variables)
                continue
            expr = cond.find("expression")
            if expr is None:
                raise Bad("a dynamic variable rule's condition holds no <expression>.",
                          "Re-create the rule in the task sequence editor.")
            rules.append({**self._rule(expr), "variables": variables})
        return "set_dynamic_variables", {"rules": rules, "variables": loose}

    def _rule(self, expr: ET.Element) -> dict:
        kind = (expr.get("type") or "").replace(PREFIX, "").replace("ConditionExpression", "")
        v = {x.get("name"): (x.text or "") for x in expr.findall("variable")}
        if kind == "Computer":
            rule = {"type": "computer"}
            for src, dst in (("AssetTag", "asset_tag"), ("UUID", "uuid"), ("SerialNumber", "serial_number"),
                             ("MACAddress", "mac_address")):
                if v.get(src):
                    rule[dst] = v[src]
            return rule
        if kind == "Location":
            return {"type": "location", "default_gateway": v.get("DefaultGateway", "")}
        if kind == "MakeModel":
            return {"type": "make_model", "make": v.get("Make", "*"), "model": v.get("Model", "*")}
        if kind == "Variable":
            op = self._op(VARIABLE_OPERATORS, v.get("Operator"), "rule Operator")
            rule = {"type": "variable", "variable": v.get("Variable", ""), "operator": op}
            if op not in ("exists", "not_exists"):
                rule["value"] = v.get("Value", "")
            return rule
        raise Placeholder(f"dynamic variable rule type '{expr.get('type')}' is unknown")

    def _map_PrestartCheckAction(self, s, elem, action, name):
        options: dict = {}
        # Each value is used only when its Check… switch is on (SDK); unset values take the SDK's defaults.
        for switch, prop, option, what in (("CheckMemory", "Memory", "memory_mb", "OSDMemory"),
                                           ("CheckProcessorSpeed", "ProcessorSpeed", "cpu_speed_mhz", "OSDProcessorSpeed"),
                                           ("CheckFreeDiskSpace", "FreeDiskSpace", "free_disk_mb", "OSDFreeDiskSpace")):
            if s.flag(switch):
                options[option] = _uint(s.get(prop), what)
        if s.flag("CheckOSType"):
            os_type = (s.get("OSType") or "").upper()
            if os_type not in ("CLIENT", "SERVER"):
                raise Bad(f"OSDOSType is {os_type!r}.", "Use CLIENT or SERVER.")
            options["os_type"] = os_type.lower()
        if s.flag("CheckOSArchitecture"):
            bits = (s.get("OSArchitecture") or "").strip()
            if bits not in ("32", "64"):
                raise Bad(f"OSDOSArchitecture is {bits!r}.", "Use 32 or 64.")
            options["architecture"] = "x86" if bits == "32" else "x64"
        for switch, prop, option in (("CheckMinOSVersion", "MinOSVersion", "min_os_version"),
                                     ("CheckMaxOSVersion", "MaxOSVersion", "max_os_version"),
                                     ("CheckCMClientMinVersion", "CMClientMinVersion", "min_client_version")):
            if s.flag(switch):
                if not s.get(prop):
                    raise Bad(f"{sdk.CLASSES[s.cls][switch].names[0]} is on but {sdk.CLASSES[s.cls][prop].names[0]} "
                              "is empty.", "Give the version to check, or turn the check off.")
                options[option] = s.get(prop)
        if s.flag("CheckOSLanguageID"):
            options["os_language"] = str(_uint(s.get("OSLanguageID", ""), "OSDOSLanguageID"))
        for switch, option in (("CheckPowerState", "ac_power"), ("CheckNetworkConnected", "network_connected"),
                               ("CheckNetworkWired", "network_wired"), ("CheckDeviceUEFI", "uefi"),
                               ("CheckTpmEnabled", "tpm_enabled"), ("CheckTpmActivated", "tpm_activated")):
            if s.flag(switch):
                options[option] = True
        return "check_readiness", options

    def _map_ConnectNetworkFolderAction(self, s, elem, action, name):
        options = {"path": s.get("Path") or "", "drive_letter": s.get("DriveLetter") or ""}
        s.get("Password")   # never read into the output
        if s.get("Username"):
            options["account"] = s.get("Username")
            options["password"] = self.secret(name, "password")
        return "connect_to_network_folder", options

    def _map_DownloadPackageContentAction(self, s, elem, action, name):
        packages = [p for p in re.split(r"[,;\s]+", s.get("DownloadPackages") or "") if p]
        where = (s.get("DestinationLocationType") or "").lower()
        destination = {"tscache": "working_directory", "ccmcache": "client_cache", "custom": "custom"}.get(where)
        if destination is None:
            raise Bad(f"OSDDownloadDestinationLocationType is {s.get('DestinationLocationType')!r}.",
                      "Use TSCache, CCMCache or Custom.")
        options = {"packages": packages, "destination": destination}
        if destination == "custom" and s.get("DestinationCustomPath"):
            options["destination_path"] = s.get("DestinationCustomPath")
        if s.get("DestinationVariable"):
            options["destination_variable"] = s.get("DestinationVariable")
        if s.flag("ContinueDownloadOnError"):
            options["continue_on_download_error"] = True
        return "download_package_content", options

    def _map_InstallApplicationAction(self, s, elem, action, name):
        options: dict = {}
        count = _uint(s.get("NumApps", "0"), "OSDAppCount", maximum=10000)
        s.get("AppInfo")   # the same count
        apps = [s.named(f"OSDApp{i}DisplayName") or s.named(f"OSDApp{i}Name") or "" for i in range(count)]
        models = [a.strip() for a in (s.get("ApplicationName") or "").split(",") if a.strip()]
        apps = [a for a in apps if a] or models   # ApplicationName: the model names of the same list
        if apps:
            options["applications"] = apps
        if s.get("BaseVariableName"):
            options["base_variable_name"] = s.get("BaseVariableName")
        if s.flag("ContinueOnInstallError"):
            options["continue_on_install_error"] = True
        if s.flag("ClearCache"):
            options["clear_cache"] = True
        retries = _uint(s.get("RetryCount"), "RetryCount", minimum=1, maximum=5)
        if retries != 2:   # the module's default, as ConfigMgr's
            options["retry_count"] = retries
        return "install_application", options

    def _map_InstallSoftwareAction(self, s, elem, action, name):
        options: dict = {}
        if s.get("BaseVariableName"):
            options["base_variable_name"] = s.get("BaseVariableName")
        else:
            options["package_id"] = s.get("PackageID") or ""
            options["program_name"] = s.get("ProgramName") or ""
        if s.flag("ContinueOnInstallError"):
            options["continue_on_install_error"] = True
        return "install_package", options

    def _map_InstallUpdateAction(self, s, elem, action, name):
        target = {"all": "All", "mandatory": "Mandatory"}.get((s.get("Target") or "").lower())
        if target is None:
            raise Bad(f"SMSInstallUpdateTarget is {s.get('Target')!r}.", "Use Mandatory or All.")
        options: dict = {"target": target, "use_cache": s.flag("UseCache")}
        retries = _uint(s.get("RetryCount"), "RetryCount", minimum=1, maximum=5)
        if retries != 2:
            options["retry_count"] = retries
        return "install_software_updates", options

    def _map_RebootAction(self, s, elem, action, name):
        target = (s.get("Target") or "").strip().lower()
        if not target:
            if self.mdt:
                self._mdt_restart_target()
                target = "hd"
            else:
                m = re.search(r"/target:(\S+)", action, flags=re.IGNORECASE)
                target = m.group(1).lower() if m else "hd"
        self._os_installed = False
        if target == "winpe":
            raise Placeholder("restarts into WinPE (OS deployment)")
        if target != "hd":
            raise Bad(f"the restart target is {target!r}.", "Use HD (the installed OS) or WinPE.")
        options: dict = {"target": "HD"}
        message = s.get("Message")
        if message:
            options["message"] = message[:512]
        options["message_timeout"] = _uint(s.get("MessageTimeout"), "SMSRebootTimeout")
        return "restart_computer", options

    def _mdt_restart_target(self) -> None:
        """MDT writes every Restart Computer as ``smsboot.exe /target:WinPE`` with no Target; what it
        restarts into depends on the phase (MDT's PHASE variable, tested by its template's groups)."""
        if any(id(g) in self._winpe_staged for g in self.groups):
            self._os_installed = False
            raise Placeholder("restarts into the Windows PE that LTIApply.wsf /PE staged (MDT image capture)")
        phase = next((p for p in map(_phase, reversed(self.groups)) if p), None)
        if phase and phase not in MDT_FULL_OS_PHASES:
            self._os_installed = False
            raise Placeholder(f"restarts between MDT's OS deployment phases (phase {phase})")
        if not phase and self._os_installed:
            self._os_installed = False
            raise Placeholder("restarts into the OS an earlier step installed (OS deployment)")
        # State Restore, or no phase and no OS installed before it: the step runs in the
        # installed OS and restarts into it.

    def run(self) -> dict:
        """Read the document as a stream: each step is mapped when its end tag arrives, then dropped."""
        frames: list[list] = []    # open elements: [elem, kind, ordinal, item]
        ordinal = 0
        at = 0   # the step or group being read, for the error's line and column
        group_depth = 0
        try:
            for event, elem, _depth in reader.events(self.doc.text, self.loc):
                if event == "start":
                    parent = frames[-1] if frames else None
                    if parent is None:
                        if elem.tag != "sequence":
                            raise self.loc.error(
                                f"the document is a <{elem.tag}>, not a task sequence (<sequence>, or a CIM INSTANCE "
                                "with a Sequence property).", "Import the task sequence's own export.")
                        self.attrs = dict(elem.attrib)
                        # MDT's ts.xml: version 3.00 with a name (ConfigMgr writes 3.10, no name).
                        self.mdt = self.attrs.get("version", "").startswith("3.0") and "name" in self.attrs
                        frames.append([elem, "container", 0, {"steps": self.steps}])
                    elif parent[1] == "container" and elem.tag in reader.ITEM_TAGS:
                        ordinal += 1
                        at = ordinal
                        if elem.tag == "group":
                            group_depth += 1
                            if group_depth > MAX_GROUP_DEPTH:
                                raise Bad(f"groups are nested more than {MAX_GROUP_DEPTH} levels deep.",
                                          "Flatten the groups (real sequences nest a few levels).")
                            group = self.group_start(elem)
                            self.groups.append(group)
                            frames.append([elem, "container", ordinal, group])
                        else:
                            frames.append([elem, "item", ordinal, None])
                    else:
                        frames.append([elem, "other", ordinal, None])
                    continue
                entry = frames.pop()
                parent = frames[-1] if frames else None
                if entry[1] == "item":
                    at = entry[2]   # errors in this step point at its start tag
                    parent[3]["steps"].append(self.step(elem))
                    elem.clear()
                elif entry[1] == "container" and parent is not None:
                    group_depth -= 1
                    self._winpe_staged.discard(id(self.groups.pop()))
                    parent[3]["steps"].append(entry[3])
                    elem.clear()
                elif parent is not None and parent[1] == "container":
                    at = parent[2]
                    if elem.tag == "condition" and "group" in parent[3]:
                        self.group_condition(parent[3], elem)
                    elif elem.tag == "globalVarList" and len(frames) == 1:
                        self.global_variables(elem)
                    elif elem.tag == "referenceList" and len(frames) == 1:
                        self.reference_list(elem)
                    elem.clear()
        except Bad as e:
            line, column = reader.locate(self.doc.text, at) if at else (None, None)
            raise SequenceImportError(e.problem, file=self.loc.file, member=self.loc.member, context=self._context(at),
                                      line=line, column=column, fix=e.fix) from None
        return self.definition()

    def _context(self, ordinal: int) -> str | None:
        parts = [p for p in (self.loc.context, f"item {ordinal} of the sequence" if ordinal else None) if p]
        return ", ".join(parts) or None

    def global_variables(self, elem: ET.Element) -> None:
        for var in elem.findall("variable"):
            entry = {"name": var.get("name") or "", "value": var.text or ""}
            if _bool(var.get("hidden")):
                entry["value"], entry["hidden"] = self.secret("sequence", entry["name"]), True
            self.variables_list.append(entry)

    def reference_list(self, elem: ET.Element) -> None:
        for ref in elem.findall("reference"):
            self.references.append({k: ref.get(k) for k in ("package", "program", "application") if ref.get(k)})

    def definition(self) -> dict:
        attrs, info = self.attrs, self.info
        definition: dict = {
            "format_version": FORMAT_VERSION,
            "name": attrs.get("name") or info.get("name") or info.get("sequence_id") or self.loc.file,
        }
        if attrs.get("description") or info.get("description"):
            definition["description"] = attrs.get("description") or info.get("description")
        fmt = "mdt" if self.mdt else "configmgr"
        definition["source"] = {k: v for k, v in {
            "format": fmt, "container": info.get("container"), "file": self.loc.file,
            "member": info.get("member"), "package_id": info.get("package_id"),
            "version": attrs.get("version")}.items() if v}
        definition["variables"] = self.variables_list
        if self.references:
            definition["references"] = self.references
        definition["steps"] = self.steps
        definition["secrets"] = self.secrets
        settings = dict(self.settings)
        if self.dropped_settings:
            settings["dropped_settings"] = self.dropped_settings
        definition["import_summary"] = {"steps": sum(self.counts.values()), "imported": self.imported,
                                        "placeholders": self.placeholders, "step_types": dict(sorted(self.counts.items())),
                                        "conditions": dict(self.conditions), "settings": settings}
        return definition


RUN_COMMAND_LINE = PREFIX + "RunCommandLineAction"
_TSENV_NAME = re.compile(r"^[A-Za-z0-9-][A-Za-z0-9_-]{0,255}$")
_PRODUCT_TYPE = re.compile(r"\bProductType\s*(=|<>|!=|>=|>|<=|<)\s*'?([0-9])'?", re.IGNORECASE)


def _tsenv_name(name: str) -> bool:
    """A name a step may set: letters, digits, '_' and '-', not starting with '_' (read-only)."""
    return bool(_TSENV_NAME.match(name))


def _product_type(queries: list[dict]) -> str | None:
    """client / server from an OS platform's WMI tests on Win32_OperatingSystem.ProductType
    (1 workstation; 2 domain controller and 3 server)."""
    found = set()
    for node in queries:
        for op, number in _PRODUCT_TYPE.findall(node.get("wmi", {}).get("query", "")):
            n = int(number)
            if (op, n) in (("=", 1), ("<", 2), ("<=", 1)):
                found.add("client")
            elif (op == "=" and n in (2, 3)) or (op == ">" and n >= 1) or (op == ">=" and n in (2, 3)) \
                    or (op in ("<>", "!=") and n == 1):
                found.add("server")
    return found.pop() if len(found) == 1 else None


def _phase(group: dict) -> str | None:
    """The MDT phase a group runs in: its condition PHASE equals <phase> (MDT's templates)."""
    todo = [group.get("conditions")]
    while todo:
        node = todo.pop()
        if not isinstance(node, dict):
            continue
        if "all" in node:
            todo.extend(node["all"])
        leaf = node.get("variable")
        if leaf and leaf.get("name", "").lower() == "phase" and leaf.get("operator") == "equals":
            return str(leaf.get("value", "")).strip().upper() or None
    return None


def _strip_smsswd(action: str) -> tuple[str, str | None]:
    """ConfigMgr's engine wrapper ``smsswd.exe /run:<package> <command>`` -> (command, package)."""
    m = re.match(r"^\s*smsswd\.exe\s+/run:(\S*)\s*(.*)$", action, flags=re.IGNORECASE | re.DOTALL)
    if not m:
        return action, None
    return m.group(2).strip(), (m.group(1) or None)


def _decode_script(encoded: str) -> str:
    """ConfigMgr keeps inline scripts base64-encoded (UTF-16 with BOM, or UTF-8)."""
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return encoded   # not encoded: the script itself
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16", "replace")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("utf-16-le", "replace")
    # Line ends as the playbook writes them; PowerShell does not care.
    return text.replace("\r\n", "\n")


def import_documents(docs: list[reader.Document]) -> list[dict]:
    return [Importer(doc).run() for doc in docs]


__all__ = ["FORMAT_VERSION", "Importer", "Location", "import_documents"]
