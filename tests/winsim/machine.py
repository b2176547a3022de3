"""The simulated Windows machine: persistent state, restarts, and running what arrives.

State is JSON on disk, one directory per host (``<state_dir>/<name>/state.json``), written
after every change, so it survives restarts of the simulated machine and of the fixture.
Test fixture: never shipped.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import hashlib
import json
import os
import threading
import time

# A test credential of the simulated hosts, not a secret: every simulated host accepts it.
TEST_PASSWORD = os.environ.get("WINSIM_PASSWORD", "Winsim-Test-Passw0rd!")
LOGON_UI_KEY = "hklm\\software\\microsoft\\windows nt\\currentversion\\winlogon\\autologonchecked"
DEPLOY_PASSWORD = os.environ.get("WINSIM_DEPLOY_PASSWORD", "Deploy-Test-Passw0rd!")


@dataclasses.dataclass
class ExecResult:
    stdout: bytes
    stderr: bytes
    rc: int


def _deep_merge(base: dict, over: dict) -> dict:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def norm(path: str) -> str:
    """Windows paths compare without regard to case or slash direction."""
    path = path.replace("/", "\\").rstrip("\\")
    if len(path) == 2 and path[1] == ":":
        path += "\\"
    return path.lower()


def default_state(name: str, index: int) -> dict:
    """A plausible, deterministic Windows machine; hosts differ by index."""
    digest = hashlib.sha256(name.encode()).hexdigest().upper()
    models = [("Dell Inc.", "Latitude 7440"), ("HP", "EliteBook 840 G10"), ("LENOVO", "ThinkPad T14 Gen 4"),
              ("Microsoft Corporation", "Virtual Machine")]
    make, model = models[index % len(models)]
    mac = f"00:15:5D:{index // 65536 % 256:02X}:{index // 256 % 256:02X}:{index % 256:02X}"
    ip = f"192.0.2.{10 + index % 200}"
    server = index % 4 == 3
    files = {}
    for path in ["C:\\", "C:\\Windows", "C:\\Windows\\System32", "C:\\Windows\\SysWOW64", "C:\\Windows\\Temp",
                 "C:\\Program Files", "C:\\Program Files (x86)", "C:\\ProgramData", "C:\\Users",
                 "C:\\Users\\Administrator", "C:\\Temp"]:
        files[norm(path)] = {"path": path, "type": "directory"}
    for folder in ("System32", "SysWOW64"):
        for exe in ("cmd.exe", "hostname.exe", "whoami.exe", "reg.exe", "msiexec.exe", "shutdown.exe", "ping.exe",
                    "timeout.exe", "WindowsPowerShell\\v1.0\\powershell.exe"):
            path = f"C:\\Windows\\{folder}\\{exe}"
            files[norm(path)] = {"path": path, "type": "file", "size": 1024,
                                 "program": {"builtin": exe.rsplit("\\", 1)[-1].lower()}}
    return {
        "format": 1,
        "hostname": name.upper()[:15],
        "os": {
            "caption": "Microsoft Windows Server 2022 Datacenter" if server else "Microsoft Windows 11 Enterprise",
            "version": "10.0.20348" if server else "10.0.22631",
            "edition": "ServerDatacenter" if server else "Enterprise",
            "architecture": "64-bit",
            "product_type": "server" if server else "workstation",
            "language": "en-US", "lcid": 1033,
            "install_date": "2026-01-15 09:00:00Z",
            "powershell_version": "5.1.22621.4391",
        },
        "hardware": {
            "make": make, "model": model,
            "serial_number": f"SN{digest[:8]}", "asset_tag": f"AT-{index + 1:04d}",
            "uuid": f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}",
            "bios_version": "1.18.0", "bios_date": "2025-06-01",
            "memory_mb": [16384, 8192, 32768, 4096][index % 4],
            "cpu": {"name": "Intel(R) Core(TM) i7-1365U CPU @ 1.80GHz", "mhz": [2800, 1800, 3200, 2400][index % 4],
                    "cores": 4, "logical": 8},
            "uefi": index % 4 != 2, "on_ac_power": True, "virtual": index % 4 == 3,
            "tpm": {"present": True, "spec_version": "2.0", "enabled": True, "activated": True},
        },
        "disks": [{"letter": "C", "size_mb": 256000, "free_mb": [120000, 40000, 200000, 9000][index % 4],
                   "filesystem": "NTFS", "label": "OS"}],
        "network_adapters": [
            {"name": "Ethernet", "description": "Intel(R) Ethernet Connection", "mac": mac, "connected": True,
             "wireless": False, "ip_addresses": [ip], "subnet": "255.255.255.0", "default_gateways": ["192.0.2.1"],
             "dns_servers": ["192.0.2.53"], "interface_index": 4},
        ],
        "environment": {
            "ALLUSERSPROFILE": "C:\\ProgramData", "COMPUTERNAME": name.upper()[:15],
            "ComSpec": "C:\\Windows\\system32\\cmd.exe", "NUMBER_OF_PROCESSORS": "8", "OS": "Windows_NT",
            "PATH": "C:\\Windows\\system32;C:\\Windows;C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\",
            "PATHEXT": ".COM;.EXE;.BAT;.CMD;.VBS;.JS;.WSH;.MSC", "PROCESSOR_ARCHITECTURE": "AMD64",
            "ProgramData": "C:\\ProgramData", "ProgramFiles": "C:\\Program Files",
            "ProgramFiles(x86)": "C:\\Program Files (x86)", "SystemDrive": "C:", "SystemRoot": "C:\\Windows",
            "TEMP": "C:\\Windows\\Temp", "TMP": "C:\\Windows\\Temp", "windir": "C:\\Windows",
        },
        "files": files,
        "registry": {
            "hklm\\software\\microsoft\\windows nt\\currentversion": {
                "path": "HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
                "values": {"ProductName": {"type": "REG_SZ", "data": "Windows 10 Enterprise"},
                           "CurrentBuild": {"type": "REG_SZ", "data": "22631"}}},
            LOGON_UI_KEY: {"path": "HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\AutoLogonChecked",
                           "values": {}},
            "hklm\\system\\currentcontrolset\\control": {
                "path": "HKLM:\\SYSTEM\\CurrentControlSet\\Control",
                "values": {"PEFirmwareType": {"type": "REG_DWORD", "data": 2 if index % 4 != 2 else 1}}},
        },
        "products": {},
        "updates": {"available": [], "installed": []},
        "mapped_drives": {},
        "accounts": {"Administrator": {"password": TEST_PASSWORD, "admin": True},
                     "deploy": {"password": DEPLOY_PASSWORD, "admin": False}},
        "configmgr_client_version": None if server else "5.00.9128.1000",
        "web": {},
        "boot": {"boot_time": time.time() - 3600, "boot_id": 1, "pending_reboot": False,
                 "shutdown_at": None, "shutdown_message": None},
    }


class Machine:
    """One simulated Windows host (the seam the protocol layer calls, see CONTRACT.md)."""

    def __init__(self, name: str, state_dir, *, index: int = 0, reboot_seconds: float = 3.0, seed: dict | None = None):
        self.name = name
        self.lock = threading.RLock()
        self.reboot_seconds = reboot_seconds
        self.dir = os.path.join(str(state_dir), name)
        self.path = os.path.join(self.dir, "state.json")
        self.boot_event = threading.Event()   # set (then cleared) by every boot: cancels running work
        os.makedirs(self.dir, exist_ok=True)
        if os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as f:
                self.state = json.load(f)
        else:
            self.state = default_state(name, index)
        if seed:
            _deep_merge(self.state, seed)
        self.save()
        self._counters = self._new_counters()

    # persistence -----------------------------------------------------------------

    def save(self) -> None:
        with self.lock:
            tmp = self.path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.state, f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)

    def state_snapshot(self) -> dict:
        with self.lock:
            self._tick()
            return copy.deepcopy(self.state)

    # counters ----------------------------------------------------------------------

    @staticmethod
    def _new_counters() -> dict:
        return {"executions": 0, "modules": {}, "scripts": {}, "raw": 0, "programs": 0, "boots": 0}

    def count(self, kind: str, name: str | None = None) -> None:
        with self.lock:
            if name is None:
                self._counters[kind] += 1
            else:
                self._counters[kind][name] = self._counters[kind].get(name, 0) + 1

    def counters_snapshot(self) -> dict:
        with self.lock:
            return copy.deepcopy(self._counters)

    def reset_counters(self) -> None:
        with self.lock:
            self._counters = self._new_counters()

    # accounts --------------------------------------------------------------------

    def accounts(self) -> dict[str, str]:
        with self.lock:
            return {user: rec["password"] for user, rec in self.state["accounts"].items()}

    def find_account(self, user: str) -> str | None:
        """The account's stored name for ``user`` (``HOST\\user``, ``.\\user`` accepted)."""
        short = user.split("\\")[-1].split("@")[0].lower()
        for name in self.state["accounts"]:
            if name.lower() == short:
                return name
        return None

    # restarts ----------------------------------------------------------------------

    def _tick(self) -> None:
        """Advance the restart life cycle to now."""
        boot = self.state["boot"]
        at = boot.get("shutdown_at")
        if at is not None and time.time() >= at + self.reboot_seconds:
            boot["boot_time"] = at + self.reboot_seconds
            boot["boot_id"] += 1
            boot["pending_reboot"] = False
            boot["shutdown_at"] = None
            boot["shutdown_message"] = None
            # Drives mapped in a logon session do not survive a restart.
            self.state["mapped_drives"] = {}
            # LogonUI recreates this volatile key when the logon screen is ready (win_reboot waits for it).
            self.state["registry"][LOGON_UI_KEY] = {"path": "HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon"
                                                            "\\AutoLogonChecked", "values": {}}
            self._counters["boots"] += 1
            self.save()

    def is_up(self) -> bool:
        with self.lock:
            self._tick()
            at = self.state["boot"].get("shutdown_at")
            return at is None or time.time() < at

    def boot_id(self) -> int:
        with self.lock:
            self._tick()
            return self.state["boot"]["boot_id"]

    def boot_time(self) -> float:
        with self.lock:
            self._tick()
            return self.state["boot"]["boot_time"]

    def schedule_restart(self, delay: float, message: str | None = None) -> bool:
        """shutdown /r /t N. False when a shutdown is already scheduled (Windows' 1190)."""
        with self.lock:
            self._tick()
            if self.state["boot"].get("shutdown_at") is not None:
                return False
            self.state["boot"]["shutdown_at"] = time.time() + max(delay, 0)
            self.state["boot"]["shutdown_message"] = message
            self.save()
        threading.Timer(max(delay, 0) + 0.01, self.boot_event.set).start()
        return True

    def abort_restart(self) -> bool:
        """shutdown /a. False when none is scheduled (Windows' 1116)."""
        with self.lock:
            self._tick()
            at = self.state["boot"].get("shutdown_at")
            if at is None or time.time() >= at:
                return False
            self.state["boot"]["shutdown_at"] = None
            self.save()
            return True

    def crash(self) -> None:
        """An unexpected restart now."""
        with self.lock:
            self._tick()
            self.state["boot"]["shutdown_at"] = time.time()
            self.save()
        self.boot_event.set()

    def boot_time_text(self) -> str:
        return datetime.datetime.fromtimestamp(self.boot_time(), datetime.UTC).strftime("%Y-%m-%d %H:%M:%SZ")

    # running what arrives --------------------------------------------------------------

    def execute(self, command_line: str, stdin, *, user: str, cancel: threading.Event) -> ExecResult:
        from tests.winsim import payload

        self.count("executions")
        return payload.run(self, command_line, stdin, user=user, cancel=cancel)

    def sleep(self, seconds: float, cancel: threading.Event) -> bool:
        """Sleep for a simulated process; False if cancelled or the machine went down."""
        end = time.time() + seconds
        while time.time() < end:
            if cancel.is_set() or not self.is_up():
                return False
            time.sleep(min(0.05, max(end - time.time(), 0)))
        return True
