"""Emulated ansible.windows modules of the simulated host.

Each handler returns what the real module returns (same keys), honours check mode, and
refuses options it does not emulate by name. An unknown module fails naming it.
Test fixture: never shipped; where a detail of Windows is guessed it says ``guess:``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import time

from tests.winsim import programs, scripts
from tests.winsim.machine import norm

NO_LOG_VALUE = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
# Options the real modules declare no_log: Ansible.Basic masks them in the invocation.
NO_LOG_KEYS = {"password", "url_password", "value_secure", "become_pass"}
INTERNAL = "_ansible_"


class ModuleFail(Exception):
    def __init__(self, msg: str, **extra):
        super().__init__(msg)
        self.msg, self.extra = msg, extra


def _masked_args(args: dict) -> dict:
    def mask(obj, parent=""):
        if isinstance(obj, dict):
            out = {}
            for k, v in obj.items():
                if k.startswith(INTERNAL):
                    continue
                if k in NO_LOG_KEYS or (parent == "sensitive_parameters" and k == "value"):
                    out[k] = NO_LOG_VALUE if v is not None else None
                else:
                    out[k] = mask(v, k if isinstance(v, list) else parent)
            return out
        if isinstance(obj, list):
            return [mask(v, parent) for v in obj]
        return obj

    return mask(args)


def run(machine, inv, cancel) -> dict:
    short = inv.name.rsplit(".", 1)[-1]
    handler = HANDLERS.get(short) if inv.name.startswith(("ansible.windows.", "ansible.builtin.", "ansible.legacy.")) else None
    if handler is None:
        return {"failed": True, "msg": f"simulated host: module '{inv.name}' is not emulated"}
    args = {k: v for k, v in inv.args.items() if not k.startswith(INTERNAL)}
    try:
        result = handler(machine, args, inv, cancel)
    except ModuleFail as e:
        result = {"failed": True, "msg": e.msg, **e.extra}
    except programs.ProgramNotFound as e:
        result = {"failed": True, "msg": str(e)}
    result.setdefault("changed", False)
    result["invocation"] = {"module_args": _masked_args(inv.args)}
    return result


def _unsupported(args: dict, supported: set, module: str) -> None:
    extra = sorted(k for k, v in args.items() if k not in supported and v not in (None, False, [], {}))
    if extra:
        raise ModuleFail(f"simulated host: {module} option(s) {', '.join(extra)} are not emulated")


def _now() -> str:
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")


# ping, facts ---------------------------------------------------------------------------

def win_ping(machine, args, inv, cancel):
    _unsupported(args, {"data"}, "win_ping")
    data = args.get("data", "pong")
    if data == "crash":
        raise ModuleFail("boom", exception="Exception: boom")
    return {"ping": data}


def setup(machine, args, inv, cancel):
    st = machine.state
    hw, os_ = st["hardware"], st["os"]
    boot = machine.boot_time()
    now = datetime.datetime.now(datetime.UTC)
    interfaces = [{
        "connection_name": a["name"], "default_gateway": (a["default_gateways"] or [None])[0], "dns_domain": None,
        "interface_index": a.get("interface_index", i + 4), "interface_name": a.get("description", a["name"]),
        "ipv4": [{"address": ip, "prefix": "24"} for ip in a["ip_addresses"]], "ipv6": [],
        "macaddress": a["mac"], "mtu": 1500, "speed": 1000,
    } for i, a in enumerate(st["network_adapters"]) if a["connected"]]
    version = os_["version"]
    facts = {
        "ansible_architecture": os_["architecture"], "ansible_architecture2": "x86_64",
        "ansible_bios_date": hw["bios_date"], "ansible_bios_version": hw["bios_version"],
        "ansible_date_time": {"date": now.strftime("%Y-%m-%d"), "epoch": str(int(now.timestamp())),
                              "iso8601": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "time": now.strftime("%H:%M:%S"),
                              "tz": "UTC", "tz_offset": "+00:00"},
        "ansible_distribution": os_["caption"], "ansible_distribution_major_version": version.split(".")[0],
        "ansible_distribution_version": version, "ansible_domain": "", "ansible_env": dict(st["environment"]),
        "ansible_fqdn": st["hostname"].lower(), "ansible_hostname": st["hostname"],
        "ansible_interfaces": interfaces,
        "ansible_ip_addresses": [ip for a in st["network_adapters"] for ip in a["ip_addresses"]],
        "ansible_kernel": version,
        "ansible_lastboot": datetime.datetime.fromtimestamp(boot, datetime.UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
        "ansible_machine_id": "S-1-5-21-0000000000-0000000000-0000000000",
        "ansible_memtotal_mb": hw["memory_mb"], "ansible_memfree_mb": hw["memory_mb"] // 2,
        "ansible_netbios_name": st["hostname"], "ansible_nodename": st["hostname"].lower(),
        "ansible_os_family": "Windows", "ansible_os_install_date": os_["install_date"].replace(" ", "T"),
        "ansible_os_installation_type": "Server" if os_["product_type"] != "workstation" else "Client",
        "ansible_os_name": os_["caption"], "ansible_os_product_type": os_["product_type"],
        "ansible_owner_contact": "", "ansible_owner_name": "", "ansible_pagefiletotal_mb": 4096,
        "ansible_pagefilefree_mb": 4000, "ansible_powershell_version": int(os_["powershell_version"].split(".")[0]),
        "ansible_processor": [x for i in range(hw["cpu"]["logical"]) for x in (str(i), "GenuineIntel", hw["cpu"]["name"])],
        "ansible_processor_cores": hw["cpu"]["cores"], "ansible_processor_count": 1,
        "ansible_processor_threads_per_core": hw["cpu"]["logical"] // hw["cpu"]["cores"],
        "ansible_processor_vcpus": hw["cpu"]["logical"],
        "ansible_product_name": hw["model"], "ansible_product_serial": hw["serial_number"],
        "ansible_product_uuid": hw["uuid"], "ansible_reboot_pending": bool(st["boot"]["pending_reboot"]),
        "ansible_swaptotal_mb": 0, "ansible_system": "Win32NT", "ansible_system_description": "",
        "ansible_system_vendor": hw["make"], "ansible_uptime_seconds": int(time.time() - boot),
        "ansible_user_dir": f"C:\\Users\\{inv.become_user or 'Administrator'}", "ansible_user_gecos": "",
        "ansible_user_id": inv.become_user or "Administrator", "ansible_user_sid": "S-1-5-21-0-0-0-500",
        "ansible_virtualization_role": "guest" if hw.get("virtual") else "NA",
        "ansible_virtualization_type": "Hyper-V" if hw.get("virtual") else "NA",
        "ansible_windows_domain": "WORKGROUP", "ansible_windows_domain_member": False,
        "ansible_windows_domain_role": "Stand-alone server" if os_["product_type"] != "workstation" else
        "Stand-alone workstation",
        "module_setup": True,
    }
    return {"ansible_facts": facts}


# commands --------------------------------------------------------------------------------

def _command_result(res, cmd, start):
    end = datetime.datetime.now()
    return {"cmd": cmd, "rc": res.rc, "stdout": res.stdout.decode("utf-8", "replace"),
            "stderr": res.stderr.decode("utf-8", "replace"), "start": start, "end": _now(),
            "delta": str(end - datetime.datetime.strptime(start, "%Y-%m-%d %H:%M:%S.%f")), "changed": True}


def win_command(machine, args, inv, cancel):
    _unsupported(args, {"cmd", "_raw_params", "argv", "chdir", "creates", "removes", "stdin", "output_encoding_override"},
                 "win_command")
    cmd = args.get("cmd") or args.get("_raw_params") or " ".join(f'"{a}"' if " " in a else a for a in args.get("argv") or [])
    if not cmd:
        raise ModuleFail("no command given")
    return _run_cmd(machine, args, inv, cancel, cmd, shell=False)


def win_shell(machine, args, inv, cancel):
    _unsupported(args, {"cmd", "_raw_params", "chdir", "creates", "removes", "executable", "stdin", "no_profile"},
                 "win_shell")
    cmd = args.get("cmd") or args.get("_raw_params")
    executable = (args.get("executable") or "").lower()
    if executable not in ("cmd", "cmd.exe"):
        raise ModuleFail("simulated host: win_shell runs only with executable: cmd (PowerShell is not emulated)")
    return _run_cmd(machine, args, inv, cancel, f"cmd.exe /c {cmd}", shell=True)


def _run_cmd(machine, args, inv, cancel, cmd, shell):
    files = machine.state["files"]
    if args.get("creates") and norm(args["creates"]) in files:
        return {"cmd": cmd, "rc": 0, "msg": f"skipped, since {args['creates']} exists", "skipped": True}
    if args.get("removes") and norm(args["removes"]) not in files:
        return {"cmd": cmd, "rc": 0, "msg": f"skipped, since {args['removes']} does not exist", "skipped": True}
    if inv.check_mode:
        return {"cmd": cmd, "rc": 0, "msg": "skipped in check mode", "skipped": True, "changed": True}
    chdir = args.get("chdir") or "C:\\Users\\Administrator"
    env = programs.process_env(machine, inv.environment)
    ctx = programs.Context(machine, env, chdir, inv.become_user or inv.user, cancel)
    start = _now()
    try:
        res = programs.start(ctx, cmd)
    except programs.ProgramNotFound as e:
        # What win_command reports when CreateProcess cannot find the program.
        raise ModuleFail(f'Exception calling "SearchPath": "Could not find file \'{programs.split_program(cmd)[0]}\'."'
                         if "not find" in str(e) else str(e), rc=2, cmd=cmd) from None
    result = _command_result(res, cmd, start)
    if res.rc != 0:
        result.update(failed=True, msg="non-zero return code")
    return result


def win_powershell(machine, args, inv, cancel):
    _unsupported(args, {"script", "parameters", "sensitive_parameters", "chdir", "depth", "error_action",
                        "executable", "arguments", "creates", "removes", "path", "remote_src"}, "win_powershell")
    script = args.get("script") or ""
    sid = scripts.script_id(script)
    if sid is None:
        raise ModuleFail("simulated host: cannot run arbitrary PowerShell; win_powershell runs only the collection's "
                         "scripts (first line '# tasksequence.windows script: <id>')")
    base = {"output": [], "error": [], "host_out": "", "host_err": "", "result": {}, "changed": True,
            "debug": [], "information": [], "verbose": [], "warning": []}
    if inv.check_mode and not scripts.supports_check_mode(script):
        base.update(changed=True, msg="skipped: the script does not support check mode")
        return base
    params = dict(args.get("parameters") or {})
    for item in args.get("sensitive_parameters") or []:
        params[item["name"]] = item.get("value")
    output, errors = scripts.run(machine, sid, params, inv, cancel)
    base.update(output=output, error=errors)
    if errors:
        base.update(failed=True, msg="; ".join(e["message"] for e in errors))
    return base


# files, registry --------------------------------------------------------------------------

def _file_stat(machine, path):
    rec = machine.state["files"].get(norm(path))
    if rec is None:
        return {"exists": False}
    stat = {"exists": True, "path": rec["path"], "filename": rec["path"].rsplit("\\", 1)[-1],
            "isdir": rec["type"] == "directory", "isreg": rec["type"] == "file", "islnk": False,
            "attributes": "Directory" if rec["type"] == "directory" else "Archive",
            "size": rec.get("size", 0), "extension": "." + rec["path"].rsplit(".", 1)[-1] if "." in rec["path"] else "",
            "lastwritetime": rec.get("mtime", 1767225600.0), "creationtime": rec.get("ctime", 1767225600.0),
            "lastaccesstime": rec.get("mtime", 1767225600.0), "owner": "BUILTIN\\Administrators"}
    if rec["type"] == "file":
        data = base64.b64decode(rec.get("content_b64", ""))
        stat["checksum"] = hashlib.sha1(data).hexdigest()
        if rec.get("version"):
            stat["file_version"] = rec["version"]
    return stat


def win_stat(machine, args, inv, cancel):
    _unsupported(args, {"path", "get_checksum", "checksum_algorithm", "follow", "get_size"}, "win_stat")
    return {"stat": _file_stat(machine, args["path"])}


def win_file(machine, args, inv, cancel):
    _unsupported(args, {"path", "state"}, "win_file")
    path, state = args["path"], args.get("state") or "file"
    files = machine.state["files"]
    exists = norm(path) in files
    if state == "absent":
        if not exists:
            return {"changed": False}
        if not inv.check_mode:
            with machine.lock:
                for key in [k for k in files if k == norm(path) or k.startswith(norm(path) + "\\")]:
                    files.pop(key)
                machine.save()
        return {"changed": True}
    if state == "directory":
        if exists:
            if files[norm(path)]["type"] != "directory":
                raise ModuleFail(f"path {path} is not a directory")
            return {"changed": False}
        if not inv.check_mode:
            with machine.lock:
                parts = path.rstrip("\\").split("\\")
                for i in range(1, len(parts) + 1):
                    sub = "\\".join(parts[:i]) + ("\\" if i == 1 else "")
                    files.setdefault(norm(sub), {"path": sub, "type": "directory"})
                machine.save()
        return {"changed": True}
    if state == "touch":
        if not inv.check_mode:
            with machine.lock:
                files.setdefault(norm(path), {"path": path, "type": "file", "size": 0, "content_b64": ""})
                files[norm(path)]["mtime"] = time.time()
                machine.save()
        return {"changed": True}
    if not exists:
        raise ModuleFail(f"path {path} will not be created")
    return {"changed": False}


def win_copy(machine, args, inv, cancel):
    # What ansible.windows' win_copy action plugin sends after put_file: _copy_mode single.
    mode = args.get("_copy_mode")
    if mode == "query":
        return _copy_query(machine, args)
    if mode not in ("single", None):
        raise ModuleFail(f"simulated host: win_copy _copy_mode '{mode}' is not emulated")
    src, dest = args.get("src"), args.get("dest")
    files = machine.state["files"]
    if args.get("content") is not None and not src:
        data = str(args["content"]).encode()
    else:
        rec = files.get(norm(src or ""))
        if rec is None:
            raise ModuleFail(f"Cannot copy src file: '{src}' as it does not exist")
        data = base64.b64decode(rec.get("content_b64", ""))
    target = dest
    if norm(dest) in files and files[norm(dest)]["type"] == "directory":
        target = dest.rstrip("\\") + "\\" + (args.get("_original_basename") or (src or "").rsplit("\\", 1)[-1])
    old = files.get(norm(target))
    checksum = hashlib.sha1(data).hexdigest()
    changed = old is None or hashlib.sha1(base64.b64decode(old.get("content_b64", ""))).hexdigest() != checksum
    if changed and not inv.check_mode:
        with machine.lock:
            files[norm(target)] = {"path": target, "type": "file", "size": len(data),
                                   "content_b64": base64.b64encode(data).decode(), "mtime": time.time()}
            machine.save()
    return {"changed": changed, "dest": target, "checksum": checksum, "size": len(data), "operation": "file_copy",
            "original_basename": args.get("_original_basename")}


def _copy_query(machine, args):
    """Which of the controller's files differ from the host's (win_copy's first call)."""
    files, dest = machine.state["files"], args["dest"]
    changed = []
    for f in args.get("files") or []:
        path = dest if not f.get("dest") else dest.rstrip("\\") + "\\" + f["dest"]
        rec = files.get(norm(path))
        if rec and rec["type"] == "directory":
            path = path.rstrip("\\") + "\\" + f["src"].replace("/", "\\").rsplit("\\", 1)[-1]
            rec = files.get(norm(path))
        if rec is None:
            changed.append(f)
        elif rec["type"] == "directory":
            raise ModuleFail(f"cannot copy file to dest '{path}': object at path is already a directory")
        elif args.get("force", True):
            if hashlib.sha1(base64.b64decode(rec.get("content_b64", ""))).hexdigest() != f.get("checksum"):
                changed.append(f)
    directories = [d for d in args.get("directories") or []
                   if norm(dest.rstrip("\\") + "\\" + d["dest"]) not in files]
    return {"changed": False, "files": changed, "directories": directories, "symlinks": []}


def slurp(machine, args, inv, cancel):
    rec = machine.state["files"].get(norm(args.get("src") or args.get("path") or ""))
    if rec is None or rec["type"] != "file":
        raise ModuleFail(f"Path {args.get('src')} is not found")
    return {"content": rec.get("content_b64", ""), "encoding": "base64"}


def win_reg_stat(machine, args, inv, cancel):
    _unsupported(args, {"path", "name", "key"}, "win_reg_stat")
    path = args.get("path") or args.get("key")
    key = machine.state["registry"].get(norm(path.replace("HKLM:", "HKLM").replace("HKEY_LOCAL_MACHINE", "HKLM")))
    if key is None:
        return {"exists": False}
    name = args.get("name")
    if name is None:
        subkeys = sorted({k[len(norm(path.replace('HKLM:', 'HKLM'))) + 1:].split("\\")[0]
                          for k in machine.state["registry"] if k.startswith(norm(path.replace('HKLM:', 'HKLM')) + "\\")})
        return {"exists": True, "properties": {n: {"type": v["type"], "value": v["data"], "raw_value": v["data"]}
                                               for n, v in key["values"].items()}, "sub_keys": subkeys}
    value = key["values"].get(name)
    if value is None:
        return {"exists": False}
    return {"exists": True, "type": value["type"], "value": value["data"], "raw_value": value["data"]}


# software ------------------------------------------------------------------------------------

def win_package(machine, args, inv, cancel):
    _unsupported(args, {"path", "product_id", "arguments", "state", "expected_return_code", "creates_path",
                        "chdir", "log_path", "wait_for_children"}, "win_package")
    products = machine.state["products"]
    state = args.get("state") or "present"
    path, product_id = args.get("path"), (args.get("product_id") or "").upper() or None
    expected = args.get("expected_return_code") or [0, 3010]
    msi = None
    if path:
        rec = machine.state["files"].get(norm(path))
        if rec is None:
            if path.lower().startswith(("http://", "https://", "\\\\")):
                raise ModuleFail(f"simulated host: win_package path '{path}' is not emulated (only local files)")
            raise ModuleFail(f"the file at the path '{path}' cannot be reached")
        msi = rec.get("msi")
        if msi:
            product_id = product_id or msi["product_code"].upper()
    if not product_id:
        raise ModuleFail("product_id is required when the path is not an MSI the host can inspect")
    installed = product_id in products
    if (state == "present") == installed:
        return {"changed": False, "reboot_required": False, "rc": 0}
    if inv.check_mode:
        return {"changed": True, "reboot_required": False}
    cancel_ = cancel
    if state == "present":
        if msi is None:
            raise ModuleFail(f"simulated host: cannot install '{path}': it is not an MSI with product metadata")
        res = programs.start(programs.Context(machine, programs.process_env(machine, inv.environment),
                                              "C:\\Windows\\System32", inv.user, cancel_), f'msiexec.exe /i "{path}" /qn')
    else:
        res = programs.start(programs.Context(machine, programs.process_env(machine, inv.environment),
                                              "C:\\Windows\\System32", inv.user, cancel_), f"msiexec.exe /x {product_id} /qn")
    out = {"changed": True, "rc": res.rc, "reboot_required": res.rc == 3010, "stdout": "", "stderr": ""}
    if res.rc == 1641:
        out["reboot_required"] = True   # the installer started the restart itself
    if res.rc not in expected:
        out.update(failed=True, msg=f"unexpected rc from {'install' if state == 'present' else 'uninstall'} "
                                    f"{path or product_id}: see rc, stdout, and stderr for more details")
    return out


def win_get_url(machine, args, inv, cancel):
    _unsupported(args, {"url", "dest", "force", "checksum", "checksum_algorithm", "url_timeout", "validate_certs",
                        "url_username", "url_password"}, "win_get_url")
    url, dest = args["url"], args["dest"]
    web = machine.state.get("web") or {}
    if url not in web:
        # What a download from an address nothing answers reports.
        raise ModuleFail(f"Error downloading '{url}' to '{dest}': The remote name could not be resolved", status_code=-1)
    data = base64.b64decode(web[url].get("content_b64", ""))
    if norm(dest) in machine.state["files"] and machine.state["files"][norm(dest)]["type"] == "directory":
        dest = dest.rstrip("\\") + "\\" + url.rstrip("/").rsplit("/", 1)[-1]
    old = machine.state["files"].get(norm(dest))
    if old and not args.get("force", True) and old["type"] == "file":
        return {"changed": False, "dest": dest, "url": url, "status_code": 200, "msg": "file already exists"}
    checksum = hashlib.sha1(data).hexdigest()
    if not inv.check_mode:
        with machine.lock:
            rec = {"path": dest, "type": "file", "size": len(data), "content_b64": base64.b64encode(data).decode()}
            for extra in ("msi", "program"):
                if extra in web[url]:
                    rec[extra] = web[url][extra]
            machine.state["files"][norm(dest)] = rec
            machine.save()
    return {"changed": True, "dest": dest, "url": url, "status_code": 200, "msg": "OK", "size": len(data),
            "checksum_dest": checksum, "elapsed": 0.1}


def win_mapped_drive(machine, args, inv, cancel):
    _unsupported(args, {"letter", "path", "state", "username", "password"}, "win_mapped_drive")
    letter = args["letter"].rstrip(":").upper()
    drives = machine.state["mapped_drives"]
    session = inv.become_user or inv.user
    key = f"{session}|{letter}"
    if (args.get("state") or "present") == "absent":
        changed = key in drives
        if changed and not inv.check_mode:
            with machine.lock:
                drives.pop(key)
                machine.save()
        return {"changed": changed}
    path = args.get("path") or ""
    if not path.startswith("\\\\"):
        raise ModuleFail("path must be a UNC path (\\\\server\\share)")
    shares = machine.state.get("shares") or {}
    if path.lower().rstrip("\\") not in {s.lower() for s in shares}:
        raise ModuleFail(f"Failed to map {letter}: drive to '{path}': The network path was not found (Win32ErrorCode 53)")
    changed = drives.get(key, {}).get("path") != path
    if changed and not inv.check_mode:
        with machine.lock:
            drives[key] = {"path": path, "user": args.get("username")}
            machine.save()
    return {"changed": changed}


_UPDATE_TASKS: dict[str, list] = {}   # task id -> progress records not yet polled


def _category_key(name: str) -> str:
    return name.replace(" ", "").lower()


def win_updates(machine, args, inv, cancel):
    """The start/poll/cancel protocol ansible.windows' win_updates action plugin drives.

    guess: the whole search/download/install happens at start (instantly); poll hands the
    progress records over at once. The records have the shape the action plugin reads.
    """
    _unsupported(args, {"_operation", "_operation_options", "state", "category_names", "accept_list", "reject_list",
                        "reboot", "reboot_timeout", "log_path", "skip_optional", "server_selection"}, "win_updates")
    operation = args.get("_operation") or "start"
    options = args.get("_operation_options") or {}
    if operation == "poll":
        records = _UPDATE_TASKS.get(options.get("task_id"))
        if records is None:
            raise ModuleFail(f"simulated host: no update task {options.get('task_id')} to poll")
        out, records[:] = list(records), []
        return {"output": out}
    if operation == "cancel":
        _UPDATE_TASKS.pop(options.get("task_id"), None)
        return {}
    if operation != "start":
        raise ModuleFail(f"simulated host: win_updates _operation '{operation}' is not emulated")
    import re

    state = args.get("state") or "installed"
    cats = args.get("category_names") or ["CriticalUpdates", "SecurityUpdates", "UpdateRollups"]
    cats = ["*"] if "*" in cats else [_category_key(c) for c in cats]
    accept, reject = args.get("accept_list") or [], args.get("reject_list") or []
    updates = machine.state["updates"]
    found, filtered, selected = [], [], []
    for u in updates["available"]:
        info = {"id": u["id"], "title": u["title"], "kb": [f"KB{k}" for k in u.get("kb", [])],
                "categories": list(u.get("categories", [])), "is_installed": False, "is_hidden": False,
                "is_mandatory": bool(u.get("mandatory")), "is_downloaded": False}
        found.append(info)
        names = [u["title"]] + info["kb"]
        reasons = []
        if accept and not any(re.search(p, n, re.IGNORECASE) for p in accept for n in names):
            reasons.append("accept_list")
        if reject and any(re.search(p, n, re.IGNORECASE) for p in reject for n in names):
            reasons.append("reject_list")
        if cats != ["*"] and not any(_category_key(c) in cats for c in info["categories"]):
            reasons.append("category_names")
        if reasons:
            filtered.append({"id": u["id"], "reasons": reasons})
        else:
            selected.append(u)
    records = [{"task": "search_result", "result": {"updates": found, "filtered": filtered}}]
    changed, reboot_required = False, False
    if state in ("installed", "downloaded") and selected and not inv.check_mode:
        ok = [{"id": u["id"], "result_code": 2, "hresult": 0} for u in selected]
        records.append({"task": "download_result", "result": {"info": ok}})
        if state == "installed":
            records.append({"task": "install_result", "result": {"info": ok}})
            with machine.lock:
                ids = {u["id"] for u in selected}
                updates["available"] = [u for u in updates["available"] if u["id"] not in ids]
                updates["installed"].extend(selected)
                reboot_required = any(u.get("reboot_required") for u in selected)
                if reboot_required:
                    machine.state["boot"]["pending_reboot"] = True
                machine.save()
        changed = True
    elif selected and inv.check_mode:
        changed = True
    records.append({"task": "exit", "result": {"changed": changed, "reboot_required": reboot_required,
                                               "failed": False}})
    task_id = f"{machine.name}-{len(_UPDATE_TASKS)}-{time.time()}"
    _UPDATE_TASKS[task_id] = records
    return {"poll_options": {"task_id": task_id}, "cancel_options": {"task_id": task_id}}


HANDLERS = {
    "win_ping": win_ping, "setup": setup, "win_command": win_command, "win_shell": win_shell,
    "win_powershell": win_powershell, "win_stat": win_stat, "win_file": win_file, "win_copy": win_copy,
    "slurp": slurp, "win_reg_stat": win_reg_stat, "win_package": win_package, "win_get_url": win_get_url,
    "win_mapped_drive": win_mapped_drive, "win_updates": win_updates,
}
