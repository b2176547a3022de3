# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every property of ConfigMgr's task sequence classes, and what the importer makes of it.

Internal to this collection: no compatibility promise.

Transcribed from the SDK reference (the design note ``configmgr-sdk.md``: class pages of
``SMS_TaskSequence_*``): for each property, the runtime variable names it has in exports (the
SDK's ``VariableName`` first; further names only where real exports write another one), and
either the module option (or item key) it becomes, or why it has none (``na``, listed in
docs/importer.md). The mappers in ``mapping`` read step settings through this table, and
``tests/unit/plugins/plugin_utils/test_importer_sdk.py`` walks the reference file against it.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Setting:
    names: tuple[str, ...] = ()      # runtime variable names, the SDK's VariableName first
    option: str | None = None        # the module option (or item key) it becomes
    requires: str | None = None      # the Boolean property that switches it on
    na: str | None = None            # why it has no option
    attribute: str | None = None     # an attribute of <step>/<group>/<expression> rather than a variable
    default: str | None = None       # the SDK's default, used when the export leaves it out


S = Setting
RUNS_HERE = "every step here runs in the full OS; a step with runIn=WinPE becomes a placeholder"
INFO = "shown in the console only; the step does not use it"

STEP = {
    "Condition": S(attribute="condition", option="conditions"),
    "ContinueOnError": S(attribute="continueOnError", option="continue_on_error"),
    "Description": S(attribute="description", option="description"),
    "Enabled": S(attribute="disable", option="disabled"),
    "Name": S(attribute="name", option="name"),
}
ACTION = {
    "SupportedEnvironment": S(attribute="runIn", na=RUNS_HERE),
    "Timeout": S(attribute="timeout", option="timeout"),
}
CLASSES: dict[str, dict[str, Setting]] = {
    "SMS_TaskSequence_Step": STEP,
    "SMS_TaskSequence_Group": {"Steps": S(option="steps")},
    "SMS_TaskSequence_Action": ACTION,
    "SMS_TaskSequence_PrestartCheckAction": {
        "CheckCMClientMinVersion": S(("OSDCheckCMClientMinVersion",), "min_client_version", default="false"),
        "CheckDeviceUEFI": S(("OSDCheckDeviceUEFI",), "uefi", default="false"),
        "CheckFreeDiskSpace": S(("OSDCheckFreeDiskSpace",), "free_disk_mb", default="true"),
        "CheckMaxOSVersion": S(("OSDCheckMaxOsVersion",), "max_os_version", default="false"),
        "CheckMemory": S(("OSDCheckMemory",), "memory_mb", default="true"),
        "CheckMinOSVersion": S(("OSDCheckMinOSVersion",), "min_os_version", default="false"),
        "CheckNetworkConnected": S(("OSDCheckNetworkConnected",), "network_connected", default="false"),
        # The SDK gives no VariableName; exports write OSDCheckNetworkWired.
        "CheckNetworkWired": S(("OSDCheckNetworkWired",), "network_wired", default="false"),
        "CheckOSArchitecture": S(("OSDCheckOSArchitecture",), "architecture", default="false"),
        "CheckOSLanguageID": S(("OSDCheckOSLanguageID",), "os_language", default="false"),
        "CheckOSType": S(("OSDCheckOSType",), "os_type", default="true"),
        "CheckPowerState": S(("OSDCheckPowerState",), "ac_power", default="false"),
        "CheckProcessorSpeed": S(("OSDCheckProcessorSpeed",), "cpu_speed_mhz", default="true"),
        # TPM 2.0 checks (from 2111): no SDK property; exports write these names.
        "CheckTpmEnabled": S(("OSDCheckDeviceTpmEnabled",), "tpm_enabled", default="false"),
        "CheckTpmActivated": S(("OSDCheckDeviceTpmActivated",), "tpm_activated", default="false"),
        "CMClientMinVersion": S(("OSDCMClientMinVersion",), "min_client_version", requires="CheckCMClientMinVersion"),
        "FreeDiskSpace": S(("OSDFreeDiskSpace",), "free_disk_mb", requires="CheckFreeDiskSpace", default="25000"),
        "MaxOSVersion": S(("OSDMaxOSVersion",), "max_os_version", requires="CheckMaxOSVersion"),
        "Memory": S(("OSDMemory",), "memory_mb", requires="CheckMemory", default="512"),
        "MinOSVersion": S(("OSDMinOSVersion",), "min_os_version", requires="CheckMinOSVersion"),
        "OSArchitecture": S(("OSDOSArchitecture",), "architecture", requires="CheckOSArchitecture", default="64"),
        "OSLanguageID": S(("OSDOSLanguageID",), "os_language", requires="CheckOSLanguageID"),
        "OSType": S(("OSDOSType",), "os_type", requires="CheckOSType", default="CLIENT"),
        "ProcessorSpeed": S(("OSDProcessorSpeed",), "cpu_speed_mhz", requires="CheckProcessorSpeed", default="800"),
        "SupportedEnvironment": S(na=RUNS_HERE),
    },
    "SMS_TaskSequence_ConnectNetworkFolderAction": {
        "DriveLetter": S(("SMSConnectNetworkFolderDriveLetter",), "drive_letter"),
        "Password": S(("SMSConnectNetworkFolderPassword",), "password"),
        "Path": S(("SMSConnectNetworkFolderPath",), "path"),
        "Username": S(("SMSConnectNetworkFolderAccount",), "account"),
    },
    "SMS_TaskSequence_DownloadPackageContentAction": {
        "ContinueDownloadOnError": S(("OSDDownloadContinueDownloadOnError",), "continue_on_download_error",
                                     default="true"),
        "DestinationCustomPath": S(("OSDDownloadDestinationPath",), "destination_path"),
        "DestinationLocationType": S(("OSDDownloadDestinationLocationType",), "destination", default="TSCache"),
        "DestinationVariable": S(("OSDDownloadDestinationVariable",), "destination_variable"),
        "DownloadPackages": S(("OSDDownloadDownloadPackages",), "packages"),
        "NumPackages": S(("OSDPackageCount",), na="the number of PackageInfo entries; the packages come from "
                                                  "DownloadPackages"),
        "PackageInfo": S(("OSDPackage",), na=INFO + " (name, type and size of each package)"),
        "SupportedEnvironment": S(na=RUNS_HERE),
    },
    "SMS_TaskSequence_PackageInfo": {
        "Name": S(("OSDPackage{n}Name",), na=INFO),
        "PackageId": S(("OSDPackage{n}PackageId",), na="the same IDs as DownloadPackages, which the step uses"),
        "PkgType": S(("OSDPackage{n}PkgType",), na=INFO),
        "Size": S(("OSDPackage{n}Size",), na=INFO),
    },
    "SMS_TaskSequence_InstallApplicationAction": {
        "AppInfo": S(("OSDApp",), "applications"),
        "ApplicationName": S(("ApplicationName",), "applications"),
        "BaseVariableName": S(("BaseVariableName",), "base_variable_name"),
        "ClearCache": S(("OSDAppClearCache",), "clear_cache", default="false"),
        "ContinueOnInstallError": S(("ContinueOnInstallError",), "continue_on_install_error"),
        "NumApps": S(("OSDAppCount",), "applications"),
        "RetryCount": S(("RetryCount",), "retry_count", default="2"),
        "SupportedEnvironment": S(na=RUNS_HERE),
    },
    "SMS_TaskSequence_ApplicationInfo": {
        "Description": S(("OSDApp{n}Description",), na=INFO),
        "DisplayName": S(("OSDApp{n}DisplayName",), "applications"),
        "Name": S(("OSDApp{n}Name",), "applications"),
    },
    "SMS_TaskSequence_InstallSoftwareAction": {
        "BaseVariableName": S(("BaseVariableName",), "base_variable_name"),
        "ContinueOnInstallError": S(("ContinueOnInstallError",), "continue_on_install_error"),
        "PackageID": S(("PackageID",), "package_id"),
        "ProgramName": S(("_SMSSWDProgramName",), "program_name"),
        "SupportedEnvironment": S(na=RUNS_HERE),
    },
    "SMS_TaskSequence_InstallUpdateAction": {
        "RetryCount": S(("RetryCount",), "retry_count", default="2"),
        "Target": S(("SMSInstallUpdateTarget",), "target"),
        "UseCache": S(("SMSTSSoftwareUpdateScanUseCache",), "use_cache", default="true"),
        "SupportedEnvironment": S(na=RUNS_HERE),
    },
    "SMS_TaskSequence_RebootAction": {
        # VariablePrefix SMSReboot; MDT's ts.xml writes the bare property names.
        "Message": S(("SMSRebootMessage", "Message"), "message"),
        "MessageTimeout": S(("SMSRebootTimeout", "MessageTimeout"), "message_timeout", default="0"),
        "Target": S(("SMSRebootTarget", "Target"), "target"),
    },
    "SMS_TaskSequence_RunCommandLineAction": {
        "CommandLine": S(("CommandLine",), "command_line"),
        "DisableWow64Redirection": S(("SMSTSDisableWow64Redirection",), "disable_wow64_redirection", default="false"),
        "OutputVariableName": S(("SMSTSRunCommandLineOutputVariableName",), "output_variable"),
        "PackageID": S(("PackageID",), "package_id"),
        # MDT writes RunAsUser without the underscore.
        "RunAsUser": S(("_SMSTSRunCommandLineAsUser", "RunAsUser"), "run_as_user", default="false"),
        "SuccessCodes": S(("SuccessCodes",), "success_codes"),
        "Timeout": S(attribute="timeout", option="timeout"),
        "UserName": S(("SMSTSRunCommandLineUserName",), "run_as_user", requires="RunAsUser"),
        "UserPassword": S(("SMSTSRunCommandLineUserPassword",), "run_as_password", requires="RunAsUser"),
        "WorkingDirectory": S(("WorkingDirectory",), "start_in"),
        # Not an SDK property: MDT's "Load the user's profile" for run as; become (runas) always loads it.
        "LoadProfile": S(("LoadProfile",), na="run as always loads the account's profile here (become runas, "
                                              "logon_flags with_profile)"),
    },
    "SMS_TaskSequence_RunPowerShellScriptAction": {
        "ExecutionPolicy": S(("OSDRunPowerShellScriptExecutionPolicy",), "execution_policy"),
        "OutputVariableName": S(("OSDRunPowerShellScriptOutputVariableName",), "output_variable"),
        "PackageID": S(("OSDRunPowerShellScriptPackageID",), "package_id"),
        "Parameters": S(("OSDRunPowerShellScriptParameters",), "parameters"),
        "RunAsUser": S(("_SMSTSRunPowerShellAsUser",), "run_as_user", default="false"),
        "ScriptName": S(("OSDRunPowerShellScriptScriptName",), "script_name"),
        "SourceScript": S(("OSDRunPowerShellScriptSourceScript",), "script"),
        "SuccessCodes": S(("OSDRunPowerShellScriptSuccessCodes",), "success_codes"),
        "SupportedEnvironment": S(na=RUNS_HERE),
        "Timeout": S(attribute="timeout", option="timeout"),
        "UserName": S(("SMSTSRunPowerShellUserName",), "run_as_user", requires="RunAsUser"),
        "UserPassword": S(("SMSTSRunPowerShellUserPassword",), "run_as_password", requires="RunAsUser"),
        "WorkingDirectory": S(("SMSTSRunPowerShellWorkingDirectory",), "start_in"),
    },
    "SMS_TaskSequence_SetVariableAction": {
        "DoNotShowVariableValue": S(("DoNotShowVariableValue",), "hidden", default="false"),
        # Hidden values never reach the definition: a secret reference in their place.
        "HiddenVariableValue": S(("HiddenVariableValue",), "value", requires="DoNotShowVariableValue"),
        "VariableName": S(("VariableName",), "name"),
        "VariableValue": S(("VariableValue",), "value"),
    },
    # No SDK page: the one setting real exports carry.
    "SMS_TaskSequence_SetDynamicVariablesAction": {
        "Rules": S(("OSDSetDynamicVariablesRules",), "rules"),
    },
    "SMS_TaskSequence_SubTasksequence": {
        "TsPackageID": S(("OSDSubTasksequencePackageID",), "child_sequence"),
        "TsName": S(("OSDSubTasksequenceTsName",), "child_sequence"),
        "TsReferencePackages": S(("OSDSubTasksequenceTsReferencePackages",), na="the child's own references"),
        "TsReferenceApplications": S(("OSDSubTasksequenceTsReferenceApplications",), na="the child's own references"),
    },
    # Conditions (condition nodes of docs/sequence-format.md).
    "SMS_TaskSequence_Condition": {"Operands": S(option="conditions")},
    "SMS_TaskSequence_ConditionOperator": {"Operands": S(option="all/any/none"), "OperatorType": S(option="all/any/none")},
    "SMS_TaskSequence_VariableConditionExpression": {
        "Operator": S(("Operator",), "variable.operator"), "Value": S(("Value",), "variable.value"),
        "Variable": S(("Variable",), "variable.name")},
    "SMS_TaskSequence_FileConditionExpression": {
        "DateTime": S(("DateTime",), "file.date_time"), "DateTimeOperator": S(("DateTimeOperator",), "file.date_time_operator"),
        "Path": S(("Path",), "file.path"), "Version": S(("Version",), "file.version"),
        "VersionOperator": S(("VersionOperator",), "file.version_operator")},
    "SMS_TaskSequence_FolderConditionExpression": {
        "DateTime": S(("DateTime",), "folder.date_time"),
        "DateTimeOperator": S(("DateTimeOperator",), "folder.date_time_operator"), "Path": S(("Path",), "folder.path")},
    "SMS_TaskSequence_RegistryConditionExpression": {
        "Data": S(("Data",), "registry.data"), "KeyPath": S(("KeyPath",), "registry.key"),
        "Operator": S(("Operator",), "registry.operator"), "Type": S(("Type",), "registry.type"),
        "Value": S(("Value",), "registry.value")},
    "SMS_TaskSequence_WMIConditionExpression": {
        "Namespace": S(("Namespace",), "wmi.namespace"), "Query": S(("Query",), "wmi.query")},
    "SMS_TaskSequence_SoftwareConditionExpression": {
        "Operator": S(("Operator",), "software.match"), "ProductCode": S(("ProductCode",), "software.product_code"),
        "ProductName": S(("ProductName",), "software.product_name"),
        "UpgradeCode": S(("UpgradeCode",), "software.upgrade_code"), "Version": S(("Version",), "software.version")},
    "SMS_TaskSequence_OSConditionGroup": {"Operands": S(option="any"), "OperatorType": S(option="any")},
    "SMS_TaskSequence_OSExpressionGroup": {
        "Name": S(attribute="name", na=INFO + " (the platform's display name)"),
        "Operands": S(option="all (its WMI queries)"), "OperatorType": S(option="all"),
        "PlatformArchKey": S(attribute="arch", option="os_version.architecture"),
        "PlatformMaxVerKey": S(attribute="maxVer", option="os_version.max_version"),
        "PlatformMinVerKey": S(attribute="minVer", option="os_version.min_version"),
        "PlatformTypeKey": S(attribute="type", option="os_version.platform")},
}
# The step classes the importer maps to modules, and the module each becomes.
MODULES = {
    "SMS_TaskSequence_PrestartCheckAction": "check_readiness",
    "SMS_TaskSequence_ConnectNetworkFolderAction": "connect_to_network_folder",
    "SMS_TaskSequence_DownloadPackageContentAction": "download_package_content",
    "SMS_TaskSequence_InstallApplicationAction": "install_application",
    "SMS_TaskSequence_InstallSoftwareAction": "install_package",
    "SMS_TaskSequence_InstallUpdateAction": "install_software_updates",
    "SMS_TaskSequence_RebootAction": "restart_computer",
    "SMS_TaskSequence_RunCommandLineAction": "run_command_line",
    "SMS_TaskSequence_RunPowerShellScriptAction": "run_powershell_script",
    "SMS_TaskSequence_SetDynamicVariablesAction": "set_dynamic_variables",
    "SMS_TaskSequence_SetVariableAction": "set_task_sequence_variable",
}
# Element classes whose settings are numbered (OSDApp0Name, OSDPackage1Size, ...), by the step class.
ELEMENTS = {
    "SMS_TaskSequence_InstallApplicationAction": "SMS_TaskSequence_ApplicationInfo",
    "SMS_TaskSequence_DownloadPackageContentAction": "SMS_TaskSequence_PackageInfo",
}


def runtime_names(cls: str) -> dict[str, tuple[str, Setting]]:
    """Runtime variable name (lower case; numbered ones with ``{n}``) -> (property, setting) of a step class."""
    out: dict[str, tuple[str, Setting]] = {}
    for table in (CLASSES.get(cls) or {}, CLASSES.get(ELEMENTS.get(cls, ""), {})):
        for prop, setting in table.items():
            for name in setting.names:
                out[name.lower()] = (prop, setting)
    return out
