r"""How Windows' CIM (WMI) classes present the simulated machine's state, for Get-CimInstance.

``query(machine, namespace, class_name, properties, where, user=...)`` returns the instances as
``[(class_name, {property: value})]`` with Python values (``datetime`` for CIM datetimes, lists
for arrays, ``None`` for NULL); the PowerShell interpreter (``pwsh.py``) wraps them. Errors are
what WMI answers (``WmiError``: ``Invalid namespace``, ``Invalid class``, ``Invalid query``,
``Access denied``), never a silently empty answer. Only the classes below are emulated; any
other class in a known namespace is "Invalid class" (guess: the simulated host cannot tell a
class Windows has but it does not emulate from one Windows does not have).

Test fixture: never shipped. Where a detail of Windows is guessed the code says ``guess:``.
"""

from __future__ import annotations

import datetime
import re


class WmiError(Exception):
    """A CimException: WMI's message (it ends with a space, as WMI's own texts do) and HRESULT."""

    def __init__(self, message: str, hresult: int, category: str):
        super().__init__(message)
        self.message, self.hresult, self.category = message, hresult, category


INVALID_NAMESPACE = ("Invalid namespace ", 0x8004100E, "MetadataError")
INVALID_CLASS = ("Invalid class ", 0x80041010, "MetadataError")
INVALID_QUERY = ("Invalid query ", 0x80041017, "InvalidArgument")
ACCESS_DENIED = ("Access denied ", 0x80041003, "PermissionDenied")
NOT_SUPPORTED = ("Not supported ", 0x8004100C, "NotImplemented")

# guess: OSArchitecture is localised text (its value is read from a string resource)
_ARCH_TEXT = {"de-DE": "{bits}-Bit", "fr-FR": "{bits} bits", "ja-JP": "{bits} ビット"}
_PRODUCT_TYPES = {"workstation": 1, "domain_controller": 2, "server": 3}
# SMBIOS chassis types (DMTF DSP0134): 3 Desktop, 10 Notebook, 1 Other (a virtual machine).
_CHASSIS = {"desktop": [3], "laptop": [10], "vm": [1]}
NDIS_802_3 = 14
NDIS_NATIVE_802_11 = 9
NDIS_UNSPECIFIED = 0


def _namespaces(machine) -> dict:
    """namespace (lower case) -> {class name (lower case): builder}."""
    spaces = {
        "root\\cimv2": {
            "win32_operatingsystem": _os, "win32_computersystem": _computer, "win32_bios": _bios,
            "win32_computersystemproduct": _product, "win32_systemenclosure": _enclosure,
            "win32_processor": _processors, "win32_logicaldisk": _disks,
            "win32_networkadapterconfiguration": _adapter_configs, "cim_datafile": _data_files,
            "win32_installedwin32program": _installed_programs,
        },
        "root\\standardcimv2": {"msft_netadapter": _net_adapters},
        "root\\wmi": {"batterystatus": _battery},
        "root\\cimv2\\security\\microsofttpm": {"win32_tpm": _tpm},
        "root": {}, "root\\default": {}, "root\\microsoft\\windows\\defender": {},
    }
    if machine.state.get("configmgr_client_version"):
        # The ConfigMgr client creates root\ccm when it installs.
        spaces["root\\ccm"] = {"sms_client": _sms_client}
    return spaces


def query(machine, namespace: str, class_name: str, properties: list[str] | None = None,
          where: str | None = None, *, user: str = "Administrator") -> list[tuple[str, dict]]:
    ns = namespace.replace("/", "\\").strip("\\").lower()
    classes = _namespaces(machine).get(ns)
    if classes is None:
        raise WmiError(*INVALID_NAMESPACE)
    builder = classes.get(class_name.lower())
    if builder is None:
        raise WmiError(*INVALID_CLASS)
    with machine.lock:
        name, rows, schema = builder(machine, user)
    names = {p.lower(): p for p in schema}
    if properties is not None:
        # guess: a system property (__PATH, __CLASS) named in -Property is refused like any unknown
        # one; whether Windows' CIM cmdlets accept it there is not known here (the engine never sends one).
        unknown = [p for p in properties if p.lower() not in names]
        if unknown:
            raise WmiError(*INVALID_QUERY)
    condition = _parse_where(where, names) if where else None
    out = []
    for row in rows:
        if condition is not None and not condition(row):
            continue
        if properties is not None:
            # A partial instance: the properties not asked for are NULL.
            wanted = {names[p.lower()] for p in properties}
            row = {k: (v if k in wanted else None) for k, v in row.items()}
        out.append((name, row))
    return out


# the classes ---------------------------------------------------------------------------------------

def _boot_time(machine) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(machine.boot_time(), datetime.UTC).replace(microsecond=500000)


def _os(machine, user):
    st = machine.state
    os_, hw = st["os"], st["hardware"]
    bits = 32 if os_["architecture"].startswith("32") else 64
    arch = _ARCH_TEXT.get(os_.get("language"), "{bits}-bit").format(bits=bits)
    installed = datetime.datetime.strptime(os_["install_date"], "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=datetime.UTC)
    system_drive = st["environment"].get("SystemDrive", "C:")
    windir = st["environment"].get("SystemRoot", "C:\\Windows")
    row = {
        "Caption": os_["caption"], "Version": os_["version"], "BuildNumber": os_["version"].split(".")[-1],
        "OSArchitecture": arch, "OSLanguage": int(os_["lcid"]), "Locale": f"{int(os_['lcid']):04x}",
        "ProductType": _PRODUCT_TYPES.get(os_["product_type"], 3), "LastBootUpTime": _boot_time(machine),
        "InstallDate": installed, "TotalVisibleMemorySize": int(hw["memory_mb"]) * 1024,
        # guess: about half the memory is free
        "FreePhysicalMemory": int(hw["memory_mb"]) * 512, "SystemDrive": system_drive,
        "WindowsDirectory": windir, "SystemDirectory": windir + "\\system32", "CSName": st["hostname"],
        "Manufacturer": "Microsoft Corporation", "OperatingSystemSKU": 4 if os_.get("edition") == "Enterprise"
        else 48, "Name": f"{os_['caption']}|{windir}|\\Device\\Harddisk0\\Partition3",
    }
    return "Win32_OperatingSystem", [row], row.keys()


def _computer(machine, user):
    st = machine.state
    hw, os_ = st["hardware"], st["os"]
    domain = st.get("domain")
    server = os_["product_type"] != "workstation"
    role = (5 if os_["product_type"] == "domain_controller" else (3 if server else 1)) if domain else \
        (2 if server else 0)
    row = {
        "Name": st["hostname"], "Manufacturer": hw["make"], "Model": hw["model"],
        # guess: the firmware reserves nothing; the whole memory is visible
        "TotalPhysicalMemory": int(hw["memory_mb"]) * 1024 * 1024,
        "Domain": domain or "WORKGROUP", "PartOfDomain": bool(domain), "Workgroup": None if domain else "WORKGROUP",
        "DomainRole": role, "NumberOfProcessors": int(hw["cpu"].get("sockets", 1)),
        "NumberOfLogicalProcessors": int(hw["cpu"]["logical"]),
        "SystemType": "X86-based PC" if os_["architecture"].startswith("32") else "x64-based PC",
        "PCSystemType": 2 if hw.get("form") == "laptop" else 1, "HypervisorPresent": hw.get("form") == "vm",
    }
    return "Win32_ComputerSystem", [row], row.keys()


def _bios(machine, user):
    hw = machine.state["hardware"]
    released = datetime.datetime.strptime(hw["bios_date"], "%Y-%m-%d").replace(tzinfo=datetime.UTC)
    row = {"SerialNumber": hw["serial_number"], "SMBIOSBIOSVersion": hw["bios_version"], "Manufacturer": hw["make"],
           "ReleaseDate": released, "Version": f"{hw['make'][:6].upper()} - 1072009"}
    return "Win32_BIOS", [row], row.keys()


def _product(machine, user):
    hw = machine.state["hardware"]
    row = {"UUID": hw["uuid"], "Name": hw["model"], "Vendor": hw["make"], "IdentifyingNumber": hw["serial_number"]}
    return "Win32_ComputerSystemProduct", [row], row.keys()


def _enclosure(machine, user):
    hw = machine.state["hardware"]
    row = {"SMBIOSAssetTag": hw["asset_tag"], "ChassisTypes": list(_CHASSIS.get(hw.get("form"), [3])),
           "SerialNumber": hw["serial_number"], "Manufacturer": hw["make"]}
    return "Win32_SystemEnclosure", [row], row.keys()


def _processors(machine, user):
    st = machine.state
    cpu = st["hardware"]["cpu"]
    bits = 32 if st["os"]["architecture"].startswith("32") else 64
    rows = [{"DeviceID": f"CPU{i}", "Name": cpu["name"], "MaxClockSpeed": int(cpu["mhz"]),
             "CurrentClockSpeed": int(cpu["mhz"]), "AddressWidth": bits, "DataWidth": 64,
             "Architecture": 9 if "AMD64" in st["environment"].get("PROCESSOR_ARCHITECTURE", "AMD64") else 0,
             "NumberOfCores": int(cpu["cores"]), "NumberOfLogicalProcessors": int(cpu["logical"]),
             "Manufacturer": cpu.get("vendor", "GenuineIntel")}
            for i in range(int(cpu.get("sockets", 1)))]
    return "Win32_Processor", rows, rows[0].keys()


def _disks(machine, user):
    rows = [{"DeviceID": f"{d['letter'].upper()}:", "DriveType": int(d.get("drive_type", 3)),
             "FreeSpace": int(d["free_mb"]) * 1024 * 1024, "Size": int(d["size_mb"]) * 1024 * 1024,
             "FileSystem": d.get("filesystem", "NTFS"), "VolumeName": d.get("label", "")}
            for d in machine.state["disks"]]
    return "Win32_LogicalDisk", rows, ["DeviceID", "DriveType", "FreeSpace", "Size", "FileSystem", "VolumeName"]


def adapters(machine) -> list[dict]:
    """Every network adapter Windows has: the physical ones (``network_adapters``) and the
    virtual, hidden and VPN ones (``other_adapters``), with the fields the classes need."""
    out = []
    for a in machine.state.get("network_adapters", []):
        out.append({"virtual": False, "hardware": True, "medium": NDIS_NATIVE_802_11 if a.get("wireless") else
                    NDIS_802_3, **a})
    for a in machine.state.get("other_adapters", []):
        out.append({"virtual": True, "hardware": False, "medium": NDIS_UNSPECIFIED, "wireless": False, **a})
    return out


def _mac(text: str | None, sep: str) -> str | None:
    return None if not text else re.sub(r"[-:]", sep, text).upper()


def _adapter_configs(machine, user):
    rows = []
    for index, a in enumerate(adapters(machine)):
        ips = list(a.get("ip_addresses") or []) + list(a.get("ipv6_addresses") or [])
        # guess: an adapter without an address (no link, no DHCP answer) reports IPEnabled false
        enabled = bool(ips)
        rows.append({
            "Index": int(a.get("config_index", index + 1)), "InterfaceIndex": int(a.get("interface_index", index + 20)),
            "Description": a.get("description", a["name"]), "MACAddress": _mac(a.get("mac"), ":"),
            "IPEnabled": enabled, "IPAddress": ips or None,
            "IPSubnet": ["255.255.255.0"] * len(a.get("ip_addresses") or []) or None,
            "DefaultIPGateway": list(a.get("default_gateways") or []) or None,
            "DNSServerSearchOrder": list(a.get("dns_servers") or []) or None if enabled else None,
            "DHCPEnabled": bool(a.get("dhcp", True)),
        })
    return "Win32_NetworkAdapterConfiguration", rows, ["Index", "InterfaceIndex", "Description", "MACAddress",
                                                       "IPEnabled", "IPAddress", "IPSubnet", "DefaultIPGateway",
                                                       "DNSServerSearchOrder", "DHCPEnabled"]


def _net_adapters(machine, user):
    rows = []
    for index, a in enumerate(adapters(machine)):
        rows.append({
            "InterfaceIndex": int(a.get("interface_index", index + 20)), "Name": a["name"],
            "InterfaceDescription": a.get("description", a["name"]), "MacAddress": _mac(a.get("mac"), "-"),
            # MediaConnectState: 1 connected, 2 disconnected (0 unknown).
            "MediaConnectState": 1 if a.get("connected") else 2,
            "NdisPhysicalMedium": int(a.get("ndis_physical_medium", a["medium"])),
            "HardwareInterface": bool(a["hardware"]), "Virtual": bool(a["virtual"]),
            "ConnectorPresent": bool(a["hardware"]), "Hidden": bool(a.get("hidden", False)),
            "Speed": int(a.get("speed_mbps", 0)) * 1_000_000,
        })
    return "MSFT_NetAdapter", rows, ["InterfaceIndex", "Name", "InterfaceDescription", "MacAddress",
                                     "MediaConnectState", "NdisPhysicalMedium", "HardwareInterface", "Virtual",
                                     "ConnectorPresent", "Hidden", "Speed"]


def _battery(machine, user):
    hw = machine.state["hardware"]
    schema = ["InstanceName", "PowerOnline", "Charging", "Discharging", "Active", "Tag"]
    if hw.get("form") != "laptop":
        # guess: a machine without a battery has no BatteryStatus instance (some answer "Not supported")
        return "BatteryStatus", [], schema
    online = bool(hw.get("on_ac_power", True))
    row = {"InstanceName": "ACPI\\PNP0C0A\\1_0", "PowerOnline": online, "Charging": online, "Discharging": not online,
           "Active": True, "Tag": 1}
    return "BatteryStatus", [row], schema


def _tpm(machine, user):
    schema = ["SpecVersion", "IsEnabled_InitialValue", "IsActivated_InitialValue", "IsOwned_InitialValue",
              "ManufacturerIdTxt", "ManufacturerVersion"]
    if not machine.is_admin(user):
        # guess: Win32_Tpm answers administrators only
        raise WmiError(*ACCESS_DENIED)
    tpm = machine.state["hardware"].get("tpm") or {}
    if not tpm.get("present"):
        return "Win32_Tpm", [], schema
    spec = "2.0, 0, 1.38" if str(tpm.get("spec_version")) == "2.0" else "1.2, 2, 3"
    row = {"SpecVersion": spec, "IsEnabled_InitialValue": bool(tpm.get("enabled")),
           "IsActivated_InitialValue": bool(tpm.get("activated")), "IsOwned_InitialValue": bool(tpm.get("activated")),
           "ManufacturerIdTxt": "INTC", "ManufacturerVersion": "600.18.0.0"}
    return "Win32_Tpm", [row], schema


def _data_files(machine, user):
    # guess: Name is the full path in lower case, as WMI shows it; Version is the file's version
    # resource, here the simulated file record's "version" (NULL for a file without one, as for a
    # text file on Windows). Only these two properties are emulated (the queries name them).
    rows = [{"Name": rec["path"].lower(), "Version": rec.get("version")}
            for rec in machine.state["files"].values() if rec.get("type", "file") == "file" and not rec.get("absent")]
    return "CIM_DataFile", rows, ["Name", "Version"]


def _installed_programs(machine, user):
    # guess: Windows' inventory of installed Win32 programs (Windows 10 and later) lists what
    # Programs and Features lists: here the simulated product list, one row per product.
    rows = [{"Name": info.get("name", code), "Version": info.get("version"), "Vendor": info.get("publisher", ""),
             "MsiProductCode": code if code.startswith("{") else None}
            for code, info in machine.state["products"].items()]
    return "Win32_InstalledWin32Program", rows, ["Name", "Version", "Vendor", "MsiProductCode"]


def _sms_client(machine, user):
    row = {"ClientVersion": machine.state["configmgr_client_version"], "ClientType": 1, "EnableAutoAssignment": False}
    return "SMS_Client", [row], row.keys()


# WQL conditions (-Filter, WHERE) -------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")|(?P<num>-?\d+(?:\.\d+)?)|"
                    r"(?P<op><>|!=|<=|>=|=|<|>)|(?P<paren>[()])|(?P<word>[A-Za-z_][\w]*))")


def _parse_where(text: str, names: dict):
    tokens = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise WmiError(*INVALID_QUERY)
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "num":
            value = float(value) if "." in value else int(value)
        tokens.append((kind, value))
    state = {"i": 0}

    def peek():
        return tokens[state["i"]] if state["i"] < len(tokens) else (None, None)

    def take():
        tok = peek()
        state["i"] += 1
        return tok

    def word(w):
        kind, value = peek()
        return kind == "word" and value.lower() == w

    def expr():
        left = term()
        while word("or"):
            take()
            right = term()
            left = _either(left, right)
        return left

    def term():
        left = factor()
        while word("and"):
            take()
            right = factor()
            left = _both(left, right)
        return left

    def factor():
        if word("not"):
            take()
            inner = factor()
            return lambda row: not inner(row)
        if peek() == ("paren", "("):
            take()
            inner = expr()
            if take() != ("paren", ")"):
                raise WmiError(*INVALID_QUERY)
            return inner
        kind, prop = take()
        if kind != "word" or prop.lower() not in names:
            raise WmiError(*INVALID_QUERY)
        prop = names[prop.lower()]
        if word("is"):
            take()
            negate = word("not")
            if negate:
                take()
            if not word("null"):
                raise WmiError(*INVALID_QUERY)
            take()
            return lambda row: (row.get(prop) is None) != negate
        if word("like"):
            take()
            kind, pattern = take()
            if kind != "str":
                raise WmiError(*INVALID_QUERY)
            rx = re.compile("".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern) + r"\Z",
                            re.IGNORECASE)
            return lambda row: row.get(prop) is not None and rx.match(str(row.get(prop))) is not None
        kind, op = take()
        if kind != "op":
            raise WmiError(*INVALID_QUERY)
        kind, value = take()
        if kind == "word" and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        elif kind not in ("str", "num"):
            raise WmiError(*INVALID_QUERY)

        def compare(row, op=op, value=value):
            have = row.get(prop)
            if have is None:
                return False
            if isinstance(value, str):
                have, value = str(have).lower(), value.lower()
            try:
                return {"=": have == value, "<>": have != value, "!=": have != value, "<": have < value,
                        ">": have > value, "<=": have <= value, ">=": have >= value}[op]
            except TypeError:
                raise WmiError(*INVALID_QUERY) from None
        return compare

    condition = expr()
    if state["i"] != len(tokens):
        raise WmiError(*INVALID_QUERY)
    return condition


def _either(a, b):
    return lambda row: a(row) or b(row)


def _both(a, b):
    return lambda row: a(row) and b(row)
