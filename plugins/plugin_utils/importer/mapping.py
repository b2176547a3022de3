# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ConfigMgr / MDT task sequence -> the collection's sequence definition (docs/sequence-format.md).

Internal to this collection: no compatibility promise.

Every step of the export is kept: a step of one of the 11 types becomes that module with its
options; anything that cannot run here (OS deployment, WinPE-only) becomes a disabled
placeholder that says why. Passwords never reach the definition: they become references to
variables the user supplies (from a vault). A value the export cannot mean (a non-numeric
timeout, an unknown operator) is an error naming the step, its line and the fix.
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
import xml.etree.ElementTree as ET

from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import reader
from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer.errors import Location, SequenceImportError

FORMAT_VERSION = 1
PREFIX = "SMS_TaskSequence_"
# Documented limits (docs/importer.md): far above real sequences, and low enough that the
# playbook's `when:` expressions stay within what Jinja's recursive parser handles.
MAX_GROUP_DEPTH = 32
MAX_CONDITION_DEPTH = 16

VARIABLE_OPERATORS = {
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
    "SubTasksequence": "runs another task sequence: import that one too and include it",
}
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
        self.variables_list: list[dict] = []
        self.references: list[dict] = []
        self.steps: list[dict] = []

    # values ------------------------------------------------------------------------------------

    @staticmethod
    def variables(elem: ET.Element) -> dict[str, dict]:
        """defaultVarList -> {runtime name: {value, property, hidden}}."""
        out = {}
        var_list = elem.find("defaultVarList")
        for var in var_list.findall("variable") if var_list is not None else []:
            out[var.get("name") or ""] = {"value": (var.text or "").strip("\r\n"), "property": var.get("property") or "",
                                          "hidden": _bool(var.get("hidden"))}
        return out

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
        nodes = [n for n in (self._node(child, 1) for child in elem) if n is not None]
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
            leaves = []
            for key in elem.iter("platformKey"):
                leaf = {"architecture": "x64" if (key.get("arch") or "").lower() in ("x64", "amd64") else "x86"}
                if key.get("minVer"):
                    leaf["min_version"] = key.get("minVer")
                if key.get("maxVer"):
                    leaf["max_version"] = key.get("maxVer")
                if key.get("type"):
                    leaf["product_type"] = key.get("type")
                leaves.append({"os_version": leaf})
            return {"any": leaves}
        if elem.tag == "expression":
            return self._expression(elem)
        raise Placeholder(f"condition element <{elem.tag}> is unknown")

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
        try:
            cond = self.condition(elem.find("condition"))
            if cond:
                item["conditions"] = cond
            if run_in == "winpe":
                raise Placeholder("runs only in WinPE (runIn=WinPE): OS deployment")
            module, options = self.map_step(elem, raw_type, name)
            item["module"] = module
            item["options"] = options
            self.imported += 1
        except Placeholder as e:
            item["module"] = None
            item["options"] = {}
            item["disabled"] = True
            item["placeholder"] = {"reason": str(e)}
            self.placeholders.append({"step": name, "type": raw_type, "reason": str(e)})
        return item

    def map_step(self, elem: ET.Element, raw_type: str, name: str) -> tuple[str, dict]:
        v = self.variables(elem)

        def val(runtime: str, default: str | None = None) -> str | None:
            rec = v.get(runtime)
            return rec["value"] if rec and rec["value"] != "" else default

        kind = raw_type.replace(PREFIX, "")
        action = (elem.findtext("action") or "").strip()
        if not raw_type or (raw_type.startswith("BDD_") and raw_type not in MDT_PLACEHOLDERS
                            and raw_type not in ("BDD_RunPowerShellAction",)):
            if not action:
                raise Placeholder("an MDT step with no command line")
            command, package = _strip_smsswd(action)
            options = {"command_line": command}
            if package:
                options["package_id"] = package
            if elem.get("startIn"):
                options["start_in"] = elem.get("startIn")
            return "run_command_line", options
        if raw_type in MDT_PLACEHOLDERS:
            raise Placeholder(MDT_PLACEHOLDERS[raw_type])
        if raw_type == "BDD_RunPowerShellAction":
            options = {"script_name": val("ScriptName") or ""}
            if val("Parameters"):
                options["parameters"] = val("Parameters")
            if val("PackageID"):
                options["package_id"] = val("PackageID")
            if not options["script_name"]:
                raise Placeholder("an MDT PowerShell step with no script name")
            return "run_powershell_script", options
        if kind in OS_DEPLOYMENT:
            raise Placeholder(OS_DEPLOYMENT[kind])
        mapper = getattr(self, f"_map_{kind}", None)
        if mapper is None:
            raise Placeholder(f"step type '{raw_type}' is not one of the 11 steps this collection runs")
        return mapper(v, val, action, name)

    def _run_as(self, options, val, flag, user_var, name):
        if _bool(val(flag, "false")):
            options["run_as_user"] = val(user_var) or ""
            options["run_as_password"] = self.secret(name, "run_as_password")

    def _map_RunCommandLineAction(self, v, val, action, name):
        command, package = _strip_smsswd(val("CommandLine") or action)
        if not command:
            raise Placeholder("Run Command Line with no command line")
        options = {"command_line": command}
        package = val("PackageID") or package
        if package:
            options["package_id"] = package
        elif val("WorkingDirectory"):
            options["start_in"] = val("WorkingDirectory")
        if _bool(val("SMSTSDisableWow64Redirection", "false")):
            options["disable_wow64_redirection"] = True
        if val("SMSTSRunCommandLineOutputVariableName"):
            options["output_variable"] = val("SMSTSRunCommandLineOutputVariableName")
        self._run_as(options, val, "_SMSTSRunCommandLineAsUser", "SMSTSRunCommandLineUserName", name)
        return "run_command_line", options

    def _map_RunPowerShellScriptAction(self, v, val, action, name):
        options: dict = {}
        source = val("OSDRunPowerShellScriptSourceScript")
        if source:
            options["script"] = _decode_script(source)
        else:
            options["script_name"] = val("OSDRunPowerShellScriptScriptName") or ""
            if val("OSDRunPowerShellScriptPackageID"):
                options["package_id"] = val("OSDRunPowerShellScriptPackageID")
            if not options["script_name"]:
                raise Placeholder("Run PowerShell Script with neither a script nor a script name")
        if val("OSDRunPowerShellScriptParameters"):
            options["parameters"] = val("OSDRunPowerShellScriptParameters")
        policy = val("OSDRunPowerShellScriptExecutionPolicy", "AllSigned")
        options["execution_policy"] = {"allsigned": "AllSigned", "bypass": "Bypass"}.get(policy.lower(), "Undefined")
        if val("OSDRunPowerShellScriptOutputVariableName"):
            options["output_variable"] = val("OSDRunPowerShellScriptOutputVariableName")
        if val("SMSTSRunPowerShellWorkingDirectory"):
            options["start_in"] = val("SMSTSRunPowerShellWorkingDirectory")
        self._run_as(options, val, "_SMSTSRunPowerShellAsUser", "SMSTSRunPowerShellUserName", name)
        return "run_powershell_script", options

    def _map_SetVariableAction(self, v, val, action, name):
        var_name = val("VariableName")
        if not var_name:
            raise Placeholder("Set Task Sequence Variable with no variable name")
        hidden = _bool(val("DoNotShowVariableValue", "false"))
        value = v.get("VariableValue", {}).get("value", "")
        if hidden:
            value = self.secret(name, var_name)
        options = {"name": var_name, "value": value}
        if hidden:
            options["hidden"] = True
        return "set_task_sequence_variable", options

    def _map_SetDynamicVariablesAction(self, v, val, action, name):
        rules_xml = val("OSDSetDynamicVariablesRules") or "<Rules/>"
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

    def _map_PrestartCheckAction(self, v, val, action, name):
        options: dict = {}

        def on(flag):
            return _bool(val(flag, "false"))

        if on("OSDCheckMemory"):
            options["memory_mb"] = _uint(val("OSDMemory", "0"), "OSDMemory")
        if on("OSDCheckProcessorSpeed"):
            options["cpu_speed_mhz"] = _uint(val("OSDProcessorSpeed", "0"), "OSDProcessorSpeed")
        if on("OSDCheckFreeDiskSpace"):
            options["free_disk_mb"] = _uint(val("OSDFreeDiskSpace", "0"), "OSDFreeDiskSpace")
        if on("OSDCheckOSType"):
            options["os_type"] = "server" if (val("OSDOSType") or "").lower() == "server" else "client"
        if on("OSDCheckOSArchitecture"):
            options["architecture"] = "x64" if "64" in (val("OSDOSArchitecture") or "") else "x86"
        if on("OSDCheckMinOSVersion"):
            options["min_os_version"] = val("OSDMinOSVersion") or ""
        if on("OSDCheckMaxOSVersion"):
            options["max_os_version"] = val("OSDMaxOSVersion") or ""
        if on("OSDCheckMinClientVersion"):
            options["min_client_version"] = val("OSDMinClientVersion") or ""
        if on("OSDCheckOSLanguage"):
            options["os_language"] = val("OSDOSLanguage") or ""
        for flag, option in (("OSDCheckPowerState", "ac_power"), ("OSDCheckNetworkConnected", "network_connected"),
                             ("OSDCheckNetworkWired", "network_wired"), ("OSDCheckUEFI", "uefi"),
                             ("OSDCheckTPMEnabled", "tpm_enabled"), ("OSDCheckTPMActivated", "tpm_activated")):
            if on(flag):
                options[option] = True
        return "check_readiness", options

    def _map_ConnectNetworkFolderAction(self, v, val, action, name):
        options = {"path": val("SMSConnectNetworkFolderPath") or "",
                   "drive_letter": val("SMSConnectNetworkFolderDriveLetter") or ""}
        if val("SMSConnectNetworkFolderAccount"):
            options["account"] = val("SMSConnectNetworkFolderAccount")
            options["password"] = self.secret(name, "password")
        return "connect_to_network_folder", options

    def _map_DownloadPackageContentAction(self, v, val, action, name):
        packages = [p for p in re.split(r"[,;\s]+", val("OSDDownloadDownloadPackages") or "") if p]
        where = (val("OSDDownloadDestinationLocationType") or "TSCache").lower()
        options = {"packages": packages,
                   "destination": {"tscache": "working_directory", "ccmcache": "client_cache"}.get(where, "custom")}
        if options["destination"] == "custom" and val("OSDDownloadDestinationPath"):
            options["destination_path"] = val("OSDDownloadDestinationPath")
        if val("OSDDownloadDestinationVariable"):
            options["destination_variable"] = val("OSDDownloadDestinationVariable")
        if _bool(val("OSDDownloadContinueDownloadOnError", "false")):
            options["continue_on_download_error"] = True
        return "download_package_content", options

    def _map_InstallApplicationAction(self, v, val, action, name):
        options: dict = {}
        count = _uint(val("OSDAppCount", "0"), "OSDAppCount", maximum=10000)
        apps = [val(f"OSDApp{i}DisplayName") or val(f"OSDApp{i}Name") or "" for i in range(count)]
        if apps:
            options["applications"] = apps
        if val("BaseVariableName"):
            options["base_variable_name"] = val("BaseVariableName")
        if _bool(val("ContinueOnInstallError", "false")):
            options["continue_on_install_error"] = True
        if _bool(val("OSDAppClearCache", "false")):
            options["clear_cache"] = True
        if val("RetryCount"):
            options["retry_count"] = _uint(val("RetryCount"), "RetryCount", minimum=1, maximum=5)
        return "install_application", options

    def _map_InstallSoftwareAction(self, v, val, action, name):
        options: dict = {}
        if val("BaseVariableName"):
            options["base_variable_name"] = val("BaseVariableName")
        else:
            options["package_id"] = val("PackageID") or ""
            options["program_name"] = val("_SMSSWDProgramName") or ""
        if _bool(val("ContinueOnInstallError", "false")):
            options["continue_on_install_error"] = True
        return "install_package", options

    def _map_InstallUpdateAction(self, v, val, action, name):
        options = {"target": "all" if (val("SMSInstallUpdateTarget") or "").lower() == "all" else "mandatory"}
        if val("SMSTSSoftwareUpdateScanUseCache") is not None:
            options["use_cached_scan"] = _bool(val("SMSTSSoftwareUpdateScanUseCache"))
        if val("RetryCount"):
            options["retry_count"] = _uint(val("RetryCount"), "RetryCount", minimum=1, maximum=5)
        return "install_software_updates", options

    def _map_RebootAction(self, v, val, action, name):
        target = (val("SMSRebootTarget") or val("Target") or "").lower()
        if target == "winpe" or (not target and "/target:winpe" in action.lower()):
            raise Placeholder("restarts into WinPE (OS deployment)")
        options: dict = {"target": "installed_os"}
        message = val("SMSRebootMessage") or val("Message")
        if message:
            options["message"] = message[:512]
            options["notify_user"] = True
        else:
            options["notify_user"] = False
        timeout = val("SMSRebootTimeout") or val("MessageTimeout")
        if timeout:
            options["message_timeout"] = _uint(timeout, "SMSRebootTimeout")
        return "restart_computer", options

    # the document ------------------------------------------------------------------------------

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
                        frames.append([elem, "container", 0, {"steps": self.steps}])
                    elif parent[1] == "container" and elem.tag in reader.ITEM_TAGS:
                        ordinal += 1
                        at = ordinal
                        if elem.tag == "group":
                            group_depth += 1
                            if group_depth > MAX_GROUP_DEPTH:
                                raise Bad(f"groups are nested more than {MAX_GROUP_DEPTH} levels deep.",
                                          "Flatten the groups (real sequences nest a few levels).")
                            frames.append([elem, "container", ordinal, self.group_start(elem)])
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
        fmt = "mdt" if attrs.get("version", "").startswith("3.0") and attrs.get("name") is not None else "configmgr"
        definition["source"] = {k: v for k, v in {
            "format": fmt, "container": info.get("container"), "file": self.loc.file,
            "member": info.get("member"), "package_id": info.get("package_id"),
            "version": attrs.get("version")}.items() if v}
        definition["variables"] = self.variables_list
        if self.references:
            definition["references"] = self.references
        definition["steps"] = self.steps
        definition["secrets"] = self.secrets
        definition["import_summary"] = {"steps": sum(self.counts.values()), "imported": self.imported,
                                        "placeholders": self.placeholders, "step_types": dict(sorted(self.counts.items()))}
        return definition


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
