"""Fixtures to run the step action plugins on the controller with a recorded host."""

from __future__ import annotations

import importlib
import json
import time
from unittest.mock import MagicMock

import pytest

from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import project_script


@pytest.fixture(autouse=True)
def _controller_key(tmp_path, monkeypatch):
    # Each test gets its own controller key: nothing touches ~/.ansible.
    monkeypatch.setenv("TASKSEQUENCE_WINDOWS_KEY_FILE", str(tmp_path / "ts.key"))


class FakeHost:
    """Answers the plugins' remote module calls and records them (with the task environment
    and no_log in force at the time of the call, as the module would see them)."""

    def __init__(self, handler=None):
        self.calls: list[dict] = []
        self.action = None
        self.handler = handler or (lambda name, args: {"failed": True, "msg": "no host in this test"})

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        environment: dict = {}
        for item in self.action._task.environment or []:
            environment.update(item)
        # Round-trip through JSON as the real transport does.
        self.calls.append({"module": module_name, "args": json.loads(json.dumps(module_args)),
                           "environment": json.loads(json.dumps(environment)), "no_log": self.action._task.no_log})
        return self.handler(module_name, module_args)


@pytest.fixture
def remote_params():
    """remote_params(host) -> the win_command call of the host's only remote execution."""

    def get(host):
        assert len(host.calls) == 1, "one remote execution per step"
        call = host.calls[0]
        assert call["module"] == "ansible.windows.win_command"
        return {**call["args"], "environment": call["environment"], "_sensitive": call["no_log"]}

    return get


@pytest.fixture
def run_step():
    """run_step(module, args, task_vars=None, host=None, check_mode=False, name='Step') -> result"""

    def run(module, args, task_vars=None, host=None, check_mode=False, name="Step", no_log=False):
        mod = importlib.import_module(f"ansible_collections.tasksequence.windows.plugins.action.{module}")
        task = MagicMock()
        task.args = dict(args)
        task.async_val = 0
        task.check_mode = check_mode
        task.diff = False
        task.no_log = no_log
        task.environment = []
        task.get_name.return_value = name
        connection = MagicMock()
        connection.become = None
        connection.set_become_plugin.side_effect = lambda p: setattr(connection, "become", p)
        play_context = MagicMock()
        play_context.check_mode = check_mode
        loader = MagicMock()
        action = mod.ActionModule(task, connection, play_context, loader=loader, templar=MagicMock(),
                                  shared_loader_obj=None)
        fake = host if host is not None else FakeHost()
        fake.action = action
        action._execute_module = fake
        result = action.run(task_vars=dict(task_vars or {}))
        run.action = action
        run.host = fake
        return result

    return run


def process_host(rc=0, stdout="", stderr="", not_found=False, seconds=0.0):
    """A host whose win_command answers as ansible.windows' win_command.ps1 does."""

    def handler(name, args):
        assert name == "ansible.windows.win_command"
        cmd = args.get("cmd") or " ".join(args["argv"])
        if seconds:
            time.sleep(seconds)
        if not_found:   # Start-AnsibleWindowsProcess threw: rc is the Win32 error, no stdout
            return {"failed": True, "rc": 2, "cmd": cmd,
                    "msg": f"Failed to run: '{cmd}': The system cannot find the file specified"}
        res = {"changed": True, "cmd": cmd, "rc": rc, "stdout": stdout, "stderr": stderr}
        if rc != 0:
            res.update(failed=True, msg="non-zero return code")
        return res

    return FakeHost(handler)


@pytest.fixture
def make_process_host():
    return process_host


def sample_hardware(**over):
    """The inventory as the controller derives it (what steps see)."""
    hw = {
        "boot_time": "2026-11-25 01:02:03Z", "computer_name": "WIN01",
        "make": "Dell Inc.", "model": "Latitude 7440", "serial_number": "5CG1234XYZ",
        "asset_tag": "AT-0001", "uuid": "4C4C4544-0000-1000-8000-B1C04F000001",
        "mac_addresses": ["00:15:5D:01:02:03", "00:15:5D:01:02:04"], "ip_addresses": ["192.0.2.11"],
        "default_gateways": ["192.0.2.1"], "memory_mb": 16384, "cpu_mhz": 2800, "system_drive_free_mb": 51200,
        "os": {"caption": "Microsoft Windows 11 Enterprise", "version": "10.0.22631", "product_type": "workstation",
               "architecture": "64-bit", "language": "en-US", "lcid": 1033},
        "configmgr_client_version": "5.00.9128.1000", "on_ac_power": True,
        "network_adapters": [{"name": "Ethernet", "mac": "00:15:5D:01:02:03", "connected": True, "wireless": False,
                              "ip_addresses": ["192.0.2.11"], "default_gateways": ["192.0.2.1"]},
                             {"name": "Wi-Fi", "mac": "00:15:5D:01:02:04", "connected": False, "wireless": True,
                              "ip_addresses": [], "default_gateways": []}],
        "uefi": True, "tpm": {"present": True, "spec_version": "2.0", "enabled": True, "activated": True},
    }
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(hw.get(key), dict):
            hw[key] = {**hw[key], **value}
        else:
            hw[key] = value
    return hw


def _rows(*rows):
    return {"rows": list(rows), "error": None}


def wmi_answers(hw):
    """host_query's answers as Windows would give them for an inventory: bytes not MB, MACs
    with dashes, LCIDs, ProductType numbers, MSFT_NetAdapter media. Plus a WAN Miniport and a
    Hyper-V switch that are not hardware and must not count."""
    product_type = {"workstation": 1, "domain_controller": 2, "server": 3}[hw["os"]["product_type"]]
    nics, configs = [], []
    for index, a in enumerate(hw["network_adapters"], start=10):
        nics.append({"InterfaceIndex": index, "Name": a["name"], "MacAddress": a["mac"].replace(":", "-"),
                     "MediaConnectState": 1 if a["connected"] else 2, "NdisPhysicalMedium": 9 if a["wireless"] else 14,
                     "HardwareInterface": True, "Virtual": False})
        configs.append({"InterfaceIndex": index, "IPAddress": a["ip_addresses"] or None,
                        "DefaultIPGateway": a["default_gateways"] or None})
    nics += [{"InterfaceIndex": 3, "Name": "WAN Miniport (IP)", "MacAddress": "", "MediaConnectState": 1,
              "NdisPhysicalMedium": 0, "HardwareInterface": False, "Virtual": False},
             {"InterfaceIndex": 4, "Name": "vEthernet (Default Switch)", "MacAddress": "00-15-5D-AA-BB-CC",
              "MediaConnectState": 1, "NdisPhysicalMedium": 14, "HardwareInterface": False, "Virtual": True}]
    configs.append({"InterfaceIndex": 4, "IPAddress": ["172.31.0.1"], "DefaultIPGateway": ["172.31.0.254"]})
    tpm = hw["tpm"]
    return {
        "os": _rows({"Caption": hw["os"]["caption"], "Version": hw["os"]["version"], "ProductType": product_type,
                     "OSArchitecture": hw["os"]["architecture"], "OSLanguage": hw["os"]["lcid"],
                     "LastBootUpTime": hw["boot_time"], "SystemDrive": "C:"}),
        "computer": _rows({"Manufacturer": hw["make"], "Model": hw["model"], "Name": hw["computer_name"],
                           "TotalPhysicalMemory": hw["memory_mb"] * 1024 * 1024 + 12345}),
        "bios": _rows({"SerialNumber": hw["serial_number"]}),
        "product": _rows({"UUID": hw["uuid"]}),
        "enclosure": _rows({"SMBIOSAssetTag": hw["asset_tag"]}),
        "cpu": _rows({"MaxClockSpeed": hw["cpu_mhz"]}),
        "disks": _rows({"DeviceID": "D:", "FreeSpace": 1}, {"DeviceID": "C:", "FreeSpace": hw["system_drive_free_mb"] * 1048576}),
        "adapters": _rows(*nics),
        "adapter_configs": _rows(*configs),
        "battery": _rows() if hw["on_ac_power"] else _rows({"PowerOnline": False}),
        "tpm": _rows({"SpecVersion": f"{tpm['spec_version']}, 0, 1.38", "IsEnabled_InitialValue": tpm["enabled"],
                      "IsActivated_InitialValue": tpm["activated"]}) if tpm["present"] else
        {"rows": [], "error": "Invalid namespace"},
        "client": _rows({"ClientVersion": hw["configmgr_client_version"]}) if hw["configmgr_client_version"] else
        {"rows": [], "error": "Invalid namespace"},
        "firmware": _rows({"value": 2 if hw["uefi"] else 1}),
    }


def inventory_host(hw):
    def handler(name, args):
        assert name == "ansible.windows.win_powershell"
        assert args["script"] == project_script("host_query")
        assert args["depth"] >= 5   # the row values sit four levels below the output object
        return {"changed": False, "output": [wmi_answers(hw)]}

    return FakeHost(handler)


@pytest.fixture
def make_inventory_host():
    return inventory_host


@pytest.fixture
def hardware():
    return sample_hardware
