r"""The simulated Windows machine: persistent state, its file system and registry, restarts.

State is JSON on disk, one directory per host (``<state_dir>/<name>/state.json``), written
atomically after every change, so it survives restarts of the simulated machine and of the
fixture. ``Machine`` is the seam the protocol layer calls (see CONTRACT.md).

Seed (deep-merged over the default machine; files, registry keys and products may be spelled
as on Windows and are normalised)::

    {"hardware": {"model": "OptiPlex 7010", "tpm": {"enabled": False}},
     "files": {"C:\\Pkg\\setup.exe": {"program": {"rc": 3010, "stdout": "ok {args}", "seconds": 1,
                   "effects": [{"install_product": {"product_code": "Agent", "name": "Agent"}},
                               {"request_reboot": True}],
                   "cases": [{"args": "/uninstall", "rc": 0, "effects": [{"remove_product": "Agent"}]}]}},
               "C:\\Pkg\\tool.msi": {"msi": {"product_code": "{GUID}", "name": "Tool", "version": "1.0",
                                               "rc": 0}},
               "C:\\Pkg\\notes.txt": {"content": "text"}, "C:\\Pkg\\Old": {"absent": True}},
     "registry": {"HKLM:\\SOFTWARE\\Contoso": {"Ring": 2, "Site": {"type": "REG_SZ", "data": "Berlin"}}},
     "products": {"{GUID}": {"name": "Preinstalled", "version": "1.0"}},
     "updates": {"available": [{"id": "...", "title": "... (KB5070001)", "kb": ["5070001"],
                                "categories": ["Security Updates"], "reboot_required": True}], "installed": []},
     "web": {"https://host/x.msi": {"content": "...", "msi": {...}}},
     "shares": {"\\\\fs01\\content": {"username": "svc", "password": "..."}},
     "accounts": {"tester": {"password": "...", "admin": False, "rid": 1002}}}

Program effects: install_product, remove_product, write_file, delete_file, set_registry,
delete_registry, request_reboot (pending restart, as rc 3010), restart (seconds: the program
restarts the machine, as rc 1641). Placeholders in stdout/stderr/content: {args}, {cwd},
{user}, {stdin}, {env:NAME}.

Test fixture: never shipped. Where a detail of Windows is guessed the code says ``guess:``.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime
import hashlib
import itertools
import json
import ntpath
import os
import re
import threading
import time

# Test credentials of the simulated hosts, not secrets: every simulated host accepts them.
TEST_PASSWORD = os.environ.get("WINSIM_PASSWORD", "Winsim-Test-Passw0rd!")
DEPLOY_PASSWORD = os.environ.get("WINSIM_DEPLOY_PASSWORD", "Deploy-Test-Passw0rd!")

LOGON_UI_KEY = "hklm\\software\\microsoft\\windows nt\\currentversion\\winlogon\\autologonchecked"
UNINSTALL_KEY = "hklm\\software\\microsoft\\windows\\currentversion\\uninstall"
CBS_REBOOT_KEY = "hklm\\software\\microsoft\\windows\\currentversion\\component based servicing\\rebootpending"
STATE_FORMAT = 2
_HIVES = {"hkey_local_machine": "hklm", "hkey_current_user": "hkcu", "hkey_users": "hku",
          "hkey_classes_root": "hkcr", "hkey_current_config": "hkcc"}
_HIVE_NAMES = {"hklm": "HKEY_LOCAL_MACHINE", "hkcu": "HKEY_CURRENT_USER", "hku": "HKEY_USERS",
               "hkcr": "HKEY_CLASSES_ROOT", "hkcc": "HKEY_CURRENT_CONFIG"}
SYSTEM_USERS = ("SYSTEM", "NT AUTHORITY\\SYSTEM")


@dataclasses.dataclass
class ExecResult:
    stdout: bytes
    stderr: bytes
    rc: int


class FsError(Exception):
    """A file system operation Windows would refuse; the message is Windows' own."""


def _deep_merge(base: dict, over: dict) -> dict:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def norm(path: str) -> str:
    """Windows paths compare without regard to case or slash direction."""
    path = str(path).replace("/", "\\")
    if path.startswith("\\\\"):
        return "\\\\" + ntpath.normpath(path[2:]).rstrip("\\").lower()
    path = ntpath.normpath(path) if path else path
    path = path.rstrip("\\")
    if len(path) == 2 and path[1] == ":":
        path += "\\"
    return path.lower()


def reg_norm(key: str) -> str:
    """Registry key paths in any of Windows' spellings (HKLM:\\, HKLM\\, HKEY_LOCAL_MACHINE\\)."""
    key = str(key).replace("/", "\\").strip().rstrip("\\")
    hive, _sep, rest = key.partition("\\")
    hive = hive.rstrip(":").lower()
    hive = _HIVES.get(hive, hive)
    rest = re.sub(r"\\+", r"\\", rest)
    return f"{hive}\\{rest}".lower() if rest else hive


def reg_display(key: str) -> str:
    """HKEY_LOCAL_MACHINE\\... as reg.exe prints a key."""
    hive, _sep, rest = key.partition("\\")
    name = _HIVE_NAMES.get(hive.lower().rstrip(":"), hive)
    return f"{name}\\{rest}" if rest else name


def filetime(epoch: float) -> int:
    return int(epoch * 10_000_000) + 116_444_736_000_000_000


def _index_from_name(name: str) -> int:
    m = re.search(r"(\d+)$", name)
    if m:
        return max(int(m.group(1)) - 1, 0)
    return int(hashlib.sha256(name.encode()).hexdigest()[:6], 16)


# The default machine ---------------------------------------------------------------

_MODELS = [("Dell Inc.", "Latitude 7440", "laptop"), ("HP", "HP EliteBook 840 G10", "laptop"),
           ("LENOVO", "ThinkCentre M90q Gen 4", "desktop"), ("Microsoft Corporation", "Virtual Machine", "vm"),
           ("Dell Inc.", "OptiPlex 7010", "desktop"), ("LENOVO", "ThinkPad T14 Gen 4", "laptop")]
_OSES = [  # caption, version, edition, product type, display version
    ("Microsoft Windows 11 Enterprise", "10.0.22631", "Enterprise", "workstation", "23H2"),
    ("Microsoft Windows 10 Enterprise", "10.0.19045", "Enterprise", "workstation", "22H2"),
    ("Microsoft Windows 11 Pro", "10.0.26100", "Professional", "workstation", "24H2"),
    ("Microsoft Windows Server 2022 Datacenter", "10.0.20348", "ServerDatacenter", "server", "21H2"),
    ("Microsoft Windows 11 Enterprise", "10.0.22631", "Enterprise", "workstation", "23H2"),
    ("Microsoft Windows 10 Pro", "10.0.19045", "Professional", "workstation", "22H2"),
]
_LANGUAGES = [("en-US", 1033), ("de-DE", 1031), ("en-GB", 2057), ("fr-FR", 1036), ("ja-JP", 1041)]
_CPUS = [("Intel(R) Core(TM) i7-1365U CPU @ 1.80GHz", 1800, 10, 12),
         ("Intel(R) Core(TM) i5-1345U CPU @ 1.60GHz", 1600, 10, 12),
         ("Intel(R) Core(TM) i5-13500T", 1600, 14, 20), ("Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz", 2000, 4, 8),
         ("Intel(R) Core(TM) i7-13700", 2100, 16, 24), ("AMD Ryzen 7 PRO 7840U w/ Radeon 780M Graphics", 3300, 8, 16)]
VC_REDIST = "{5AF95FD8-C1B5-4B5E-9C79-8A4B7D5C4A4E}"
CCM_CLIENT = "{8864FB91-94EE-4F16-A144-0D82A232049D}"
BUILTIN_PROGRAMS = ("cmd.exe", "hostname.exe", "whoami.exe", "reg.exe", "msiexec.exe", "shutdown.exe", "ping.exe",
                    "timeout.exe", "net.exe", "taskkill.exe", "WindowsPowerShell\\v1.0\\powershell.exe")


def default_state(name: str, index: int) -> dict:
    """A plausible, deterministic Windows machine; hosts differ by index."""
    digest = hashlib.sha256(name.lower().encode()).hexdigest().upper()
    make, model, form = _MODELS[index % len(_MODELS)]
    caption, version, edition, product_type, display_version = _OSES[index % len(_OSES)]
    language, lcid = _LANGUAGES[index % len(_LANGUAGES)]
    cpu_name, mhz, cores, logical = _CPUS[index % len(_CPUS)]
    is32 = index % 8 == 5                       # one host in eight runs 32-bit Windows
    hostname = name.upper()[:15]
    site_b = index % 2 == 1                     # two "locations", told apart by their gateway
    wired_net, wired_gw = ("203.0.113", "203.0.113.1") if site_b else ("192.0.2", "192.0.2.1")
    octet = 10 + index % 200
    tail = f"{index // 65536 % 256:02X}:{index // 256 % 256:02X}:{index % 256:02X}"
    adapters = [{"name": "Ethernet", "description": "Intel(R) Ethernet Connection (17) I219-LM", "mac": f"00:15:5D:{tail}",
                 "connected": index % 6 != 5, "wireless": False, "ip_addresses": [f"{wired_net}.{octet}"],
                 "ipv6_addresses": [], "prefix": 24, "default_gateways": [wired_gw], "dns_servers": [f"{wired_net}.53"],
                 "interface_index": 4, "speed_mbps": 1000}]
    if form == "laptop":
        wifi_up = index % 6 == 5 or index % 3 == 1
        adapters.append({"name": "Wi-Fi", "description": "Intel(R) Wi-Fi 6E AX211 160MHz", "mac": f"A4:C3:F0:{tail}",
                         "connected": wifi_up, "wireless": True,
                         "ip_addresses": [f"198.51.100.{octet}"] if wifi_up else [], "ipv6_addresses": [], "prefix": 24,
                         "default_gateways": ["198.51.100.1"] if wifi_up else [], "dns_servers": ["198.51.100.53"],
                         "interface_index": 12, "speed_mbps": 866})
    if not adapters[0]["connected"]:
        adapters[0].update(ip_addresses=[], default_gateways=[])
    # Adapters Windows has besides the physical ones (what wmi.py presents as not HardwareInterface):
    # a WAN Miniport on every machine, a Hyper-V virtual switch on one machine in four. They have
    # MAC addresses too, which is why a MAC address alone does not tell a wired adapter.
    other = [{"name": "WAN Miniport (IP)", "description": "WAN Miniport (IP)", "mac": f"{tail[:5]}:20:52:41:53",
              "connected": True, "hidden": True, "ip_addresses": [], "ipv6_addresses": [], "default_gateways": [],
              "interface_index": 7}]
    if index % 4 == 0:
        other.append({"name": "vEthernet (Default Switch)", "description": "Hyper-V Virtual Ethernet Adapter",
                      "mac": f"00:15:5D:E0:{tail[-5:]}", "connected": True, "ip_addresses": ["198.51.100.254"],
                      "ipv6_addresses": [], "default_gateways": [], "interface_index": 21, "ndis_physical_medium": 14})
    # Servers have no ConfigMgr client; one workstation in three has none either.
    client = ["5.00.9128.1000", "5.00.9106.1000", None][index % 3] if product_type == "workstation" else None
    state = {
        "format": STATE_FORMAT,
        "index": index,
        "hostname": hostname,
        "os": {"caption": caption, "version": version, "edition": edition, "product_type": product_type,
               "architecture": "32-bit" if is32 else "64-bit", "language": language, "lcid": lcid,
               "display_version": display_version, "install_date": "2026-01-15 09:00:00Z",
               "powershell_version": "5.1.22621.4391", "execution_policy": "RemoteSigned",
               "machine_sid": f"S-1-5-21-{int(digest[:8], 16)}-{int(digest[8:16], 16)}-{int(digest[16:24], 16)}"},
        "hardware": {
            "make": make, "model": model, "form": form,
            "serial_number": digest[:7], "asset_tag": f"AT-{index + 1:04d}",
            "uuid": f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}",
            "bios_version": f"1.{18 + index % 5}.0", "bios_date": f"2025-0{1 + index % 9}-15",
            "memory_mb": 4096 if is32 else [16384, 8192, 32768, 16384, 65536, 8192][index % 6],
            "cpu": {"name": cpu_name, "mhz": mhz, "cores": cores, "logical": logical, "sockets": 1,
                    "vendor": "AuthenticAMD" if "AMD" in cpu_name else "GenuineIntel"},
            "uefi": not is32 and index % 7 != 2,
            "on_ac_power": form != "laptop" or index % 5 != 4,
            "tpm": ({"present": False, "spec_version": None, "enabled": False, "activated": False} if index % 9 == 8
                    else {"present": True, "spec_version": "1.2" if index % 7 == 2 else "2.0", "enabled": True,
                          "activated": index % 11 != 10}),
        },
        "disks": [{"letter": "C", "size_mb": [243000, 476000, 121000, 130000][index % 4],
                   "free_mb": [120000, 201000, 9000, 60000, 51200][index % 5], "filesystem": "NTFS", "label": "OS"}],
        "network_adapters": adapters,     # the physical adapters
        "other_adapters": other,          # virtual, hidden and VPN adapters (see wmi.py)
        "environment": {
            "ALLUSERSPROFILE": "C:\\ProgramData", "CommonProgramFiles": "C:\\Program Files\\Common Files",
            "COMPUTERNAME": hostname, "ComSpec": "C:\\Windows\\system32\\cmd.exe",
            "NUMBER_OF_PROCESSORS": str(logical), "OS": "Windows_NT",
            "Path": "C:\\Windows\\system32;C:\\Windows;C:\\Windows\\System32\\Wbem;"
                    "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\",
            "PATHEXT": ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC",
            "PROCESSOR_ARCHITECTURE": "x86" if is32 else "AMD64", "ProgramData": "C:\\ProgramData",
            "ProgramFiles": "C:\\Program Files", "PSModulePath": "C:\\Program Files\\WindowsPowerShell\\Modules;"
                                                                 "C:\\Windows\\system32\\WindowsPowerShell\\v1.0\\Modules",
            "PUBLIC": "C:\\Users\\Public", "SystemDrive": "C:", "SystemRoot": "C:\\Windows", "windir": "C:\\Windows",
            **({} if is32 else {"ProgramFiles(x86)": "C:\\Program Files (x86)", "ProgramW6432": "C:\\Program Files"}),
        },
        "files": {},
        "registry": {},
        "products": {},
        "updates": {
            "available": [
                {"id": f"{digest[:8].lower()}-0000-4000-8000-000000000001",
                 "title": "2026-11 Cumulative Update for Windows (KB5070001)", "kb": ["5070001"],
                 "categories": ["Security Updates"], "mandatory": True, "reboot_required": True},
                {"id": f"{digest[:8].lower()}-0000-4000-8000-000000000002",
                 "title": "Security Intelligence Update for Microsoft Defender Antivirus (KB2267602)",
                 "kb": ["2267602"], "categories": ["Definition Updates"], "mandatory": False,
                 "reboot_required": False},
            ],
            "installed": [{"id": f"{digest[:8].lower()}-0000-4000-8000-000000000000",
                           "title": "2026-10 Cumulative Update for Windows (KB5066001)", "kb": ["5066001"],
                           "categories": ["Security Updates"], "mandatory": True, "reboot_required": True}],
        },
        "mapped_drives": {},          # user -> letter -> remembered mapping (HKCU\Network)
        "shares": {},                 # \\server\share -> {"username", "password"} (who may connect)
        "web": {},                    # url -> {"content" | "content_b64", "status", "msi", "program"}
        "accounts": {"Administrator": {"password": TEST_PASSWORD, "admin": True, "rid": 500},
                     "deploy": {"password": DEPLOY_PASSWORD, "admin": False, "rid": 1001}},
        "configmgr_client_version": client,
        "boot": {"boot_time": round(time.time() - 3600 - 60 * index, 3), "boot_id": 1, "pending_reboot": False,
                 "shutdown_at": None, "shutdown_message": None},
    }
    _default_tree(state, is32)
    _default_registry(state, is32)
    state["products"][VC_REDIST] = {"name": "Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.40.33810",
                                    "version": "14.40.33810.0", "publisher": "Microsoft Corporation", "msi": True}
    if client:
        state["products"][CCM_CLIENT] = {"name": "Configuration Manager Client", "version": client,
                                         "publisher": "Microsoft Corporation", "msi": True}
    for code, info in state["products"].items():
        state["registry"][reg_norm(f"{UNINSTALL_KEY}\\{code}")] = _uninstall_entry(code, info)
    return state


def _default_tree(state: dict, is32: bool) -> None:
    files = state["files"]
    when = 1767225600.0   # 2026-01-01: files of the image

    def d(path):
        files[norm(path)] = {"path": path, "type": "directory", "mtime": when, "ctime": when}

    for path in ["C:\\", "C:\\Windows", "C:\\Windows\\System32", "C:\\Windows\\System32\\WindowsPowerShell",
                 "C:\\Windows\\System32\\WindowsPowerShell\\v1.0", "C:\\Windows\\System32\\Wbem",
                 "C:\\Windows\\System32\\drivers", "C:\\Windows\\System32\\drivers\\etc",
                 "C:\\Windows\\Temp", "C:\\Program Files", "C:\\Program Files\\Common Files",
                 "C:\\ProgramData", "C:\\Users", "C:\\Users\\Public", "C:\\Temp"]:
        d(path)
    if state.get("configmgr_client_version"):
        d("C:\\Windows\\ccmcache")
    folders = ["System32"]
    if not is32:
        folders.append("SysWOW64")
        for path in ["C:\\Program Files (x86)", "C:\\Windows\\SysWOW64", "C:\\Windows\\SysWOW64\\WindowsPowerShell",
                     "C:\\Windows\\SysWOW64\\WindowsPowerShell\\v1.0"]:
            d(path)
    for user in state["accounts"]:
        for sub in ("", "\\AppData", "\\AppData\\Local", "\\AppData\\Local\\Temp", "\\AppData\\Roaming", "\\Desktop",
                    "\\Documents"):
            d(f"C:\\Users\\{user}{sub}")
    for folder in folders:
        for exe in BUILTIN_PROGRAMS:
            path = f"C:\\Windows\\{folder}\\{exe}"
            files[norm(path)] = {"path": path, "type": "file", "size": 289792, "mtime": when, "ctime": when,
                                 "content_b64": "", "program": {"builtin": exe.rsplit("\\", 1)[-1].lower()}}
    hosts = b"# Copyright (c) 1993-2009 Microsoft Corp.\r\n#\r\n# localhost name resolution is handled within DNS itself.\r\n"
    path = "C:\\Windows\\System32\\drivers\\etc\\hosts"
    files[norm(path)] = {"path": path, "type": "file", "size": len(hosts), "mtime": when, "ctime": when,
                         "content_b64": base64.b64encode(hosts).decode()}


def _default_registry(state: dict, is32: bool) -> None:
    reg = state["registry"]
    os_, hw = state["os"], state["hardware"]

    def key(path, **values):
        reg[reg_norm(path)] = {"path": path, "values": values}

    installed = datetime.datetime.strptime(os_["install_date"], "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=datetime.UTC)
    build = os_["version"].split(".")[-1]
    key("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
        # Windows 11 still says "Windows 10" here.
        ProductName={"type": "REG_SZ", "data": os_["caption"].replace("Microsoft ", "").replace("Windows 11", "Windows 10")},
        EditionID={"type": "REG_SZ", "data": os_["edition"]},
        CurrentBuild={"type": "REG_SZ", "data": build}, CurrentBuildNumber={"type": "REG_SZ", "data": build},
        DisplayVersion={"type": "REG_SZ", "data": os_["display_version"]},
        InstallationType={"type": "REG_SZ", "data": "Client" if os_["product_type"] == "workstation" else "Server"},
        InstallTime={"type": "REG_QWORD", "data": filetime(installed.timestamp())},
        RegisteredOwner={"type": "REG_SZ", "data": "IT Department"})
    key("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon",
        Shell={"type": "REG_SZ", "data": "explorer.exe"})
    key("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\AutoLogonChecked")
    key("HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control",
        PEFirmwareType={"type": "REG_DWORD", "data": 2 if hw["uefi"] else 1})
    key("HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Session Manager")
    key("HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\LanmanServer\\Parameters",
        srvcomment={"type": "REG_SZ", "data": ""})
    key("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall")
    key("HKEY_LOCAL_MACHINE\\HARDWARE\\DESCRIPTION\\System\\CentralProcessor")
    for cpu in range(hw["cpu"]["logical"]):
        key(f"HKEY_LOCAL_MACHINE\\HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\{cpu}",
            ProcessorNameString={"type": "REG_SZ", "data": hw["cpu"]["name"]},
            VendorIdentifier={"type": "REG_SZ", "data": hw["cpu"]["vendor"]},
            **{"~MHz": {"type": "REG_DWORD", "data": hw["cpu"]["mhz"]}})
    if state.get("configmgr_client_version"):
        key("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SMS\\Mobile Client",
            ProductVersion={"type": "REG_SZ", "data": state["configmgr_client_version"]})
    if not is32:
        key("HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node")


def _uninstall_entry(code: str, info: dict) -> dict:
    values = {"DisplayName": {"type": "REG_SZ", "data": info.get("name", code)},
              "DisplayVersion": {"type": "REG_SZ", "data": info.get("version", "1.0.0")},
              "Publisher": {"type": "REG_SZ", "data": info.get("publisher", "")}}
    if info.get("msi", code.startswith("{")):
        values["WindowsInstaller"] = {"type": "REG_DWORD", "data": 1}
        values["UninstallString"] = {"type": "REG_EXPAND_SZ", "data": f"MsiExec.exe /X{code}"}
    elif info.get("uninstall_string"):
        values["UninstallString"] = {"type": "REG_SZ", "data": info["uninstall_string"]}
    if info.get("quiet_uninstall_string"):
        values["QuietUninstallString"] = {"type": "REG_SZ", "data": info["quiet_uninstall_string"]}
    return {"path": f"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{code}",
            "values": values}


# The machine --------------------------------------------------------------------------

class Session:
    """One logon session: a WinRM command, or a become. Drive connections live and die with it.

    guess: Windows ties the logon to the WinRM shell; every client here (Ansible, run_cmd) uses
    one shell per command or task, so one session per command behaves the same for them.
    """

    _ids = itertools.count(1)

    def __init__(self, user: str, boot_id: int):
        self.id, self.user, self.boot_id = next(self._ids), user, boot_id
        self.connections: dict[str, str] = {}   # "X:" -> \\server\share, and \\server\share -> itself


class Machine:
    """One simulated Windows host (the seam the protocol layer calls, see CONTRACT.md)."""

    def __init__(self, name: str, state_dir, *, index: int | None = None, reboot_seconds: float = 3.0,
                 seed: dict | None = None) -> None:
        self.name = name
        self.lock = threading.RLock()
        self.reboot_seconds = reboot_seconds
        self.index = _index_from_name(name) if index is None else index
        self.dir = os.path.join(str(state_dir), name)
        self.path = os.path.join(self.dir, "state.json")
        self._running: set[threading.Event] = set()   # cancel events of the commands running now
        self.tasks: dict[str, object] = {}             # work that outlives one command (win_updates)
        os.makedirs(self.dir, exist_ok=True)
        if os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as f:
                self.state = json.load(f)
        else:
            self.state = default_state(name, self.index)
        self.counters = self._new_counters()
        if seed:
            self.apply_seed(seed)
        self.counters["boots"] = 1   # the boot this process found the machine in
        self.save()
        self._arm_shutdown_timer()

    # seed and persistence ----------------------------------------------------------

    def apply_seed(self, seed: dict) -> None:
        """Deep-merge a test's seed; files, registry and products may use Windows spellings."""
        seed = copy.deepcopy(seed)
        files = seed.pop("files", None) or {}
        registry = seed.pop("registry", None) or {}
        products = seed.pop("products", None) or {}
        with self.lock:
            _deep_merge(self.state, seed)
            for path, rec in files.items():
                rec = dict(rec or {})
                if rec.get("absent"):
                    self.state["files"].pop(norm(path), None)
                    continue
                real = rec.pop("path", None) or path
                rec.setdefault("type", "directory" if rec.pop("directory", False) else "file")
                if "content" in rec:
                    data = rec.pop("content")
                    data = data.encode() if isinstance(data, str) else bytes(data)
                    rec["content_b64"] = base64.b64encode(data).decode()
                if rec["type"] == "file":
                    rec.setdefault("content_b64", "")
                    rec.setdefault("size", len(base64.b64decode(rec["content_b64"])))
                self._ensure_parents(real)
                old = self.state["files"].get(norm(real), {})
                self.state["files"][norm(real)] = {**old, **rec, "path": real}
            for key, values in registry.items():
                if values is None:
                    self.reg_delete_key(key)
                    continue
                rec = self.reg_create_key(key, save=False)
                for value_name, value in values.items():
                    if not isinstance(value, dict):
                        value = {"type": "REG_DWORD" if isinstance(value, int) else "REG_SZ", "data": value}
                    rec["values"][value_name] = value
            for code, product in products.items():
                if product is None:
                    self.remove_product(code)
                else:
                    self.install_product(code, product)

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

    # counters ------------------------------------------------------------------------

    @staticmethod
    def _new_counters() -> dict:
        return {"executions": 0, "modules": {}, "raw": 0, "programs": 0, "boots": 0}

    def count(self, kind: str, name: str | None = None) -> None:
        with self.lock:
            if name is None:
                self.counters[kind] += 1
            else:
                self.counters[kind][name] = self.counters[kind].get(name, 0) + 1

    def counters_snapshot(self) -> dict:
        with self.lock:
            return copy.deepcopy(self.counters)

    def reset_counters(self) -> None:
        with self.lock:
            self.counters = self._new_counters()

    # accounts ------------------------------------------------------------------------

    def accounts(self) -> dict[str, str]:
        with self.lock:
            return {user: rec["password"] for user, rec in self.state["accounts"].items()}

    def find_account(self, user: str | None) -> str | None:
        """The account's stored name for ``user`` (``HOST\\user``, ``.\\user``, ``user@host`` accepted)."""
        if not user:
            return None
        domain, _sep, short = user.rpartition("\\")
        short = short.split("@")[0].lower()
        if domain and domain.lower() not in (".", self.state["hostname"].lower(), self.name.lower()):
            return None   # a domain account: the simulated hosts are in a workgroup
        for name in self.state["accounts"]:
            if name.lower() == short:
                return name
        return None

    def account_sid(self, user: str) -> str:
        if user.upper() in SYSTEM_USERS:
            return "S-1-5-18"
        rec = self.state["accounts"].get(self.find_account(user) or "", {})
        return f"{self.state['os']['machine_sid']}-{rec.get('rid', 1000)}"

    def is_admin(self, user: str) -> bool:
        if user.upper() in SYSTEM_USERS:
            return True
        return bool(self.state["accounts"].get(self.find_account(user) or "", {}).get("admin"))

    def user_env(self, user: str) -> dict:
        """What Windows adds to a logon session's environment."""
        account = self.find_account(user) or user
        if account.upper() in SYSTEM_USERS:
            profile, account = "C:\\Windows\\system32\\config\\systemprofile", f"{self.state['hostname']}$"
            temp = "C:\\Windows\\TEMP"
        else:
            profile = f"C:\\Users\\{account}"
            temp = f"{profile}\\AppData\\Local\\Temp"
        return {"USERNAME": account, "USERDOMAIN": self.state["hostname"], "USERPROFILE": profile,
                "HOMEDRIVE": "C:", "HOMEPATH": profile[2:], "APPDATA": f"{profile}\\AppData\\Roaming",
                "LOCALAPPDATA": f"{profile}\\AppData\\Local", "TEMP": temp, "TMP": temp}

    # restarts ------------------------------------------------------------------------

    def _tick(self) -> None:
        """Advance the restart life cycle to now."""
        boot = self.state["boot"]
        at = boot.get("shutdown_at")
        if at is not None and time.time() >= at + self.reboot_seconds:
            boot["boot_time"] = round(at + self.reboot_seconds, 3)
            boot["boot_id"] += 1
            boot["pending_reboot"] = False
            boot["shutdown_at"] = None
            boot["shutdown_message"] = None
            reg = self.state["registry"]
            reg.pop(CBS_REBOOT_KEY, None)
            reg.get("hklm\\system\\currentcontrolset\\control\\session manager", {}).get("values", {}).pop(
                "PendingFileRenameOperations", None)
            # LogonUI recreates this volatile key when the logon screen is up (win_reboot waits for it).
            reg[LOGON_UI_KEY] = {"path": "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\"
                                         "Winlogon\\AutoLogonChecked", "values": {}}
            # Updates that roll back during the restart are offered again (what makes update loops).
            updates = self.state["updates"]
            back = [u for u in updates.get("installed", []) if u.get("rolls_back")]
            if back:
                updates["installed"] = [u for u in updates["installed"] if not u.get("rolls_back")]
                updates["available"].extend(back)
            self.tasks.clear()
            self.counters["boots"] += 1
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

    def boot_time_text(self) -> str:
        """LastBootUpTime.ToString('u') (guess: the simulated hosts' clocks are on UTC)."""
        return datetime.datetime.fromtimestamp(self.boot_time(), datetime.UTC).strftime("%Y-%m-%d %H:%M:%SZ")

    def pending_reboot(self) -> bool:
        with self.lock:
            self._tick()
            return bool(self.state["boot"]["pending_reboot"]) or CBS_REBOOT_KEY in self.state["registry"]

    def request_reboot(self) -> None:
        """An installer asked for a restart (3010): Windows records a pending restart."""
        with self.lock:
            self.state["boot"]["pending_reboot"] = True
            self.save()

    def schedule_restart(self, delay: float, message: str | None = None) -> bool:
        """shutdown /r /t N. False when a shutdown is already scheduled (Windows' 1190)."""
        with self.lock:
            self._tick()
            if self.state["boot"].get("shutdown_at") is not None:
                return False
            self.state["boot"]["shutdown_at"] = round(time.time() + max(delay, 0), 3)
            self.state["boot"]["shutdown_message"] = message
            self.save()
        self._arm_shutdown_timer()
        return True

    def abort_restart(self) -> bool:
        """shutdown /a. False when none is scheduled (Windows' 1116)."""
        with self.lock:
            self._tick()
            at = self.state["boot"].get("shutdown_at")
            if at is None or time.time() >= at:
                return False
            self.state["boot"]["shutdown_at"] = None
            self.state["boot"]["shutdown_message"] = None
            self.save()
            return True

    def crash(self) -> None:
        """An unexpected restart now (fault injection)."""
        with self.lock:
            self._tick()
            at = self.state["boot"].get("shutdown_at")
            if at is None or at > time.time():
                self.state["boot"]["shutdown_at"] = round(time.time(), 3)
            self.save()
            self._on_shutdown()

    def _arm_shutdown_timer(self) -> None:
        at = self.state["boot"].get("shutdown_at")
        if at is not None:
            timer = threading.Timer(max(at - time.time(), 0) + 0.01, self._on_shutdown)
            timer.daemon = True
            timer.start()

    def _on_shutdown(self) -> None:
        """The shutdown moment: every running process ends."""
        with self.lock:
            if self.is_up():
                return   # the shutdown was aborted
            running, self._running = list(self._running), set()
        for cancel in running:
            cancel.set()

    # running what arrives --------------------------------------------------------------

    def execute(self, command_line: str, stdin, *, user: str, cancel: threading.Event) -> ExecResult:
        from tests.winsim import payload

        self.count("executions")
        with self.lock:
            if not self.is_up():
                return ExecResult(b"", b"A system shutdown is in progress.(1115)\r\n", 1115)
            self._running.add(cancel)
            session = Session(self.find_account(user) or user, self.state["boot"]["boot_id"])
        try:
            return payload.run(self, command_line, stdin, user=session.user, cancel=cancel, session=session)
        finally:
            with self.lock:
                self._running.discard(cancel)
                if not self.is_up() or self.state["boot"]["boot_id"] != session.boot_id:
                    cancel.set()   # the shutdown ended this process

    def sleep(self, seconds: float, cancel: threading.Event) -> bool:
        """Sleep for a simulated process; False if cancelled or the machine went down."""
        end = time.time() + seconds
        while time.time() < end:
            if cancel.is_set() or not self.is_up():
                return False
            time.sleep(min(0.05, max(end - time.time(), 0)))
        return not cancel.is_set()

    # the file system -------------------------------------------------------------------

    def fs_get(self, path: str) -> dict | None:
        return self.state["files"].get(norm(path))

    def fs_exists(self, path: str) -> bool:
        return norm(path) in self.state["files"]

    def fs_isdir(self, path: str) -> bool:
        rec = self.fs_get(path)
        return bool(rec) and rec["type"] == "directory"

    def fs_isfile(self, path: str) -> bool:
        rec = self.fs_get(path)
        return bool(rec) and rec["type"] == "file"

    def fs_read(self, path: str) -> bytes:
        rec = self.fs_get(path)
        if rec is None:
            raise FsError(f"Could not find file '{path}'.")
        if rec["type"] != "file":
            raise FsError(f"Access to the path '{path}' is denied.")
        return base64.b64decode(rec.get("content_b64", ""))

    def _drive_ok(self, path: str) -> None:
        n = norm(path)
        if n.startswith("\\\\"):
            if self.share_of(path) is None:
                raise FsError("The network path was not found.")
            return
        letters = {d["letter"].lower() for d in self.state.get("disks", [])}
        if not re.match(r"^[a-z]:", n) or n[0] not in letters:
            raise FsError(f"Could not find a part of the path '{path}'.")

    def _ensure_parents(self, path: str) -> None:
        parent = ntpath.dirname(path.rstrip("\\"))
        chain = []
        while parent and norm(parent) not in self.state["files"] and parent != ntpath.dirname(parent):
            chain.append(parent)
            parent = ntpath.dirname(parent)
        now = time.time()
        for p in reversed(chain):
            self.state["files"][norm(p)] = {"path": p, "type": "directory", "mtime": now, "ctime": now}

    def fs_write(self, path: str, data: bytes, *, append: bool = False, extra: dict | None = None) -> None:
        """Write a file; its folder must exist (Windows' message when it does not)."""
        with self.lock:
            self._drive_ok(path)
            parent = ntpath.dirname(path.rstrip("\\"))
            if not self.fs_isdir(parent) and not (parent.startswith("\\\\") and self.share_of(parent)):
                raise FsError(f"Could not find a part of the path '{path}'.")
            old = self.fs_get(path)
            if old is not None and old["type"] == "directory":
                raise FsError(f"Access to the path '{path}' is denied.")
            if append and old is not None:
                data = base64.b64decode(old.get("content_b64", "")) + data
            now = time.time()
            rec = {"path": old["path"] if old else path, "type": "file", "size": len(data),
                   "content_b64": base64.b64encode(data).decode(), "mtime": now, "ctime": (old or {}).get("ctime", now)}
            if extra:
                rec.update(extra)
            self.state["files"][norm(path)] = rec
            self.save()

    def fs_mkdir(self, path: str, *, parents: bool = True) -> bool:
        """Create a folder (and its parents); False if it existed."""
        with self.lock:
            self._drive_ok(path)
            rec = self.fs_get(path)
            if rec is not None:
                if rec["type"] != "directory":
                    raise FsError(f"An item with the specified name {path} already exists.")
                return False
            if not parents and not self.fs_isdir(ntpath.dirname(path.rstrip("\\"))):
                raise FsError(f"Could not find a part of the path '{path}'.")
            self._ensure_parents(path)
            shown = path.rstrip("\\") if len(path.rstrip("\\")) > 2 else path
            self.state["files"][norm(path)] = {"path": shown, "type": "directory", "mtime": time.time(),
                                               "ctime": time.time()}
            self.save()
            return True

    def fs_children(self, path: str) -> list[dict]:
        prefix = norm(path).rstrip("\\") + "\\"
        with self.lock:
            return [rec for key, rec in self.state["files"].items()
                    if key.startswith(prefix) and "\\" not in key[len(prefix):]]

    def fs_remove(self, path: str, *, recursive: bool = True) -> bool:
        with self.lock:
            target = norm(path)
            keys = [k for k in self.state["files"] if k == target or k.startswith(target.rstrip("\\") + "\\")]
            if not keys:
                return False
            if len(keys) > 1 and not recursive:
                raise FsError(f"The directory is not empty. : '{path}'")
            for key in keys:
                self.state["files"].pop(key)
            self.save()
            return True

    def fs_size(self, path: str) -> int:
        rec = self.fs_get(path)
        if rec is None:
            return 0
        if rec["type"] == "file":
            return int(rec.get("size", 0))
        prefix = norm(path).rstrip("\\") + "\\"
        with self.lock:
            return sum(int(r.get("size", 0)) for k, r in self.state["files"].items()
                       if k.startswith(prefix) and r["type"] == "file")

    # the registry ----------------------------------------------------------------------

    def reg_key(self, key: str) -> dict | None:
        return self.state["registry"].get(reg_norm(key))

    def reg_value(self, key: str, name: str):
        rec = self.reg_key(key)
        if rec is None:
            return None
        for value_name, value in rec["values"].items():
            if value_name.lower() == name.lower():
                return value
        return None

    def reg_create_key(self, key: str, save: bool = True) -> dict:
        with self.lock:
            parts = reg_norm(key).split("\\")
            shown = reg_display(str(key).replace("/", "\\").rstrip("\\").replace(":", "", 1)
                                if re.match(r"(?i)^hk[a-z]*:", str(key)) else str(key).rstrip("\\")).split("\\")
            for i in range(2, len(parts) + 1):
                sub = "\\".join(parts[:i])
                if sub not in self.state["registry"]:
                    path = "\\".join(shown[:i]) if len(shown) == len(parts) else sub
                    self.state["registry"][sub] = {"path": path, "values": {}}
            if save:
                self.save()
            return self.state["registry"]["\\".join(parts)]

    def reg_set(self, key: str, name: str, kind: str, data) -> None:
        with self.lock:
            rec = self.reg_create_key(key, save=False)
            for existing in [v for v in rec["values"] if v.lower() == name.lower()]:
                del rec["values"][existing]
            rec["values"][name] = {"type": kind, "data": data}
            self.save()

    def reg_delete_value(self, key: str, name: str) -> bool:
        with self.lock:
            rec = self.reg_key(key)
            hits = [v for v in (rec or {}).get("values", {}) if v.lower() == name.lower()]
            for existing in hits:
                del rec["values"][existing]
            if hits:
                self.save()
            return bool(hits)

    def reg_delete_key(self, key: str) -> bool:
        with self.lock:
            nkey = reg_norm(key)
            keys = [k for k in self.state["registry"] if k == nkey or k.startswith(nkey + "\\")]
            for k in keys:
                self.state["registry"].pop(k)
                if k.startswith(UNINSTALL_KEY + "\\") and k.count("\\") == UNINSTALL_KEY.count("\\") + 1:
                    # Removing the Uninstall entry is how a product leaves the machine's list.
                    code = self.find_product(k[len(UNINSTALL_KEY) + 1:])
                    if code:
                        self.state["products"].pop(code)
            if keys:
                self.save()
            return bool(keys)

    def reg_subkeys(self, key: str) -> list[str]:
        prefix = reg_norm(key) + "\\"
        with self.lock:
            return sorted({rec["path"].replace("/", "\\").split("\\")[-1] for k, rec in self.state["registry"].items()
                           if k.startswith(prefix) and "\\" not in k[len(prefix):]}, key=str.lower)

    # installed software ---------------------------------------------------------------------

    def find_product(self, code: str) -> str | None:
        for existing in self.state["products"]:
            if existing.lower() == str(code).lower():
                return existing
        return None

    def install_product(self, code: str, info: dict) -> None:
        """Record a product as installed: the product list and its Uninstall registry entry."""
        with self.lock:
            existing = self.find_product(code)
            if existing:
                self.state["products"].pop(existing)
            code = code.upper() if code.startswith("{") else code
            info = {k: v for k, v in info.items() if k != "product_code"}
            self.state["products"][code] = info
            self.state["registry"][reg_norm(f"{UNINSTALL_KEY}\\{code}")] = _uninstall_entry(code, info)
            self.save()

    def remove_product(self, code: str) -> bool:
        with self.lock:
            existing = self.find_product(code)
            if existing is None:
                return False
            self.state["products"].pop(existing)
            self.state["registry"].pop(reg_norm(f"{UNINSTALL_KEY}\\{existing}"), None)
            self.save()
            return True

    # shares -------------------------------------------------------------------------------------

    def share_of(self, path: str) -> str | None:
        """The configured share (\\\\server\\share) a UNC path is under."""
        n = norm(path)
        for share in self.state.get("shares", {}):
            s = norm(share)
            if n == s or n.startswith(s + "\\"):
                return share
        return None

    def check_share_credentials(self, share: str, username: str | None, password: str | None) -> str | None:
        """None if the share accepts these credentials, else Windows' message."""
        rec = self.state["shares"][share]
        if rec.get("username") is None:
            return None
        if username is None:
            # guess: the WinRM logon cannot pass its credentials on to the file server (double hop)
            return "Access is denied."
        short = username.rsplit("\\", 1)[-1].lower()
        if short != str(rec["username"]).rsplit("\\", 1)[-1].lower() or password != rec.get("password"):
            return "The user name or password is incorrect."
        return None
