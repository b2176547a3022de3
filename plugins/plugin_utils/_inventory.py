# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hardware inventory that Set Dynamic Variables and Check Readiness share.

Internal to this collection: no compatibility promise.

The host answers plain CIM / registry queries (``QUERIES``, data run by the one generic
script ``powershell/host_query.ps1`` through ``ansible.windows.win_powershell``); everything
derived from the answers (which adapter is wired, the OS language, what counts as a TPM 2.0)
is worked out here on the controller, where it is cheap and testable. Gathered at most once
per boot and kept in the ``tsenv_hardware`` fact: gathered again when the host's boot time
(``ansible_lastboot`` from fresh facts, as after a reboot) is newer than the one it was
taken at, or when a step asks for a refresh.
"""

from __future__ import annotations

import datetime
import locale
import typing as t

from ansible.errors import AnsibleActionFail

FACT = "tsenv_hardware"

# NDIS_PHYSICAL_MEDIUM (ntddndis.h): the medium an adapter reports, not a guess from its name.
NDIS_NATIVE_802_11 = 9
NDIS_WIRELESS_MEDIA = {1, 8, NDIS_NATIVE_802_11, 10, 12}   # WirelessLan, WirelessWan, Native802_11, BluetoothLan, Wwan
MEDIA_CONNECTED = 1                                       # MSFT_NetAdapter.MediaConnectState


def _cim(name, cls, *properties, namespace="root\\cimv2"):
    return {"name": name, "kind": "cim", "namespace": namespace, "class": cls, "properties": list(properties)}


QUERIES: list[dict] = [
    _cim("os", "Win32_OperatingSystem", "Caption", "Version", "ProductType", "OSArchitecture", "OSLanguage",
         "LastBootUpTime", "SystemDrive"),
    _cim("computer", "Win32_ComputerSystem", "Manufacturer", "Model", "TotalPhysicalMemory", "Name"),
    _cim("bios", "Win32_BIOS", "SerialNumber"),
    _cim("product", "Win32_ComputerSystemProduct", "UUID"),
    _cim("enclosure", "Win32_SystemEnclosure", "SMBIOSAssetTag"),
    _cim("cpu", "Win32_Processor", "MaxClockSpeed"),
    _cim("disks", "Win32_LogicalDisk", "DeviceID", "FreeSpace"),
    # MSFT_NetAdapter knows which adapters are hardware and what medium they use; WAN
    # Miniports, Hyper-V switches and VPN adapters are not HardwareInterface.
    _cim("adapters", "MSFT_NetAdapter", "InterfaceIndex", "Name", "MacAddress", "MediaConnectState",
         "NdisPhysicalMedium", "HardwareInterface", "Virtual", namespace="root\\StandardCimv2"),
    _cim("adapter_configs", "Win32_NetworkAdapterConfiguration", "InterfaceIndex", "IPAddress", "DefaultIPGateway"),
    _cim("battery", "BatteryStatus", "PowerOnline", namespace="root\\wmi"),
    _cim("tpm", "Win32_Tpm", "SpecVersion", "IsEnabled_InitialValue", "IsActivated_InitialValue",
         namespace="root\\cimv2\\Security\\MicrosoftTpm"),
    _cim("client", "SMS_Client", "ClientVersion", namespace="root\\ccm"),
    {"name": "firmware", "kind": "registry", "path": "HKLM:\\SYSTEM\\CurrentControlSet\\Control",
     "value": "PEFirmwareType"},
]
# host_query's answer: {name: {rows: [{property: value}], error}}; the values sit four levels
# below the output object, and win_powershell turns anything deeper than `depth` into its
# type name (upstream-map.md, §3).
QUERY_DEPTH = 5


class InventoryError(Exception):
    """The host's answer cannot be used (a query that must answer did not)."""


def _parse_time(text) -> datetime.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    text = text.strip().replace("Z", "+00:00").replace(" ", "T", 1)
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def is_current(cached, task_vars: dict) -> bool:
    """True while the cached inventory belongs to the host's current boot."""
    if not isinstance(cached, dict) or "boot_time" not in cached:
        return False
    booted = _parse_time(task_vars.get("ansible_lastboot"))
    taken = _parse_time(cached.get("boot_time"))
    if booted is None or taken is None:
        return True   # nothing tells us of a newer boot
    # setup derives ansible_lastboot from the tick count, so the two can differ by a moment.
    return booted <= taken + datetime.timedelta(seconds=5)


def hardware(action, task_vars: dict, refresh: bool = False) -> tuple[dict, bool]:
    """(inventory, gathered_now): at most one remote execution."""
    cached = task_vars.get(FACT)
    if not refresh and is_current(cached, task_vars):
        return cached, False
    answers = action.run_project_script("host_query", {"Queries": QUERIES}, task_vars, depth=QUERY_DEPTH)
    try:
        return from_answers(answers), True
    except InventoryError as e:
        raise AnsibleActionFail(f"hardware inventory: {e}") from None


def _rows(answers: dict, name: str, *, required: bool = False) -> list[dict]:
    answer = answers.get(name)
    if not isinstance(answer, dict):
        raise InventoryError(f"the host gave no answer to the '{name}' query")
    if answer.get("error"):
        if required:
            raise InventoryError(f"the host could not answer the '{name}' query: {answer['error']}")
        return []
    rows = answer.get("rows") or []
    bad = [r for r in rows if not isinstance(r, dict)]
    if bad:
        # A row that arrives as a type name was cut by win_powershell's depth.
        raise InventoryError(f"the '{name}' query's rows arrived as {bad[0]!r}, not as values")
    return rows


def _first(answers: dict, name: str, *, required: bool = False) -> dict:
    rows = _rows(answers, name, required=required)
    if required and not rows:
        raise InventoryError(f"the host returned no {name} instance")
    return rows[0] if rows else {}


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _list(value) -> list:
    if value is None:
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if v not in (None, "")]


def _mac(value) -> str:
    # MSFT_NetAdapter writes 00-15-5D-01-02-03; ConfigMgr's _SMSTSMacAddresses uses colons.
    return _text(value).replace("-", ":").upper()


def language_name(lcid: int) -> str:
    """en-US for 1033, from the Windows LCID table Python carries."""
    name = locale.windows_locale.get(lcid)
    return name.replace("_", "-") if name else ""


def _product_type(value) -> str:
    return {1: "workstation", 2: "domain_controller"}.get(_int(value), "server")


def _int(value, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _adapters(answers: dict) -> list[dict]:
    configs = {_int(c.get("InterfaceIndex"), -1): c for c in _rows(answers, "adapter_configs")}
    adapters = []
    for nic in _rows(answers, "adapters"):
        if not nic.get("HardwareInterface") or nic.get("Virtual"):
            continue
        config = configs.get(_int(nic.get("InterfaceIndex"), -2), {})
        adapters.append({
            "name": _text(nic.get("Name")),
            "mac": _mac(nic.get("MacAddress")),
            "connected": _int(nic.get("MediaConnectState")) == MEDIA_CONNECTED,
            "wireless": _int(nic.get("NdisPhysicalMedium")) in NDIS_WIRELESS_MEDIA,
            "ip_addresses": [str(ip) for ip in _list(config.get("IPAddress"))],
            "default_gateways": [str(gw) for gw in _list(config.get("DefaultIPGateway"))],
        })
    return adapters


def _tpm(answers: dict) -> dict:
    rows = _rows(answers, "tpm")
    if not rows:
        return {"present": False, "spec_version": None, "enabled": False, "activated": False}
    tpm = rows[0]
    # SpecVersion reads "2.0, 0, 1.38": the first field is the TPM family.
    return {"present": True, "spec_version": _text(tpm.get("SpecVersion")).split(",", maxsplit=1)[0].strip() or None,
            "enabled": bool(tpm.get("IsEnabled_InitialValue")),
            "activated": bool(tpm.get("IsActivated_InitialValue"))}


def from_answers(answers: t.Any) -> dict:
    """The inventory from host_query's answers to ``QUERIES``."""
    if not isinstance(answers, dict):
        raise InventoryError(f"the host's answer is {type(answers).__name__}, not a dictionary")
    os_ = _first(answers, "os", required=True)
    computer = _first(answers, "computer", required=True)
    system_drive = _text(os_.get("SystemDrive")) or "C:"
    disk = next((d for d in _rows(answers, "disks") if _text(d.get("DeviceID")).upper() == system_drive.upper()), {})
    adapters = _adapters(answers)
    batteries = _rows(answers, "battery")
    lcid = _int(os_.get("OSLanguage"))
    return {
        "boot_time": _text(os_.get("LastBootUpTime")),
        "computer_name": _text(computer.get("Name")),
        "make": _text(computer.get("Manufacturer")),
        "model": _text(computer.get("Model")),
        "serial_number": _text(_first(answers, "bios").get("SerialNumber")),
        "asset_tag": _text(_first(answers, "enclosure").get("SMBIOSAssetTag")),
        "uuid": _text(_first(answers, "product").get("UUID")),
        "mac_addresses": [a["mac"] for a in adapters if a["mac"]],
        "ip_addresses": [ip for a in adapters for ip in a["ip_addresses"]],
        "default_gateways": [gw for a in adapters for gw in a["default_gateways"]],
        "memory_mb": _int(computer.get("TotalPhysicalMemory")) // (1024 * 1024),
        "cpu_mhz": _int(_first(answers, "cpu").get("MaxClockSpeed")),
        "system_drive_free_mb": _int(disk.get("FreeSpace")) // (1024 * 1024),
        "os": {
            "caption": _text(os_.get("Caption")),
            "version": _text(os_.get("Version")),
            "product_type": _product_type(os_.get("ProductType")),
            "architecture": _text(os_.get("OSArchitecture")),
            "language": language_name(lcid),
            "lcid": lcid,
        },
        "configmgr_client_version": _text(_first(answers, "client").get("ClientVersion")) or None,
        # No battery to ask (a desktop, a VM): on mains power.
        "on_ac_power": not batteries or any(bool(b.get("PowerOnline")) for b in batteries),
        "network_adapters": adapters,
        "uefi": _int(_first(answers, "firmware").get("value")) == 2,   # PEFirmwareType: 1 BIOS, 2 UEFI
        "tpm": _tpm(answers),
    }
