"""win_reg_stat and win_mapped_drive on the simulated host."""

from __future__ import annotations

import re

from tests.winsim.modules._base import Emulated

REG_STAT_SPEC = Emulated("win_reg_stat")   # legacy: Get-AnsibleParam calls


def _value_info(value: dict) -> dict:
    kind, data = value["type"], value["data"]
    raw = data
    if kind in ("REG_BINARY", "REG_NONE"):
        raw = [f"0x{b:02x}" for b in (data or [])]
    elif kind in ("REG_DWORD", "REG_QWORD"):
        data = raw = int(data) & (0xFFFFFFFF if kind == "REG_DWORD" else 0xFFFFFFFFFFFFFFFF)
    elif kind == "REG_EXPAND_SZ":
        from tests.winsim.payload import expand_env

        return {"type": kind, "value": expand_env(str(data), {}), "raw_value": data}
    return {"type": kind, "value": data, "raw_value": raw}


def win_reg_stat(mod) -> None:
    path, name, m = mod.params["path"], mod.params["name"], mod.machine
    mod.result = {"changed": False}
    if not re.match(r"^HK(CC|CR|CU|LM|U):\\", path):
        mod.fail_json(f"path: {path} is not a valid registry path, see module documentation for examples.")
    key = path
    if path.upper().startswith("HKCU:"):
        key = f"HKEY_USERS\\{m.account_sid(mod.inv.run_as)}" + path[5:]
    rec = m.reg_key(key)
    if rec is None:
        mod.result["exists"] = False
        return
    if name is None:
        properties = {n: _value_info(v) for n, v in rec["values"].items() if n != ""}
        if "" in rec["values"]:
            properties[""] = _value_info(rec["values"][""])
        mod.result.update(exists=True, properties=properties, sub_keys=m.reg_subkeys(key))
        return
    value = m.reg_value(key, name)
    if value is None:
        mod.result["exists"] = False
        return
    mod.result.update(exists=True, **_value_info(value))


MAPPED_DRIVE_SPEC = Emulated("win_mapped_drive")


def win_mapped_drive(mod) -> None:
    """The account's remembered mappings (HKCU\\Network); the connection is the logon session's own."""
    p, m = mod.params, mod.machine
    letter = p["letter"]
    if not re.match(r"^[a-zA-Z]$", letter or ""):
        mod.fail_json(f"letter must be a single letter from A-Z, was: {letter}")
    letter = letter.upper()
    account = m.find_account(mod.inv.run_as) or mod.inv.run_as
    with m.lock:
        drives = m.state.setdefault("mapped_drives", {}).setdefault(account, {})
        existing = drives.get(letter)
        if p["state"] == "absent":
            if existing is not None:
                if p["path"] is not None and existing["path"].lower() != p["path"].lower():
                    mod.fail_json(f"did not delete mapped drive {letter}, the target path is pointing to a different "
                                  f"location at {existing['path']}")
                if not mod.check_mode:
                    drives.pop(letter)
                    mod.inv.session.connections.pop(letter + ":", None)
                    m.save()
                mod.result["changed"] = True
            return
        path = p["path"].rstrip("\\")
        if existing is not None and existing["path"].lower() == path.lower():
            return
        if existing is None and any(d["letter"].upper() == letter for d in m.state.get("disks", [])):
            mod.fail_json(f"failed to create mapped drive {letter}, this letter is in use and is pointing to a non UNC "
                          "path")
        share = m.share_of(path) if path.startswith("\\\\") else None
        if share is None:
            mod.fail_json(f"Failed to map {letter}: to '{path}' with WNetAddConnection2W(): The network path was not "
                          "found (Win32ErrorCode 53 - 0x00000035)")   # guess: Ansible.MappedDrive's wording
        problem = m.check_share_credentials(share, p["username"], p["password"])
        if problem:
            code = 5 if problem.startswith("Access") else 86
            mod.fail_json(f"Failed to map {letter}: to '{path}' with WNetAddConnection2W(): {problem.rstrip('.')} "
                          f"(Win32ErrorCode {code} - 0x{code:08X})")
        if not mod.check_mode:
            # The password is kept by the credential store, not with the mapping.
            drives[letter] = {"path": path, "username": p["username"]}
            mod.inv.session.connections[letter + ":"] = share
            mod.inv.session.connections[share] = share
            m.save()
        mod.result["changed"] = True
