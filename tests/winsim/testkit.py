"""Helpers for the simulated host's tests: real ansible-core payloads, stdin, machines. Test fixture."""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import sys
import threading

from tests.winsim.machine import Machine

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
WINDOWS_MODULES = os.path.join(COLLECTIONS, "ansible_collections", "ansible", "windows", "plugins", "modules")
POWERSHELL = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "


class Stdin:
    """The protocol layer's StdinReader, for tests without a server."""

    def __init__(self, data: bytes = b""):
        self.data = data

    def read_all(self, timeout=None) -> bytes:
        return self.data


def encoded(script: str, *, strict: bool = False, preserve_rc: bool = False) -> str:
    """A command line as ansible-core's PowerShell shell plugin encodes a script."""
    from ansible.plugins.loader import shell_loader

    shell = shell_loader.get("powershell")
    return shell._encode_script(script, strict_mode=strict, preserve_rc=preserve_rc)


def raw_encoded(script: str) -> str:
    """A command line encoding the script as it is (win_reboot's _execute_command does this)."""
    return POWERSHELL + base64.b64encode(script.encode("utf-16-le")).decode()


# Ansible's collection finder, needed to build a module's payload (its module_utils are resolved as
# ansible_collections.* through it), changes the whole process's import machinery: sys.meta_path,
# sys.path_hooks, AnsibleCollectionConfig and the ansible_collections.* modules. Left installed, it
# breaks the unit tests that run later in the same process (their action plugins then look up
# collection metadata the finder never loaded). So it is installed only for as long as it is used,
# and everything it changed is put back as it was.
_saved_import_state: list[tuple] = []


def _is_collection_module(name: str) -> bool:
    return name == "ansible_collections" or name.startswith("ansible_collections.")


def _import_state() -> tuple:
    from ansible.utils.collection_loader._collection_config import AnsibleCollectionConfig

    return (list(sys.meta_path), list(sys.path_hooks), dict(sys.path_importer_cache),
            AnsibleCollectionConfig._collection_finder,
            {k: v for k, v in sys.modules.items() if _is_collection_module(k)})


def _put_back(state: tuple) -> None:
    from ansible.utils.collection_loader._collection_config import AnsibleCollectionConfig

    meta_path, path_hooks, importer_cache, finder, modules = state
    sys.meta_path[:] = meta_path
    sys.path_hooks[:] = path_hooks
    sys.path_importer_cache.clear()
    sys.path_importer_cache.update(importer_cache)
    AnsibleCollectionConfig._collection_finder = finder
    for name in [k for k in sys.modules if _is_collection_module(k) and k not in modules]:
        del sys.modules[name]
    sys.modules.update(modules)


def _finder_installed() -> bool:
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    return any(isinstance(f, _AnsibleCollectionFinder) for f in sys.meta_path)


def _collection_loader() -> None:
    """Install Ansible's collection finder (for ``ansible_collections.ansible.windows`` imports) until
    ``restore_import_state``; tests/winsim/conftest.py calls that after every test."""
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    if _finder_installed():
        return
    _saved_import_state.append(_import_state())
    _AnsibleCollectionFinder(paths=[COLLECTIONS])._install()


def restore_import_state() -> None:
    """Put the import machinery back as it was before ``_collection_loader`` installed the finder."""
    while _saved_import_state:
        _put_back(_saved_import_state.pop())


@contextlib.contextmanager
def collection_finder():
    """A fresh Ansible collection finder for the ``with`` block only; the import machinery as before
    afterwards. Fresh even when one is installed: a finder set up for other paths, or
    ansible_collections.* packages imported before it (plain sys.path), lack the metadata the
    payload builder reads ("collection metadata was not loaded")."""
    from ansible.utils.collection_loader._collection_config import AnsibleCollectionConfig
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    state = _import_state()
    for name in [k for k in sys.modules if _is_collection_module(k)]:
        del sys.modules[name]
    AnsibleCollectionConfig._collection_finder = None
    _AnsibleCollectionFinder(paths=[COLLECTIONS])._install()
    try:
        yield
    finally:
        _AnsibleCollectionFinder._remove()
        _put_back(state)


# Kept for callers that clear it (it was a functools.cache).
_collection_loader.cache_clear = restore_import_state


def module_args(args: dict, name: str, *, check_mode: bool = False) -> dict:
    """The module args with what ActionBase._update_module_args adds."""
    return {**args, "_ansible_check_mode": check_mode, "_ansible_no_log": False, "_ansible_debug": False,
            "_ansible_diff": False, "_ansible_verbosity": 0, "_ansible_version": "2.19.14",
            "_ansible_module_name": name, "_ansible_syslog_facility": "LOG_USER",
            "_ansible_selinux_special_fs": ["fuse"], "_ansible_string_conversion_action": "warn",
            "_ansible_socket": None, "_ansible_shell_executable": "/bin/sh", "_ansible_keep_remote_files": False,
            "_ansible_tmpdir": None, "_ansible_remote_tmp": "%TEMP%", "_ansible_ignore_unknown_opts": False,
            "_ansible_target_log_info": None, "_ansible_tracebacks_for": []}


def module_payload(module: str, args: dict | None = None, *, become: tuple | None = None, environment: dict | None = None,
                   check_mode: bool = False, async_timeout: int = 0) -> bytes:
    """The exec payload ansible-core 2.19 sends on stdin for an ansible.windows module."""
    from ansible.executor.powershell import module_manifest

    with collection_finder():
        return _module_payload(module_manifest, module, args, become=become, environment=environment,
                               check_mode=check_mode, async_timeout=async_timeout)


def _module_payload(module_manifest, module: str, args: dict | None, *, become: tuple | None, environment: dict | None,
                    check_mode: bool, async_timeout: int) -> bytes:
    path = os.path.join(WINDOWS_MODULES, f"{module}.ps1")
    become_plugin = None
    if become:
        from ansible.plugins.loader import become_loader

        become_plugin = become_loader.get("runas")
        become_plugin.set_options(direct={"become_user": become[0], "become_pass": become[1]})
    env = dict(environment or {})
    if async_timeout:
        env.setdefault("ANSIBLE_ASYNC_DIR", "~\\.ansible_async")
    with open(path, "rb") as f:
        data = f.read()
    return module_manifest._create_powershell_wrapper(
        name=f"ansible_collections.ansible.windows.plugins.modules.{module}", module_data=data, module_path=path,
        module_args=module_args(args or {}, f"ansible.windows.{module}", check_mode=check_mode), environment=env,
        async_timeout=async_timeout, become_plugin=become_plugin, substyle="powershell", task_vars={},
        profile="legacy")


def core_script_payload(name: str, params: dict, input_lines: list[bytes] | None = None) -> tuple[str, bytes]:
    """(command line, stdin) of one of ansible-core's own scripts, as the winrm plugin sends it."""
    from ansible.executor.powershell.module_manifest import _bootstrap_powershell_script

    script, stdin = _bootstrap_powershell_script(name, params, has_input=input_lines is not None)
    line = encoded(script, strict=name == "winrm_fetch_file.ps1")
    if input_lines is not None:
        stdin += b"".join(base64.b64encode(chunk) + b"\r\n" for chunk in input_lines)
    return line, stdin


def bootstrap_line() -> str:
    from ansible.executor.powershell.module_manifest import _get_powershell_script

    return encoded(_get_powershell_script("bootstrap_wrapper.ps1").decode())


def run(machine: Machine, line: str, stdin: bytes = b"", user: str = "Administrator"):
    return machine.execute(line, Stdin(stdin), user=user, cancel=threading.Event())


def run_module(machine: Machine, module: str, args: dict | None = None, **kwargs) -> tuple[dict, int]:
    """Run an ansible.windows module through the real payload; (result, exit code)."""
    import json

    res = run(machine, bootstrap_line(), module_payload(module, args, **kwargs), user=kwargs.pop("user", "Administrator")
              if "user" in kwargs else "Administrator")
    return json.loads(res.stdout), res.rc


def run_playbook(inventory: str, playbook: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    """A real ansible-playbook against simulated hosts, with this checkout's configuration."""
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
               PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run([os.path.join(bindir, "ansible-playbook"), "-i", inventory, playbook, *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
