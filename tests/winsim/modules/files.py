"""win_stat, win_file, win_copy (its action plugin's query/single/explode/remote modes) and slurp."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import ntpath
import time
import zipfile

from tests.winsim.machine import FsError
from tests.winsim.modules._base import Emulated

IMAGE_TIME = 1767225600.0

STAT_SPEC = Emulated("win_stat")


def win_stat(mod) -> None:
    p, m = mod.params, mod.machine
    mod.result["stat"] = {"exists": False}
    rec = m.fs_get(p["path"])
    if rec is None:
        return
    is_dir = rec["type"] == "directory"
    attributes = rec.get("attributes") or ("Directory" if is_dir else "Archive")
    names = [a.strip() for a in attributes.split(",")]
    stat = {
        "exists": True, "attributes": attributes, "isarchive": "Archive" in names, "isdir": is_dir,
        "ishidden": "Hidden" in names, "isjunction": False, "islnk": False, "isreadonly": "ReadOnly" in names,
        "isreg": not is_dir, "isshared": False, "nlink": 1, "hlnk_targets": [],
        "creationtime": float(rec.get("ctime", IMAGE_TIME)), "lastaccesstime": float(rec.get("mtime", IMAGE_TIME)),
        "lastwritetime": float(rec.get("mtime", IMAGE_TIME)), "path": rec["path"],
        "filename": ntpath.basename(rec["path"].rstrip("\\")) or rec["path"],
        "owner": "BUILTIN\\Administrators",   # guess: files of an administrator's session
    }
    if is_dir:
        if p["get_size"]:
            stat["size"] = m.fs_size(p["path"])
    else:
        stat["extension"] = ntpath.splitext(rec["path"])[1]
        if p["get_checksum"]:
            stat["checksum"] = hashlib.new(p["checksum_algorithm"], m.fs_read(p["path"])).hexdigest()
        if p["get_size"]:
            stat["size"] = int(rec.get("size", 0))
    mod.result["stat"] = stat


FILE_SPEC = Emulated("win_file")   # legacy: Get-AnsibleParam calls


def win_file(mod) -> None:
    p, m = mod.params, mod.machine
    path, state = p["path"], p["state"]
    if m.fs_isdir(path) and p["_original_basename"] is not None:
        path = ntpath.join(path, p["_original_basename"])
    mod.result = {"changed": False}
    if state == "touch":
        if not mod.check_mode:
            if m.fs_exists(path):
                m.fs_get(path)["mtime"] = time.time()
                m.save()
            else:
                m.fs_write(path, b"")
        mod.result["changed"] = True
    if m.fs_exists(path):
        is_dir = m.fs_isdir(path)
        if state == "absent":
            if not mod.check_mode:
                m.fs_remove(path)
            mod.result["changed"] = True
        elif state == "directory" and not is_dir:
            mod.fail_json(f"path {path} is not a directory")
        elif state == "file" and is_dir:
            mod.fail_json(f"path {path} is not a file")
        return
    if state is None:
        state = "file" if ntpath.basename(path) else "directory"
    if state == "directory":
        try:
            if not mod.check_mode:
                m.fs_mkdir(path)
        except FsError as e:
            mod.fail_json(str(e))
        mod.result["changed"] = True
    elif state == "file":
        mod.fail_json(f"path {path} will not be created")


COPY_SPEC = Emulated("win_copy")   # legacy: Get-AnsibleParam calls


def _sha1(m, path: str) -> str:
    return hashlib.sha1(m.fs_read(path)).hexdigest()


def win_copy(mod) -> None:
    p, m = mod.params, mod.machine
    mode, dest = p["_copy_mode"], p["dest"]
    if not dest:
        mod.fail_json("Get-AnsibleParam: Missing required argument: dest")
    if mode in ("explode", "single") and not p["src"]:
        mod.fail_json("Get-AnsibleParam: Missing required argument: src")
    if p["backup"] and mode in ("single", "remote"):
        mod.fail_json("simulated host: win_copy option(s) backup are not emulated")
    mod.result = {"changed": False}
    if mode == "query":
        _query(mod, dest)
    elif mode == "single":
        src = p["src"]
        if not m.fs_isfile(src):
            mod.fail_json(f"Cannot copy src file: '{src}' as it does not exist")
        remote = dest
        if dest.endswith(("\\", "/")) or m.fs_isdir(dest):
            remote = ntpath.join(dest, p["_original_basename"] or "")
        _check_parent(mod, dest, remote)
        m.fs_write(remote, m.fs_read(src), extra=_metadata(m.fs_get(src)))
        mod.result["changed"] = True
    elif mode == "explode":
        _explode(mod, p["src"], dest)
    else:
        _remote(mod, p["src"], dest)


def _metadata(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if k in ("program", "msi", "version")}


def _check_parent(mod, dest: str, remote: str) -> None:
    m = mod.machine
    parent = ntpath.dirname(remote)
    if m.fs_isfile(parent):
        mod.fail_json(f"object at destination parent dir '{parent}' is currently a file")
    if not m.fs_isdir(parent):
        if dest == remote:
            mod.fail_json(f"Destination directory '{parent}' does not exist")
        if not mod.check_mode:
            m.fs_mkdir(parent)


def _query(mod, dest: str) -> None:
    """Which of the controller's files and folders differ from the host's (the action plugin's first call)."""
    p, m = mod.params, mod.machine
    changed_files, changed_dirs = [], []
    for f in p["files"] or []:
        filename = f.get("dest") or ""
        filepath = ntpath.join(dest, filename)
        if m.fs_isdir(filepath):
            filepath = ntpath.join(filepath, ntpath.basename(str(f.get("src", "")).replace("/", "\\")))
        if m.fs_isfile(filepath):
            if p["force"] and _sha1(m, filepath) != f.get("checksum"):
                changed_files.append(f)
        elif m.fs_isdir(filepath):
            mod.fail_json(f"cannot copy file to dest '{filepath}': object at path is already a directory")
        else:
            changed_files.append(f)
    for d in p["directories"] or []:
        dirpath = ntpath.join(dest, d.get("dest") or "")
        if m.fs_isfile(ntpath.dirname(dirpath)):
            mod.fail_json(f"cannot copy folder to dest '{dirpath}': object at parent directory path is already a file")
        if m.fs_isfile(dirpath):
            mod.fail_json(f"cannot copy folder to dest '{dirpath}': object at path is already a file")
        if not m.fs_isdir(dirpath):
            changed_dirs.append(d)
    mod.result.update(files=changed_files, directories=changed_dirs, symlinks=[])


def _explode(mod, src: str, dest: str) -> None:
    """The action plugin's zip of several files (entry names base64 of their relative paths)."""
    m = mod.machine
    if not m.fs_isfile(src):
        mod.fail_json(f"Cannot expand src zip file: '{src}' as it does not exist")
    try:
        archive = zipfile.ZipFile(io.BytesIO(m.fs_read(src)))
    except zipfile.BadZipFile:
        mod.fail_json(f"simulated host: '{src}' is not a zip file")
    if not mod.check_mode:
        m.fs_mkdir(dest)
    for entry in archive.infolist():
        name = entry.filename.rstrip("/")
        try:
            decoded = base64.b64decode(name).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            mod.fail_json(f"invalid base64 archive name '{name}'")
        target = ntpath.join(dest, decoded.replace("/", "\\"))
        if mod.check_mode:
            continue
        if entry.is_dir():
            m.fs_mkdir(target)
        else:
            m.fs_mkdir(ntpath.dirname(target))
            m.fs_write(target, archive.read(entry))
    mod.result["changed"] = True


def _remote(mod, src: str, dest: str) -> None:
    """remote_src: the copy happens on the host."""
    m = mod.machine
    mod.result.update(src=src, dest=dest)
    if not src or not m.fs_exists(src):
        mod.fail_json(f"Cannot copy src file: '{src}' as it does not exist")
    if m.fs_isdir(src):
        mod.result["operation"] = "folder_copy"
        root = src.rstrip("\\/")
        target_root = dest if src.endswith(("\\", "/")) else ntpath.join(dest, ntpath.basename(root))
        if not src.endswith(("\\", "/")):
            mod.result["dest"] = target_root
        prefix = root.lower() + "\\"
        with m.lock:
            items = [r for k, r in m.state["files"].items() if k.startswith(prefix.lower())]
        for rec in sorted(items, key=lambda r: r["path"].lower()):
            target = ntpath.join(target_root, rec["path"][len(prefix):])
            if rec["type"] == "directory":
                if not m.fs_isdir(target):
                    mod.result["changed"] = True
                    if not mod.check_mode:
                        m.fs_mkdir(target)
            elif _copy_file(mod, rec["path"], target):
                mod.result["changed"] = True
        return
    mod.result["operation"] = "file_copy"
    mod.result["original_basename"] = ntpath.basename(src)
    remote = dest
    if dest.endswith(("\\", "/")) or m.fs_isdir(dest):
        remote = ntpath.join(dest, ntpath.basename(src))
    mod.result["dest"] = remote
    _check_parent(mod, dest, remote)
    if _copy_file(mod, src, remote):
        mod.result["changed"] = True
    mod.result["checksum"] = _sha1(m, src)
    mod.result["size"] = m.fs_get(remote)["size"] if m.fs_isfile(remote) else None


def _copy_file(mod, source: str, dest: str) -> bool:
    m = mod.machine
    if m.fs_isdir(dest):
        mod.fail_json(f"cannot copy file from '{source}' to '{dest}': dest is already a folder")
    if m.fs_isfile(dest) and (not mod.params["force"] or _sha1(m, dest) == _sha1(m, source)):
        return False
    if not mod.check_mode:
        m.fs_mkdir(ntpath.dirname(dest))
        m.fs_write(dest, m.fs_read(source), extra=_metadata(m.fs_get(source)))
    return True


SLURP_SPEC = Emulated("slurp")   # legacy: Get-AnsibleParam calls


def slurp(mod) -> None:
    src, m = mod.params["src"], mod.machine
    mod.result = {"changed": False}
    if m.fs_isfile(src):
        mod.result.update(content=base64.b64encode(m.fs_read(src)).decode(), encoding="base64")
    elif m.fs_isdir(src):
        mod.fail_json(f"Path {src} is a directory")
    else:
        mod.fail_json(f"Path {src} is not found")
