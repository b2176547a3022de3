# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ConfigMgr / MDT task sequence -> the collection's sequence definition (docs/sequence-format.md).

Internal to this collection: no compatibility promise.

Every step of the export is kept: a step of one of the 11 types becomes that module with its
options; anything that cannot run here (OS deployment, WinPE-only) becomes a disabled
placeholder that says why. Passwords never reach the definition: they become references to
variables the user supplies (from a vault).
"""

from __future__ import annotations

import base64
import binascii
import re
import xml.etree.ElementTree as ET

from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsxml import (
    SequenceImportError,
    _safe_parse,
    read_sequence,
)

FORMAT_VERSION = 1
PREFIX = "SMS_TaskSequence_"

VARIABLE_OPERATORS = {
    "equals": "equals", "notequals": "not_equals", "exists": "exists", "notexists": "not_exists",
    "less": "less", "lessequal": "less_equal", "greater": "greater", "greaterequal": "greater_equal",
    "like": "like",
}
COMPARE_OPERATORS = {
    "equals": "equals", "notequals": "not_equals", "less": "less", "lessequal": "less_equal",
    "greater": "greater", "greaterequal": "greater_equal", "exists": "exists", "notexists": "not_exists",
}
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
PASSWORD_PROPERTIES = {"RunAsPassword", "Password", "UserPassword", "DomainPassword", "AdminPassword",
                       "ConnectNetworkFolderPassword"}


class Placeholder(Exception):
    """This step cannot run with this collection; the message says why."""


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _bool(text) -> bool:
    return str(text).strip().lower() == "true"


def _int_list(text: str | None) -> list[int] | None:
    if not text or not text.strip():
        return None
    return [int(x) for x in text.split() if x.lstrip("-").isdigit()]


def _snake(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", s).lower() or "step"


class Importer:
    def __init__(self, root: ET.Element, info: dict, source_name: str):
        self.root, self.info, self.source_name = root, info, source_name
        self.secrets: list[dict] = []
        self.placeholders: list[dict] = []
        self.counts: dict[str, int] = {}
        self.imported = 0
        self._secret_names: set[str] = set()

    # values ------------------------------------------------------------------------------

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
        name, n = base, 2
        while name in self._secret_names:
            name, n = f"{base}_{n}", n + 1
        self._secret_names.add(name)
        self.secrets.append({"variable": name, "step": step_name, "option": what})
        return "{{ " + name + " }}"

    # conditions -----------------------------------------------------------------------------

    def condition(self, elem: ET.Element | None):
        if elem is None:
            return None
        nodes = [self._node(child) for child in elem]
        nodes = [n for n in nodes if n is not None]
        if not nodes:
            return None
        return nodes[0] if len(nodes) == 1 else {"all": nodes}

    def _node(self, elem: ET.Element):
        if elem.tag == "operator":
            kind = (elem.get("type") or "and").lower()
            children = [n for n in (self._node(c) for c in elem) if n is not None]
            key = {"and": "all", "or": "any", "not": "none"}.get(kind)
            if key is None:
                raise Placeholder(f"condition operator '{kind}' is unknown")
            return {key: children}
        if elem.tag == "osConditionGroup":
            leaves = []
            for key in elem.iter("platformKey"):
                leaf = {"architecture": "x64" if key.get("arch") in ("x64", "amd64") else key.get("arch") or "x86"}
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
            op = VARIABLE_OPERATORS.get((v.get("Operator") or "equals").lower())
            if op is None:
                raise Placeholder(f"variable condition operator '{v.get('Operator')}' is unknown")
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
                leaf["date_time_operator"] = COMPARE_OPERATORS.get((v.get("DateTimeOperator") or "equals").lower(), "equals")
            if kind == "File" and v.get("Version"):
                leaf["version"] = v["Version"]
                leaf["version_operator"] = COMPARE_OPERATORS.get((v.get("VersionOperator") or "equals").lower(), "equals")
            return {kind.lower(): leaf}
        if kind == "Registry":
            op = COMPARE_OPERATORS.get((v.get("Operator") or "exists").lower(), "exists")
            leaf = {"key": v.get("KeyPath", ""), "operator": op}
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

    # steps ---------------------------------------------------------------------------------

    def items(self, parent: ET.Element) -> list[dict]:
        out = []
        for elem in parent:
            if elem.tag == "group":
                out.append(self.group(elem))
            elif elem.tag in ("step", "subtasksequence"):
                out.append(self.step(elem))
        return out

    def _common(self, elem: ET.Element, item: dict) -> None:
        if elem.get("description"):
            item["description"] = elem.get("description")
        if _bool(elem.get("disable")):
            item["disabled"] = True
        if _bool(elem.get("continueOnError")):
            item["continue_on_error"] = True

    def group(self, elem: ET.Element) -> dict:
        item: dict = {"group": elem.get("name") or "(unnamed group)"}
        self._common(elem, item)
        try:
            cond = self.condition(elem.find("condition"))
        except Placeholder as e:
            item["disabled"] = True
            item["note"] = f"disabled by the importer: {e}"
            cond = None
        if cond:
            item["conditions"] = cond
        item["steps"] = self.items(elem)
        return item

    def step(self, elem: ET.Element) -> dict:
        raw_type = elem.get("type") or ""
        name = elem.get("name") or "(unnamed step)"
        self.counts[raw_type or "(untyped)"] = self.counts.get(raw_type or "(untyped)", 0) + 1
        item: dict = {"name": name}
        self._common(elem, item)
        item["source"] = {"type": raw_type or "(untyped MDT command)"}
        if elem.get("timeout"):
            item["timeout"] = int(elem.get("timeout"))
        codes = _int_list(elem.get("successCodeList"))
        if codes is not None:
            item["success_codes"] = codes
        if elem.get("retryCount") and int(elem.get("retryCount")) > 0:
            item["retry_count"] = int(elem.get("retryCount"))
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
            item.pop("module", None)
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
        root = _safe_parse(rules_xml, f"step '{name}' rules")
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
            op = VARIABLE_OPERATORS.get((v.get("Operator") or "equals").lower(), "equals")
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
            options["memory_mb"] = int(val("OSDMemory", "0"))
        if on("OSDCheckProcessorSpeed"):
            options["cpu_speed_mhz"] = int(val("OSDProcessorSpeed", "0"))
        if on("OSDCheckFreeDiskSpace"):
            options["free_disk_mb"] = int(val("OSDFreeDiskSpace", "0"))
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
        count = int(val("OSDAppCount", "0") or 0)
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
            options["retry_count"] = int(val("RetryCount"))
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
            options["retry_count"] = int(val("RetryCount"))
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
        if timeout and timeout.isdigit():
            options["message_timeout"] = int(timeout)
        return "restart_computer", options

    def run(self) -> dict:
        definition: dict = {
            "format_version": FORMAT_VERSION,
            "name": self.root.get("name") or self.info.get("name") or self.source_name,
        }
        if self.root.get("description") or self.info.get("description"):
            definition["description"] = self.root.get("description") or self.info.get("description")
        definition["source"] = {k: v for k, v in {
            "format": self.info.get("format"), "container": self.info.get("container"), "file": self.source_name,
            "package_id": self.info.get("package_id"), "version": self.root.get("version")}.items() if v}
        global_vars = []
        gvl = self.root.find("globalVarList")
        for var in gvl.findall("variable") if gvl is not None else []:
            entry = {"name": var.get("name") or "", "value": var.text or ""}
            if _bool(var.get("hidden")):
                entry["value"], entry["hidden"] = self.secret("sequence", entry["name"]), True
            global_vars.append(entry)
        definition["variables"] = global_vars
        refs = []
        rl = self.root.find("referenceList")
        for ref in rl.findall("reference") if rl is not None else []:
            refs.append({k: ref.get(k) for k in ("package", "program", "application") if ref.get(k)})
        if refs:
            definition["references"] = refs
        definition["steps"] = self.items(self.root)
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
        text = raw.decode("utf-16")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("utf-16-le", "replace")
    # Line ends as the playbook writes them; PowerShell does not care.
    return text.replace("\r\n", "\n")


def import_sequence(source: bytes | str, name: str = "<input>", *, lenient: bool = False) -> dict:
    """The sequence definition of a ConfigMgr/MDT export (any accepted container)."""
    root, info = read_sequence(source, name, lenient=lenient)
    return Importer(root, info, name).run()


def summary_text(definition: dict) -> str:
    s = definition["import_summary"]
    lines = [f"{definition['name']}: {s['steps']} steps, {s['imported']} imported, {len(s['placeholders'])} placeholders"]
    reasons: dict[str, int] = {}
    for p in s["placeholders"]:
        reasons[p["reason"]] = reasons.get(p["reason"], 0) + 1
    lines += [f"  {n} x placeholder: {r}" for r, n in sorted(reasons.items(), key=lambda x: -x[1])]
    if definition["secrets"]:
        lines.append(f"  {len(definition['secrets'])} secret(s) to supply: "
                     + ", ".join(s_["variable"] for s_ in definition["secrets"]))
    return "\n".join(lines)


__all__ = ["SequenceImportError", "import_sequence", "summary_text"]
