"""The emulated modules return what the installed ansible.windows RETURN documentation says.

For each run below, every RETURN key whose ``returned:`` condition holds must be there with the
documented type, and every key returned must be documented (or explained). A condition is
decided from its clauses: ``always``, ``success``, ``changed``/``change occurred``, ``failure``,
and the run's own ``facts`` (clause text -> truth, written from the run's setup, not from its
output). A clause nobody can decide fails the test unless listed in UNDECIDABLE with a reason.
"""

from __future__ import annotations

import re

import pytest

from tests.winsim.machine import Machine
from tests.winsim.modules import HANDLERS, upstream
from tests.winsim.testkit import run_module

SEED = {
    "files": {
        "C:\\Data\\a.txt": {"content": "hello"},
        "C:\\Installers\\tool.msi": {"msi": {"product_code": "{D1D1D1D1-0000-4000-8000-0000000000AA}", "name": "Tool"}},
        "C:\\Installers\\broken.msi": {"msi": {"product_code": "{D1D1D1D1-0000-4000-8000-0000000000AB}", "rc": 1603}},
    },
    "web": {"https://files.contoso.example/a.txt": {"content": "web"}},
    "registry": {"HKLM:\\SOFTWARE\\Contoso": {"Ver": {"type": "REG_SZ", "data": "1.0"}}},
}
COMMON = {"changed", "failed", "msg", "invocation", "warnings", "deprecations", "skipped", "exception"}

# (module, key): why the test cannot decide, or why the documentation does not apply to what the module returns.
UNDECIDABLE = {
    ("win_command", "msg"): "documented 'always' (type bool), but win_command.ps1 sets msg only when skipping or failing",
    ("win_command", "stdout_lines"): "added on the controller by ansible-core's ActionBase, never by the module",
    ("win_command", "stderr_lines"): "added on the controller by ansible-core's ActionBase, never by the module",
    ("win_shell", "msg"): "documented 'always' (type bool), but win_shell.ps1 sets msg only when skipping or failing",
    ("win_shell", "stdout_lines"): "added on the controller by ansible-core's ActionBase, never by the module",
    ("win_copy", "backup_file"): "'if backup=yes': the run does not back up",
    ("win_package", "log"): "only for an MSI whose install fails with a log_path the module reads back",
    ("slurp", "source"): "documented, but slurp.ps1:14-19 returns only content and encoding (as the emulation)",
}
# Keys the module returns although RETURN does not list them, with the source line that sets them.
UNDOCUMENTED: dict = {}
USED: set = set()


def decide(clause: str, out: dict, facts: dict) -> bool | None:
    text = clause.strip().lower()
    if text in ("always", ""):
        return True
    if text == "success":
        return not out.get("failed")
    if text in ("changed", "change occurred"):
        return bool(out.get("changed"))
    if text.startswith("failure") or text.startswith("installation/uninstallation failure"):
        return bool(out.get("failed"))
    return facts.get(text)


def holds(returned: str | None, out: dict, facts: dict) -> bool | None:
    results = [decide(c, out, facts) for c in re.split(r",\s*(?:and\s+)?|\s+and\s+", returned or "always") if c.strip()]
    if any(r is False for r in results):
        return False
    return None if any(r is None for r in results) else True


TYPES = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict, "complex": dict, "float": (int, float)}


def check(module: str, out: dict, facts: dict | None = None, docs: dict | None = None, prefix: str = "") -> list[str]:
    facts = {k.lower(): v for k, v in (facts or {}).items()}
    docs = upstream.documentation(module)["return"] if docs is None else docs
    problems = []
    for key, doc in docs.items():
        name = prefix + key
        if (module, name) in UNDECIDABLE:
            USED.add((module, name))
            continue
        want = holds(doc.get("returned"), out, facts)
        if want is None:
            problems.append(f"{name}: cannot decide returned={doc.get('returned')!r} (add a fact or a reason)")
            continue
        if key not in out:
            if want:
                problems.append(f"{name}: missing (returned: {doc.get('returned')})")
            continue
        kind = TYPES.get(doc.get("type", "str"))
        value = out[key]
        if kind is not None and value is not None and not (isinstance(value, kind)
                                                           and not (kind is int and isinstance(value, bool))):
            problems.append(f"{name}: {type(value).__name__}, documented {doc.get('type')}")
        if isinstance(doc.get("contains"), dict) and isinstance(value, dict):
            problems += check(module, value, facts, doc["contains"], prefix=name + ".")
    for key in out:
        name = prefix + key
        if key not in docs and not (not prefix and key in COMMON) and (module, name) not in UNDOCUMENTED:
            problems.append(f"{name}: returned but not in RETURN")
    return problems


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    return Machine("win01", tmp_path_factory.mktemp("host"), reboot_seconds=0.3, seed=SEED)


STAT_FILE = {"path exists": True, "path exist": True, "path is a file": True, "file exists": True,
             "get_checksum == true checksum_algorithm specified is supported": True, "file is not a link": True,
             "get_size == true": True, "the path is a symbolic link or junction point": False,
             "file is a directory": False, "isshared == true": False}

RUNS = [
    ("win_ping", {}, {}),
    ("win_command", {"cmd": "cmd.exe /c echo hi"}, {}),
    ("win_command", {"cmd": "cmd.exe /c exit 3"}, {}),
    ("win_shell", {"_raw_params": "echo hi", "executable": "cmd"}, {}),
    ("win_stat", {"path": "C:\\Data\\a.txt"}, STAT_FILE),
    ("win_stat", {"path": "C:\\Nope"}, {"path exists": False, "path exist": False}),
    ("win_reg_stat", {"path": "HKLM:\\SOFTWARE\\Contoso", "name": "Ver"},
     {"path/property exists": True, "property specified": True, "path exists": True, "property not specified": False}),
    ("win_reg_stat", {"path": "HKLM:\\SOFTWARE\\Contoso"},
     {"path/property exists": True, "property specified": False, "path exists": True, "property not specified": True}),
    ("win_package", {"path": "C:\\Installers\\tool.msi"},
     {"checksum_algorithm is set": True, "package exists": True, "not check mode": True}),
    ("win_package", {"path": "C:\\Installers\\broken.msi"},
     {"checksum_algorithm is set": True, "package exists": True, "not check mode": True,
      "failure during install or uninstall": True}),
    ("win_get_url", {"url": "https://files.contoso.example/a.txt", "dest": "C:\\Data\\web.txt"},
     {"dest has been downloaded": True, "force=true or dest did not exist": True}),
    ("win_copy", {"_copy_mode": "remote", "src": "C:\\Data\\a.txt", "dest": "C:\\Data\\copy.txt"},
     {"src is a file": True}),
    ("slurp", {"src": "C:\\Data\\a.txt"}, {}),
    ("win_mapped_drive", {"letter": "Z", "state": "absent"}, {}),
    ("win_powershell", {"script": "Get-Date"}, {}),
]
NOT_CHECKED = {
    "setup": "facts, checked key by key against setup.ps1 in test_modules.py (setup has no RETURN)",
    "win_updates": "RETURN is action/win_updates.py's result, built on the controller from the module's poll records",
    "win_file": "no RETURN documentation",
}


@pytest.mark.parametrize(("module", "args", "facts"), RUNS, ids=[f"{m}-{i}" for i, (m, _a, _f) in enumerate(RUNS)])
def test_result_follows_return_docs(machine, module, args, facts):
    out, _rc = run_module(machine, module, args)
    assert "Unhandled exception" not in out.get("msg", ""), out
    assert check(module, out, facts) == []


def test_every_emulated_module_is_checked_or_explained():
    assert set(HANDLERS) == {m for m, _a, _f in RUNS} | set(NOT_CHECKED)


def test_no_reason_is_stale(tmp_path):
    machine = Machine("win01", tmp_path, reboot_seconds=0.3, seed=SEED)
    USED.clear()
    for module, args, facts in RUNS:
        check(module, run_module(machine, module, args)[0], facts)
    stale = [k for k in UNDECIDABLE if k not in USED]
    assert not stale, f"whitelisted RETURN keys no run looks at: {stale}"


def test_the_checker_itself_catches_a_wrong_type_and_a_missing_key():
    docs = {"a": {"type": "int", "returned": "always"}, "b": {"type": "str", "returned": "success, x"}}
    assert check("m", {"a": "1"}, {"x": True}, docs) == ["a: str, documented int", "b: missing (returned: success, x)"]
    assert check("m", {"a": True, "c": 1}, {"x": False}, docs) == ["a: bool, documented int",
                                                                   "c: returned but not in RETURN"]
