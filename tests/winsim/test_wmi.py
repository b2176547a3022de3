"""The WMI layer: how CIM classes present the machine state, and WMI's own errors."""

from __future__ import annotations

import datetime

import pytest

from tests.winsim import wmi
from tests.winsim.machine import Machine


@pytest.fixture
def machine(tmp_path):
    return Machine("win01", tmp_path)


def rows(machine, cls, namespace="root\\cimv2", props=None, where=None, user="Administrator"):
    return [r for _name, r in wmi.query(machine, namespace, cls, props, where, user=user)]


def test_operating_system_and_computer(machine):
    (os_,) = rows(machine, "Win32_OperatingSystem")
    assert os_["ProductType"] == 1 and os_["OSLanguage"] == 1033 and os_["OSArchitecture"] == "64-bit"
    assert isinstance(os_["LastBootUpTime"], datetime.datetime)
    assert abs(os_["LastBootUpTime"].timestamp() - machine.boot_time()) < 1
    (cs,) = rows(machine, "win32_computersystem")                        # class names are case-insensitive
    assert cs["TotalPhysicalMemory"] == machine.state["hardware"]["memory_mb"] * 1024 * 1024
    assert cs["Domain"] == "WORKGROUP" and cs["PartOfDomain"] is False


def test_localised_architecture_and_server_product_type(tmp_path):
    m = Machine("win01", tmp_path, seed={"os": {"language": "de-DE", "lcid": 1031, "product_type": "server"}})
    (os_,) = rows(m, "Win32_OperatingSystem")
    assert os_["OSArchitecture"] == "64-Bit" and os_["ProductType"] == 3 and os_["OSLanguage"] == 1031


def test_partial_instances_and_filters(machine):
    (os_,) = rows(machine, "Win32_OperatingSystem", props=["caption"])
    assert os_["Caption"] and os_["Version"] is None
    assert rows(machine, "Win32_LogicalDisk", where="DeviceID = 'C:' AND DriveType = 3")[0]["DeviceID"] == "C:"
    assert rows(machine, "Win32_LogicalDisk", where="DeviceID = 'D:'") == []
    nics = rows(machine, "Win32_NetworkAdapterConfiguration", where="MACAddress IS NOT NULL")
    assert len(nics) == 4   # a MAC address does not make an adapter physical
    assert [r["Name"] for r in rows(machine, "MSFT_NetAdapter", "root/StandardCimv2",
                                    where="HardwareInterface = TRUE AND NOT Virtual = TRUE")] == ["Ethernet", "Wi-Fi"]
    assert [r["Name"] for r in rows(machine, "MSFT_NetAdapter", "ROOT\\StandardCimv2", where="Name LIKE 'W%'")] == \
        ["Wi-Fi", "WAN Miniport (IP)"]


@pytest.mark.parametrize("namespace,cls,props,where,message", [
    ("root\\nope", "Win32_OperatingSystem", None, None, "Invalid namespace "),
    ("root\\cimv2", "Win32_Nope", None, None, "Invalid class "),
    ("root\\cimv2", "Win32_OperatingSystem", ["Nope"], None, "Invalid query "),
    ("root\\cimv2", "Win32_OperatingSystem", None, "Nope = 1", "Invalid query "),
    ("root\\cimv2", "Win32_OperatingSystem", None, "Caption = ", "Invalid query "),
])
def test_wmi_errors(machine, namespace, cls, props, where, message):
    with pytest.raises(wmi.WmiError) as e:
        wmi.query(machine, namespace, cls, props, where)
    assert e.value.message == message


def test_battery_tpm_and_client(tmp_path):
    laptop = Machine("win01", tmp_path / "a", seed={"hardware": {"on_ac_power": False}})
    assert rows(laptop, "BatteryStatus", "root\\wmi") == [{"InstanceName": "ACPI\\PNP0C0A\\1_0", "PowerOnline": False,
                                                           "Charging": False, "Discharging": True, "Active": True,
                                                           "Tag": 1}]
    desktop = Machine("win01", tmp_path / "b", seed={"hardware": {"form": "desktop", "tpm": {"present": False}},
                                                     "configmgr_client_version": None})
    assert rows(desktop, "BatteryStatus", "root\\wmi") == []
    assert rows(desktop, "Win32_Tpm", "root\\cimv2\\Security\\MicrosoftTpm") == []
    with pytest.raises(wmi.WmiError, match="Invalid namespace"):
        wmi.query(desktop, "root\\ccm", "SMS_Client")
    (tpm,) = rows(laptop, "Win32_Tpm", "root\\cimv2\\Security\\MicrosoftTpm")
    assert tpm["SpecVersion"] == "2.0, 0, 1.38" and tpm["IsActivated_InitialValue"] is True
    with pytest.raises(wmi.WmiError, match="Access denied"):
        wmi.query(laptop, "root\\cimv2\\Security\\MicrosoftTpm", "Win32_Tpm", user="deploy")
    assert rows(laptop, "SMS_Client", "root\\ccm") == [{"ClientVersion": "5.00.9128.1000", "ClientType": 1,
                                                        "EnableAutoAssignment": False}]


def test_data_file_by_name(machine):
    machine.fs_mkdir("C:\\Tools")
    machine.fs_write("C:\\Tools\\agent.exe", b"x", extra={"version": "2.1.0.0"})
    machine.fs_write("C:\\Tools\\notes.txt", b"y")
    where = "Name='C:\\\\Tools\\\\Agent.exe'"              # WQL: backslashes doubled; names without case
    assert rows(machine, "CIM_DataFile", props=["Name", "Version"], where=where) == [
        {"Name": "c:\\tools\\agent.exe", "Version": "2.1.0.0"}]
    (text,) = rows(machine, "CIM_DataFile", where="Name='c:\\\\tools\\\\notes.txt'")
    assert text["Version"] is None                           # no version resource
    assert rows(machine, "CIM_DataFile", where="Name='c:\\\\tools'") == []   # folders are not data files
