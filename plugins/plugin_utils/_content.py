# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Content on the host for the catalog steps: where it goes, how it gets there, how it is detected.

Internal to this collection: no compatibility promise.

All host work is done by ansible.windows' own modules and action plugins:

* content from a controller path: the ``ansible.windows.win_copy`` *action* (run through the
  action loader, so its query mode compares SHA-1s on the host and sends only what differs);
* from an HTTP(S) URL: ``win_get_url`` on the host, with the catalog's checksum and ``force: false``
  (a file already there with that checksum is not downloaded again);
* from a UNC path: ``win_copy`` with ``remote_src`` (the host copies; only changed files);
* detection: ``win_package`` in check mode (MSI product code; a file's version through
  ``creates_path`` / ``creates_version``), ``win_reg_stat`` (registry values, an MSI's
  ``DisplayVersion``), ``win_stat`` (a file exists).

Connect To Network Folder's connections are kept in the ``tsenv_network_folders`` fact (the
password sealed like a hidden variable); ``reconnect_network_folders`` makes one again inside
the process of a later step that names its drive letter or share (see the module's docs).
"""

from __future__ import annotations

import contextlib
import ntpath
import os
import re
import time
import typing as t
import urllib.parse

from ansible.errors import AnsibleActionFail
from ansible.plugins.loader import become_loader

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _catalog, _secrets
from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import PACKAGES_FACT, StepAction

NETWORK_FOLDERS_FACT = "tsenv_network_folders"
LAST_DOWNLOAD_LOCATION = "_SMSTSLastContentDownloadLocation"
WORKING_DIRECTORY = "C:\\_SMSTaskSequence"   # ConfigMgr's default _SMSTSMDataPath on the system drive
# guess: the client's cache default (%WinDir%\ccmcache); the real client names its cache folders itself.
CLIENT_CACHE = "C:\\Windows\\ccmcache"
DEFAULT_RETRY_COUNT, DEFAULT_RETRY_DELAY = 2, 15     # SMSTSDownloadRetryCount / SMSTSDownloadRetryDelay
UNINSTALL_KEYS = ("HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
                  "HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall")
# win_package needs a product_id to answer "is it there?" from creates_path alone; nothing has this id.
FILE_PROBE_ID = "tasksequence.windows-file-detection"


class ContentError(Exception):
    """One package or application could not be put on the host (the step decides what follows)."""


class ContentStep(StepAction):
    """A step that reads the content catalog: it is checked before anything reaches the host."""

    NEEDS_CATALOG = True

    def run(self, tmp=None, task_vars=None):
        self._vars = task_vars or {}
        return super().run(tmp, task_vars)

    def load_catalog(self) -> _catalog.Catalog:
        raw = self._vars.get(_catalog.VARIABLE)
        if raw is not None:
            raw = self._templar.template(raw)
        return _catalog.load(raw)

    def check_args(self, args, env):
        self.catalog = self.load_catalog() if self.NEEDS_CATALOG else None
        self.check_step_args(args, env)

    def check_step_args(self, args, env) -> None:
        """Step-specific checks (the catalog is loaded)."""

    # host calls ---------------------------------------------------------------------------------

    def module(self, name: str, module_args: dict, task_vars: dict, *, check_mode: bool | None = None,
               sensitive: bool = False) -> dict:
        """One ansible.windows module run; ``check_mode`` forces it on or off for this call only."""
        saved = self._task.check_mode
        if check_mode is not None:
            self._task.check_mode = check_mode
        try:
            return self.run_module(name, module_args, task_vars, sensitive=sensitive)
        finally:
            self._task.check_mode = saved


# where content goes ------------------------------------------------------------------------------

def working_directory(env) -> str:
    return (env.get("_SMSTSMDataPath") or WORKING_DIRECTORY).rstrip("\\")


def destination_folder(kind: str, custom: str | None, package_id: str, env) -> str:
    """ConfigMgr's destinations: working directory, client cache, or a custom path; the ID appended."""
    if kind == "working_directory":
        root = working_directory(env) + "\\Packages"
    elif kind == "client_cache":
        root = CLIENT_CACHE
    else:
        root = (custom or "").rstrip("\\")
    return f"{root}\\{package_id}"


def application_folder(env, app: str, deployment_type: str) -> str:
    return f"{working_directory(env)}\\Applications\\{_safe(app)}\\{_safe(deployment_type)}"


def _safe(name: str) -> str:
    return re.sub(r"[\\/:*?\"<>|]", "_", name).strip(" .") or "_"


def url_file_name(source: dict) -> str:
    if source.get("file_name"):
        return source["file_name"]
    path = urllib.parse.urlsplit(source["url"]).path.rstrip("/")
    return urllib.parse.unquote(path.rsplit("/", 1)[-1]) or "download"


# getting it there --------------------------------------------------------------------------------

def transfer(step: ContentStep, source: dict, folder: str, task_vars: dict, env,
             folders: list[dict]) -> dict:
    """Put a source's content in ``folder`` on the host: {changed, how, ...}; ContentError on failure."""
    if source["path"]:
        src = source["path"]
        local = step._find_needle("files", src)   # as win_copy finds it: role / playbook files folders
        if os.path.isdir(local):
            local = local.rstrip("/") + "/"   # the folder's content goes into the package folder
        args = {"src": local, "dest": folder + "\\"}
        res = step.upstream_action("ansible.windows.win_copy", args, task_vars)
        _raise_failed(res, f"copying {src} from the controller to {folder}")
        return {"changed": bool(res.get("changed")), "how": "win_copy", "source": src}
    if source["unc"]:
        src = source["unc"].rstrip("\\") + "\\"
        args = {"src": src, "dest": folder + "\\", "remote_src": True}
        with network_credentials(step, folders, source["unc"]):
            res = step.upstream_action("ansible.windows.win_copy", args, task_vars)
        _raise_failed(res, f"copying {source['unc']} to {folder} on the host")
        return {"changed": bool(res.get("changed")), "how": "win_copy remote_src", "source": source["unc"]}
    res = step.module("ansible.windows.win_file", {"path": folder, "state": "directory"}, task_vars)
    _raise_failed(res, f"creating {folder}")
    changed = bool(res.get("changed"))
    dest = f"{folder}\\{url_file_name(source)}"
    args = {"url": source["url"], "dest": dest, "checksum": source["checksum"].lower(),
            "checksum_algorithm": source["checksum_algorithm"], "force": False}
    retries = _int_variable(env, "SMSTSDownloadRetryCount", DEFAULT_RETRY_COUNT)
    delay = _int_variable(env, "SMSTSDownloadRetryDelay", DEFAULT_RETRY_DELAY)
    for attempt in range(retries + 1):
        res = step.module("ansible.windows.win_get_url", args, task_vars)
        if not res.get("failed") or "checksum" in str(res.get("msg", "")).lower() or attempt == retries:
            break   # a checksum mismatch is the content's fault: downloading it again gives the same
        time.sleep(delay)
    _raise_failed(res, f"downloading {source['url']} to {dest}")
    return {"changed": changed or bool(res.get("changed")), "how": "win_get_url", "source": source["url"],
            "checksum": res.get("checksum_dest")}


def _int_variable(env, name: str, default: int) -> int:
    value = env.get(name)
    try:
        return max(int(value), 0) if value not in (None, "") else default
    except ValueError:
        raise AnsibleActionFail(f"{name}: '{value}' is not a whole number.") from None


def _raise_failed(res: dict, what: str) -> None:
    if res.get("failed"):
        raise ContentError(f"{what} failed: {res.get('msg') or 'no reason given'}")


# detection -----------------------------------------------------------------------------------------

def detect(step: ContentStep, detection: dict, task_vars: dict, evidence: list[str]) -> bool:
    """Whether the detection method finds the software; each clause's finding goes in ``evidence``."""
    kind, body = next(iter(detection.items()))
    if kind == "all":
        # ConfigMgr's "and": stop at the first clause that is false.
        return all(detect(step, clause, task_vars, evidence) for clause in body)
    if kind == "any":
        return any(detect(step, clause, task_vars, evidence) for clause in body)
    if kind == "msi":
        return _detect_msi(step, body, task_vars, evidence)
    if kind == "file":
        return _detect_file(step, body, task_vars, evidence)
    return _detect_registry(step, body, task_vars, evidence)


def _probe(step: ContentStep, module_args: dict, task_vars: dict, what: str) -> bool:
    """win_package in check mode with state=absent: 'changed' means it would remove it, so it is there."""
    res = step.module("ansible.windows.win_package", {"state": "absent", **module_args}, task_vars, check_mode=True)
    if res.get("failed"):
        raise ContentError(f"detecting {what} failed: {res.get('msg')}")
    return bool(res.get("changed"))


def _detect_msi(step, body: dict, task_vars: dict, evidence: list[str]) -> bool:
    code = body["product_code"]
    if not _probe(step, {"product_id": code}, task_vars, f"MSI {code}"):
        evidence.append(f"MSI {code}: not installed")
        return False
    if body["version"] is None:
        evidence.append(f"MSI {code}: installed")
        return True
    found = None
    for root in UNINSTALL_KEYS:
        res = step.module("ansible.windows.win_reg_stat", {"path": f"{root}\\{code}", "name": "DisplayVersion"},
                          task_vars)
        if res.get("exists"):
            found = str(res.get("value"))
            break
    ok = found is not None and _compare_versions(found, body["version_operator"], body["version"])
    evidence.append(f"MSI {code}: installed, version {found or 'unknown'} "
                    f"{'matches' if ok else 'does not match'} {body['version_operator']} {body['version']}")
    return ok


def _detect_file(step, body: dict, task_vars: dict, evidence: list[str]) -> bool:
    path = body["path"]
    if body["version"] is None:
        res = step.module("ansible.windows.win_stat", {"path": path, "get_checksum": False}, task_vars)
        if res.get("failed"):
            raise ContentError(f"detecting {path} failed: {res.get('msg')}")
        stat = res.get("stat") or {}
        ok = bool(stat.get("exists")) and not stat.get("isdir")
        evidence.append(f"file {path}: {'exists' if ok else 'not found'}")
        return ok
    # win_stat returns no file version; win_package's creates_version reads it (FileVersionInfo, equality).
    # win_package compares the text of a four-part System.Version: 2.1 is written 2.1.0.0 there.
    version = ".".join(str(n) for n in _catalog.version_tuple(body["version"]))
    ok = _probe(step, {"product_id": FILE_PROBE_ID, "creates_path": path, "creates_version": version},
                task_vars, f"file {path}")
    evidence.append(f"file {path}: {'version ' + body['version'] if ok else 'not found at version ' + body['version']}")
    return ok


def _detect_registry(step, body: dict, task_vars: dict, evidence: list[str]) -> bool:
    res = step.module("ansible.windows.win_reg_stat", {"path": body["key"], "name": body["value"]}, task_vars)
    if res.get("failed"):
        raise ContentError(f"detecting {body['key']}\\{body['value']} failed: {res.get('msg')}")
    exists = bool(res.get("exists"))
    where = f"registry {body['key']} {body['value']!r}"
    operator = body["operator"]
    if operator in ("exists", "not_exists"):
        ok = exists == (operator == "exists")
        evidence.append(f"{where}: {'exists' if exists else 'absent'}")
        return ok
    if not exists:
        evidence.append(f"{where}: absent")
        return False
    value = res.get("value")
    value = value[0] if isinstance(value, list) and len(value) == 1 else value
    ok = compare(str(value), operator, body["data"], body["data_type"])
    evidence.append(f"{where}: {value!r} {'matches' if ok else 'does not match'} {operator} {body['data']!r}")
    return ok


def _compare_versions(found: str, operator: str, wanted: str) -> bool:
    return compare(found, operator, wanted, "version")


def compare(found: str, operator: str, wanted: str, data_type: str) -> bool:
    left: t.Any
    right: t.Any
    if data_type == "version":
        if not re.match(r"^\s*\d+(\.\d+)*\s*$", found):
            return False
        left, right = _catalog.version_tuple(found), _catalog.version_tuple(wanted)
    elif data_type == "integer":
        try:
            left, right = int(found), int(wanted)
        except ValueError:
            return False
    else:
        left, right = found.lower(), wanted.lower()   # ConfigMgr compares strings case-insensitively
    return {"equals": left == right, "not_equals": left != right, "less": left < right, "less_equal": left <= right,
            "greater": left > right, "greater_equal": left >= right}[operator]


# requirements --------------------------------------------------------------------------------------

def unmet_requirements(requirements: dict | None, hardware: dict) -> list[str]:
    """What the host lacks, from the hardware inventory (empty list: all met)."""
    if not requirements:
        return []
    unmet = []
    os_ = hardware.get("os") or {}
    version = str(os_.get("version") or "")
    if requirements["os_min_version"] and _catalog.version_tuple(version) < _catalog.version_tuple(
            requirements["os_min_version"]):
        unmet.append(f"OS version {version} is below {requirements['os_min_version']}")
    if requirements["os_max_version"] and _catalog.version_tuple(version) > _catalog.version_tuple(
            requirements["os_max_version"]):
        unmet.append(f"OS version {version} is above {requirements['os_max_version']}")
    arch = str(os_.get("architecture") or "")
    if requirements["architecture"] and not arch.startswith(requirements["architecture"]):
        unmet.append(f"OS architecture is {arch}, not {requirements['architecture']}-bit")
    if requirements["memory_mb"] is not None and int(hardware.get("memory_mb") or 0) < requirements["memory_mb"]:
        unmet.append(f"memory {hardware.get('memory_mb')} MB is below {requirements['memory_mb']} MB")
    if requirements["free_disk_mb"] is not None and int(hardware.get("system_drive_free_mb") or 0) < \
            requirements["free_disk_mb"]:
        unmet.append(f"free disk {hardware.get('system_drive_free_mb')} MB is below {requirements['free_disk_mb']} MB")
    return unmet


# package locations ---------------------------------------------------------------------------------

def known_locations(task_vars: dict) -> dict:
    locations = task_vars.get(PACKAGES_FACT) or {}
    return dict(locations) if isinstance(locations, dict) else {}


def base_variable_list(env, base: str, digits: int) -> list[tuple[str, str]]:
    """[(variable, value)] of <base>01 / <base>001, ... up to the first missing number (ConfigMgr's rule)."""
    found = []
    index = 1
    while index < 10 ** digits:
        name = f"{base}{index:0{digits}d}"
        value = env.get(name)
        if value is None:
            break
        found.append((name, value))
        index += 1
    return found


# network folders -----------------------------------------------------------------------------------

def network_folders(task_vars: dict) -> list[dict]:
    folders = task_vars.get(NETWORK_FOLDERS_FACT) or []
    return [f for f in folders if isinstance(f, dict) and f.get("path")] if isinstance(folders, list) else []


def _password(folder: dict) -> str | None:
    token = folder.get("password")
    return _secrets.unseal(f"{NETWORK_FOLDERS_FACT} {folder['path']}", token) if token else None


def _mentions(folder: dict, *texts: str | None) -> bool:
    letter = folder.get("drive_letter") or ""
    for text in texts:
        if not text:
            continue
        if letter and re.search(rf"(?i)(?<![A-Za-z0-9]){re.escape(letter[0])}:", text):
            return True
        if folder["path"].lower() in text.lower():
            return True
    return False


def reconnect_network_folders(task_vars: dict, cmd: str, chdir: str | None) -> tuple[str, str | None, dict]:
    """(command, chdir, extra environment) that connect the recorded network folders the command uses.

    A WinRM task is its own logon session, so a drive Connect To Network Folder mapped is gone
    by the next task. When a command line or its start folder names a recorded drive letter or
    share, the command runs as ``cmd.exe /d /s /c "net use ... && <command>"`` in its own process,
    the password reaching net.exe through an environment variable (never in the command text).
    """
    used = [f for f in network_folders(task_vars) if _mentions(f, cmd, chdir)]
    if not used:
        return cmd, chdir, {}
    environment: dict = {}
    parts = []
    for index, folder in enumerate(used, start=1):
        letter = folder.get("drive_letter") or ""
        words = ["net", "use"] + ([letter] if letter else []) + [f'"{folder["path"]}"']
        password = _password(folder)
        if folder.get("account"):
            variable = f"TSNetworkFolderPassword{index}"
            environment[variable] = password or ""
            words += [f'"%{variable}%"', f'"/user:{folder["account"]}"']
        words.append("/persistent:no")
        parts.append(" ".join(words) + " >nul")
    if chdir and any(_mentions(f, chdir) for f in used):
        # The folder exists only once net use has run: CreateProcess could not start in it.
        parts.append(f'cd /d "{chdir}"')
        chdir = None
    wrapped = 'cmd.exe /d /s /c "' + " && ".join([*parts, cmd]) + '"'
    return wrapped, chdir, environment


@contextlib.contextmanager
def network_credentials(step: StepAction, folders: list[dict], unc: str):
    """Reach a share with its recorded account: runas become with logon_type=new_credentials.

    The module runs as the WinRM user; only its outbound connections use the share's account
    (Ansible.Become's LOGON32_LOGON_NEW_CREDENTIALS), as Connect To Network Folder's connection would.
    """
    folder = next((f for f in folders if unc.lower().startswith(f["path"].lower()) and f.get("account")), None)
    if folder is None:
        yield
        return
    previous = step._connection.become
    plugin = become_loader.get("runas")
    plugin.set_options(direct={"become_user": folder["account"], "become_pass": _password(folder) or "",
                               "become_flags": "logon_type=new_credentials logon_flags=netcredentials_only"})
    step._connection.set_become_plugin(plugin)
    try:
        yield
    finally:
        step._connection.set_become_plugin(previous)


def windows_join(folder: str, name: str) -> str:
    return name if re.match(r"^([A-Za-z]:\\|\\\\)", name) else ntpath.join(folder, name)
