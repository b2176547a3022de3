"""Fixtures to run the step action plugins on the controller with a recorded host."""

from __future__ import annotations

import importlib
import json
from unittest.mock import MagicMock

import pytest


@pytest.fixture(autouse=True)
def _controller_key(tmp_path, monkeypatch):
    # Each test gets its own controller key: nothing touches ~/.ansible.
    monkeypatch.setenv("TASKSEQUENCE_WINDOWS_KEY_FILE", str(tmp_path / "ts.key"))


class FakeHost:
    """Answers the plugins' remote module calls and records them."""

    def __init__(self, handler=None):
        self.calls: list[dict] = []
        self.handler = handler or (lambda name, args: {"failed": True, "msg": "no host in this test"})

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        # Round-trip through JSON as the real transport does.
        self.calls.append({"module": module_name, "args": json.loads(json.dumps(module_args))})
        return self.handler(module_name, module_args)


def process_params(module_args: dict) -> dict:
    """run_process's parameters with its JSON payload (plain or sensitive) merged in."""
    params = dict(module_args["parameters"])
    sensitive = {p["name"]: p["value"] for p in module_args.get("sensitive_parameters") or []}
    payload = params.pop("payload_json", None) or sensitive.get("sensitive_payload")
    params.update(json.loads(payload))
    params["_sensitive"] = "sensitive_payload" in sensitive
    return params


@pytest.fixture
def remote_params():
    """remote_params(host) -> the run_process parameters of the host's only call."""

    def get(host):
        assert len(host.calls) == 1, "one remote execution per step"
        return process_params(host.calls[0]["args"])

    return get


def script_id(module_args: dict) -> str:
    first = module_args["script"].splitlines()[0]
    return first.split("script:", 1)[1].strip()


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
        action._execute_module = fake
        result = action.run(task_vars=dict(task_vars or {}))
        run.action = action
        run.host = fake
        return result

    return run


def process_host(rc=0, stdout="", stderr="", timed_out=False, command_found=True, failed=False):
    """A host whose run_process script answers as given."""

    def handler(name, args):
        assert name == "ansible.windows.win_powershell"
        assert script_id(args) == "run_process"
        if failed:
            return {"failed": True, "msg": "script error", "output": [], "error": []}
        return {"changed": True, "output": [{"rc": None if timed_out else rc, "stdout": stdout, "stderr": stderr,
                                             "timed_out": timed_out, "command_found": command_found}]}

    return FakeHost(handler)


@pytest.fixture
def make_process_host():
    return process_host


def sample_hardware(**over):
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
                              "ip_addresses": ["192.0.2.11"], "default_gateways": ["192.0.2.1"]}],
        "uefi": True, "tpm": {"present": True, "spec_version": "2.0", "enabled": True, "activated": True},
    }
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(hw.get(key), dict):
            hw[key] = {**hw[key], **value}
        else:
            hw[key] = value
    return hw


def inventory_host(hw):
    def handler(name, args):
        assert name == "ansible.windows.win_powershell" and script_id(args) == "hardware_inventory"
        return {"changed": False, "output": [hw]}

    return FakeHost(handler)


@pytest.fixture
def make_inventory_host():
    return inventory_host


@pytest.fixture
def hardware():
    return sample_hardware
