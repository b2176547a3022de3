"""win_package on the simulated host: MSI (metadata on the simulated file) and registry (exe) providers."""

from __future__ import annotations

import hashlib
import uuid

from tests.winsim import programs
from tests.winsim.machine import FsError
from tests.winsim.modules._base import Emulated, ScriptThrow
from tests.winsim.modules.commands import _escape_arg
from tests.winsim.modules.web import download

# win_package.ps1's $spec plus WebRequest.psm1's fragment (upstream.py); provider's choices are code
# there ($providerInfo.Keys + "auto"), so they come from DOCUMENTATION.
SPEC = Emulated("win_package", not_emulated=(
    "creates_service", "url_method", "follow_redirects", "headers", "client_cert",
    "client_cert_password", "force_basic_auth", "url_username", "url_password", "use_default_credential", "proxy_url",
    "proxy_username", "proxy_password", "proxy_use_default_credential"))
UNINSTALL = "Microsoft\\Windows\\CurrentVersion\\Uninstall"


def _registry_path(machine, product_id: str) -> str | None:
    """The registry provider's test: an Uninstall key for the id (HKLM/HKCU, 64/32-bit views)."""
    for hive in ("HKLM", "HKCU"):
        for key in ("SOFTWARE", "SOFTWARE\\Wow6432Node"):
            path = f"{hive}:\\{key}\\{UNINSTALL}\\{product_id}"
            if machine.reg_key(path) is not None:
                return path
    return None


def run(mod) -> None:
    p, m = mod.params, mod.machine
    if p["provider"] in ("msix", "msp"):
        mod.fail_json(f"simulated host: win_package provider '{p['provider']}' is not emulated")
    mod.result["reboot_required"] = False
    arguments = p["arguments"]
    if isinstance(arguments, list):
        arguments = " ".join(_escape_arg(str(a)) for a in arguments)
    path, product_id, state = p["path"], p["product_id"], p["state"]
    temp_file = None
    ctx = programs.Context(m, mod.env(), p["chdir"] or m.user_env(mod.inv.run_as)["USERPROFILE"], mod.inv.run_as,
                           mod.cancel, session=mod.inv.session)
    try:
        if path and path.lower().startswith("http"):
            if not (product_id and state == "present" and _installed(m, None, product_id, p["provider"])[0]):
                temp_file = f"{m.user_env(mod.inv.run_as)['TEMP']}\\{uuid.uuid4().hex}-{path.rstrip('/').rsplit('/', 1)[-1]}"
                download(mod, path, temp_file)
                path = temp_file
        elif path and not ctx.exists(path) and not mod.check_mode:
            mod.fail_json(f"the file at the path '{path}' cannot be reached")
        installed, provider, found_id = _installed(m, path and ctx.abspath(path), product_id, p["provider"])
        if p["creates_path"]:
            installed = m.fs_exists(p["creates_path"])
            if p["creates_version"] and installed:
                installed = _creates_version(m, p["creates_path"], p["creates_version"])
        changed = (state == "present") != installed
        mod.result["rc"] = 0
        if changed and not mod.check_mode:
            if state == "present" and path:
                data = ctx.read(path)
                mod.result["checksum"] = hashlib.new(p["checksum_algorithm"], data).hexdigest().upper()
                if p["checksum"] and p["checksum"] != mod.result["checksum"]:
                    mod.fail_json(f"The checksum for {path} did not match '{p['checksum']}', it was "
                                  f"'{mod.result['checksum']}'")
            if provider == "msi":
                action = ["/i", ctx.abspath(path)] if state == "present" else ["/x", found_id]
                _msiexec(mod, ctx, action, arguments, p["log_path"])
            elif state == "present":
                _invoke(mod, ctx, _escape_arg(ctx.abspath(path)) + (f" {arguments}" if arguments else ""), p["log_path"])
            else:
                _uninstall(mod, ctx, found_id, arguments, path)
        if state == "absent" and product_id is None and p["path"] and p["path"].lower().startswith("http"):
            mod.fail_json("Unable to find Product ID from the URL path. Please specify product_id when using "
                          "state=absent")
        mod.result["changed"] = changed
    finally:
        if temp_file:
            m.fs_remove(temp_file)


def _creates_version(machine, path: str, wanted: str) -> bool:
    """Get-InstalledStatus: `$CreatesVersion -eq [Version]::new(FileMajorPart, ...)` (win_package.ps1:564-572).

    The left operand is a [String], so the file's version is compared as its four-part text.
    """
    if not machine.fs_isfile(path):
        raise ScriptThrow("creates_path must be a file not a directory when creates_version is set")
    # guess: a file without a version resource has FileVersionInfo parts 0 (a simulated file's 'version' record
    # stands for its resource)
    raw = str(machine.fs_get(path).get("version") or "0.0.0.0")
    parts = ([int(x) for x in raw.split(".")[:4] if x.isdigit()] + [0, 0, 0, 0])[:4]
    return wanted.strip().lower() == ".".join(map(str, parts))


def _installed(machine, path: str | None, product_id: str | None, provider: str) -> tuple[bool, str, str | None]:
    """(installed, provider, product id) as Get-InstalledStatus decides them."""
    rec = machine.fs_get(path) if path else None
    if path and rec is not None and provider in ("auto", "msi") and "msi" in rec:
        code = rec["msi"]["product_code"]
        product = machine.find_product(code)
        return bool(product and machine.state["products"][product].get("msi", True)), "msi", code
    if path and provider == "msi":
        raise FsError(f"simulated host: '{path}' is not an MSI the simulated host knows (give its file an 'msi' record)")
    if path and rec is not None and path.lower().endswith(".msi") and "msi" not in rec:
        raise FsError(f"simulated host: '{path}' is an .msi without product metadata (give its file an 'msi' record)")
    if not path and product_id and provider in ("auto", "msi"):
        product = machine.find_product(product_id)
        if product and machine.state["products"][product].get("msi", product.startswith("{")):
            return True, "msi", product
        if provider == "msi":
            return False, "msi", product_id
    return _registry_path(machine, product_id) is not None if product_id else False, "registry", product_id


def _tmpdir(mod) -> str:
    """$module.Tmpdir: a folder under the remote temp folder for this run."""
    base = mod.inv.args.get("_ansible_remote_tmp") or mod.machine.user_env(mod.inv.run_as)["TEMP"]
    base = mod.expand_path(base)
    path = f"{base}\\ansible-moduletmp-{uuid.uuid4().int % 10**18}-{uuid.uuid4().hex[:8]}"
    mod.machine.fs_mkdir(path)
    return path


def _msiexec(mod, ctx, action: list, arguments: str | None, log_path: str | None) -> None:
    tmp = None
    try:
        if not log_path:
            tmp = _tmpdir(mod)
            log_path = f"{tmp}\\msiexec.log"
        windir = ctx.getenv("SystemRoot") or "C:\\Windows"
        parts = [f"{windir}\\System32\\msiexec.exe", *action, "/L*V", log_path, "/qn", "/norestart"]
        line = " ".join(_escape_arg(x) for x in parts) + (f" {arguments}" if arguments else "")
        _invoke(mod, ctx, line, log_path)
    finally:
        if tmp:
            mod.machine.fs_remove(tmp)


def _invoke(mod, ctx, command_line: str, log_path: str | None) -> None:
    """Invoke-Executable: run, compare the rc with expected_return_code, 3010 means reboot_required."""
    try:
        res = programs.start(ctx, command_line)
    except programs.ProgramNotFound as e:
        mod.result["rc"] = e.code
        mod.fail_json(f"Exception calling \"CreateProcess\" with \"7\" argument(s): \"CreateProcessW() failed "
                      f"({str(e).rstrip('.')}, Win32ErrorCode {e.code} - 0x{e.code:08X})\"")
    rc = res.rc
    mod.result["rc"] = rc
    if rc not in mod.params["expected_return_code"]:
        mod.result.update(stdout=res.stdout.decode("utf-8", "replace"), stderr=res.stderr.decode("utf-8", "replace"))
        if log_path and mod.machine.fs_isfile(log_path):
            data = mod.machine.fs_read(log_path)
            mod.result["log"] = data.decode("utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8", "replace")
        mod.fail_json(f"unexpected rc from '{command_line}': see rc, stdout, and stderr for more details")
    mod.result["failed"] = False
    if rc == 3010:
        mod.result["reboot_required"] = True


def _uninstall(mod, ctx, product_id: str, arguments: str | None, path: str | None) -> None:
    """The registry provider's removal: the path again, or the product's (Quiet)UninstallString."""
    if path:
        _invoke(mod, ctx, _escape_arg(ctx.abspath(path)) + (f" {arguments}" if arguments else ""), None)
        return
    key = _registry_path(mod.machine, product_id)
    quiet = mod.machine.reg_value(key, "QuietUninstallString")
    plain = mod.machine.reg_value(key, "UninstallString")
    if not (quiet or plain):
        mod.fail_json(f"Failed to find registry uninstall string at registry path '{key}'")
    command = str((quiet or plain)["data"])
    if command.startswith("%") or command.startswith('"%'):
        from tests.winsim.payload import expand_env

        command = expand_env(command, ctx.env)
    _invoke(mod, ctx, command + (f" {arguments}" if arguments else ""), None)
