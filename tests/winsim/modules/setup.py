"""ansible.windows setup: facts with the key names and value types setup.ps1 returns."""

from __future__ import annotations

import datetime
import math
import time

from tests.winsim.machine import CBS_REBOOT_KEY
from tests.winsim.modules._base import Emulated

# setup.ps1's $spec (upstream.py); it also accepts the caller's unknown options as raw (setup.ps1:26-49).
SPEC = Emulated("setup", not_emulated=("_measure_subset", "fact_path"), extra_options_raw=True)

GROUPS = {
    "min": ["date_time", "distribution", "dns", "env", "local", "platform", "powershell_version", "user"],
    "network": ["all_ipv4_addresses", "all_ipv6_addresses", "interfaces", "windows_domain", "winrm"],
    "hardware": ["bios", "memory", "processor", "uptime", "virtual"],
    "external": ["facter"],
}
ALL = sorted({s for group in GROUPS.values() for s in group})
_VIRTUAL_MODELS = {"Virtual Machine": "Hyper-V", "VMware Virtual Platform": "VMware", "VirtualBox": "VirtualBox",
                   "KVM": "kvm"}


def subsets(gather: list[str], warn) -> set[str]:
    """setup.ps1's gather_subset arithmetic."""
    actual, explicit, exclude = set(ALL), set(), set()
    for item in gather:
        if item.startswith("!"):
            item = item[1:]
            if item == "all":
                exclude |= set(ALL) - set(GROUPS["min"])
            elif item in GROUPS:
                exclude |= set(GROUPS[item])
            elif item in ALL:
                exclude.add(item)
        elif item in GROUPS:
            explicit |= set(GROUPS[item])
        elif item == "all":
            explicit |= set(ALL)
        elif item in ALL:
            explicit.add(item)
        else:
            warn(f"invalid value {item} specified in gather_subset")
    return (actual - exclude) | explicit


def _whole(value: float):
    return int(value) if float(value).is_integer() else value


def run(mod) -> None:
    m, st = mod.machine, mod.machine.state
    hw, os_ = st["hardware"], st["os"]
    user = mod.inv.run_as
    admin = m.is_admin(user)
    env = mod.env()
    wanted = subsets(mod.params["gather_subset"], mod.warn)
    facts: dict = {"gather_subset": mod.params["gather_subset"], "module_setup": True}
    now = datetime.datetime.now(datetime.UTC)   # guess: the simulated hosts' clocks are on UTC
    boot = m.boot_time()
    kernel = f"{os_['version']}.0"               # [Environment]::OSVersion.Version has four parts
    adapters = st["network_adapters"]
    domain = st.get("domain")

    if wanted & {"all_ipv4_addresses", "all_ipv6_addresses"}:
        facts["ansible_ip_addresses"] = [ip for a in adapters for ip in a.get("ip_addresses", []) + a.get(
            "ipv6_addresses", [])]
    if "bios" in wanted:
        date = datetime.datetime.strptime(hw["bios_date"], "%Y-%m-%d")
        facts.update(ansible_bios_date=date.strftime("%m/%d/%Y"), ansible_bios_version=hw["bios_version"],
                     ansible_product_name=hw["model"], ansible_product_serial=hw["serial_number"],
                     ansible_product_uuid=hw["uuid"])
    if "date_time" in wanted:
        epoch = now.timestamp()
        facts["ansible_date_time"] = {
            "date": now.strftime("%Y-%m-%d"), "day": now.strftime("%d"),
            "epoch": f"{epoch:.5f}", "epoch_local": f"{epoch:.5f}",   # guess: -UFormat %s on 5.1 keeps a fraction
            "epoch_int": int(epoch), "hour": now.strftime("%H"), "iso8601": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "iso8601_basic": now.strftime("%Y%m%dT%H%M%S%f"), "iso8601_basic_short": now.strftime("%Y%m%dT%H%M%S"),
            "iso8601_micro": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "minute": now.strftime("%M"),
            "month": now.strftime("%m"), "second": now.strftime("%S"), "time": now.strftime("%H:%M:%S"),
            "tz": "UTC", "tz_offset": "+00:00", "weekday": now.strftime("%A"),
            "weekday_number": str(int(now.strftime("%w"))), "weeknumber": now.strftime("%W"),
            "year": now.strftime("%Y"),
        }
    if "distribution" in wanted:
        install = m.reg_value("HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion", "InstallTime")
        install_type = m.reg_value("HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion", "InstallationType")
        install_date = None
        if install:
            epoch = (int(install["data"]) - 116_444_736_000_000_000) / 10_000_000
            install_date = datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        product_type = {"workstation": "workstation", "server": "server",
                        "domain_controller": "domain_controller"}.get(os_["product_type"], "unknown")
        facts.update(
            ansible_distribution=os_["caption"] if admin else None,   # WMI needs an administrator
            ansible_distribution_version=kernel, ansible_distribution_major_version=os_["version"].split(".")[0],
            ansible_os_family="Windows", ansible_os_name=os_["caption"] if admin else None,
            ansible_os_product_type=product_type,
            ansible_os_installation_type=install_type["data"] if install_type else None,
            ansible_os_install_date=install_date)
    if "env" in wanted:
        facts["ansible_env"] = {k: str(v).rstrip("\\") for k, v in env.items()}
    if "interfaces" in wanted:
        facts["ansible_interfaces"] = [_interface(a) for a in adapters]
    if "memory" in wanted:
        total = int(hw["memory_mb"])
        # guess: 55% free, a page file as large as memory up to 8 GB
        facts.update(ansible_memtotal_mb=total, ansible_memfree_mb=math.ceil(total * 0.55),
                     ansible_swaptotal_mb=0,
                     ansible_pagefiletotal_mb=min(total, 8192) if admin else None,
                     ansible_pagefilefree_mb=min(total, 8192) - 400 if admin else None)
    if "platform" in wanted:
        hostname = st["hostname"]
        fqdn = f"{hostname}.{domain}" if domain else hostname
        renames = m.reg_value("HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager", "PendingFileRenameOperations")
        pending = m.pending_reboot() or bool(renames) or CBS_REBOOT_KEY in st["registry"]
        owner = m.reg_value("HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion", "RegisteredOwner")
        comment = m.reg_value("HKLM\\SYSTEM\\CurrentControlSet\\Services\\LanmanServer\\Parameters", "srvcomment")
        facts.update(
            ansible_domain=domain or "", ansible_fqdn=fqdn, ansible_hostname=hostname, ansible_netbios_name=hostname,
            ansible_kernel=kernel, ansible_nodename=fqdn, ansible_machine_id=os_["machine_sid"],
            ansible_owner_name=str(owner["data"]) if owner else "", ansible_system="Win32NT",
            ansible_system_description=str(comment["data"]) if comment else "", ansible_system_vendor=hw["make"],
            ansible_architecture=os_["architecture"] if admin else None, ansible_owner_contact="",
            ansible_reboot_pending=pending,
            ansible_architecture2="i386" if os_["architecture"].startswith("32") else "x86_64")
    if "powershell_version" in wanted:
        facts["ansible_powershell_version"] = int(os_["powershell_version"].split(".")[0])
    if "processor" in wanted:
        cpu = hw["cpu"]
        facts["ansible_processor"] = [x for i in range(cpu["logical"]) for x in (str(i), cpu["vendor"], cpu["name"])]
        facts.update(ansible_processor_count=cpu.get("sockets", 1), ansible_processor_vcpus=cpu["logical"],
                     ansible_processor_cores=cpu["cores"],
                     ansible_processor_threads_per_core=_whole(cpu["logical"] / cpu["cores"]))
    if "uptime" in wanted:
        facts.update(ansible_lastboot=m.boot_time_text(), ansible_uptime_seconds=round(time.time() - boot))
    if "user" in wanted:
        facts.update(ansible_user_dir=env.get("USERPROFILE"), ansible_user_gecos="", ansible_user_id=env.get("USERNAME"),
                     ansible_user_sid=m.account_sid(user))
    if "windows_domain" in wanted:
        kind = "workstation" if os_["product_type"] == "workstation" else "server"
        role = ("Member " if domain else "Stand-alone ") + kind
        if os_["product_type"] == "domain_controller":
            role = "Primary domain controller"
        facts.update(ansible_windows_domain=domain or "WORKGROUP", ansible_windows_domain_member=bool(domain),
                     ansible_windows_domain_role=role)
    if "virtual" in wanted:
        kind = _VIRTUAL_MODELS.get(hw["model"])
        facts.update(ansible_virtualization_role="guest" if kind else "NA", ansible_virtualization_type=kind or "NA")
    # guess: no HTTPS listener certificate facts (winrm), no facter, no dns facts (setup.ps1 has no code for dns)
    mod.result["ansible_facts"] = facts


def _interface(a: dict) -> dict:
    def addresses(ips, prefix):
        items = [{"address": ip, "prefix": str(prefix)} for ip in ips]
        # Select-Object gives one object, not a list, when there is one address; nothing when there are none.
        return None if not items else items[0] if len(items) == 1 else items

    return {
        "connection_name": a["name"],
        "default_gateway": (a.get("default_gateways") or [None])[0],
        "dns_domain": None,
        "interface_index": a.get("interface_index", 0),
        "interface_name": a.get("description", a["name"]),
        "ipv4": addresses(a.get("ip_addresses", []), a.get("prefix", 24)),
        "ipv6": addresses(a.get("ipv6_addresses", []), 64),
        "macaddress": a["mac"].upper(),
        "mtu": 1500,
        # NetworkInterface.Speed / 1000 / 1000; guess: a disconnected adapter reports -1 bit/s.
        "speed": _whole(a.get("speed_mbps", 1000)) if a.get("connected") else -1e-06,
    }
