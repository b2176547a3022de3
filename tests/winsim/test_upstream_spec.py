"""The simulated modules' argument checks come from the installed ansible.windows, read at run time."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from tests.winsim.machine import Machine
from tests.winsim.modules import HANDLERS, upstream
from tests.winsim.modules._base import Emulated
from tests.winsim.testkit import COLLECTIONS, run_module

INSTALLED = os.path.join(COLLECTIONS, "ansible_collections", "ansible", "windows")


@pytest.fixture
def machine(tmp_path):
    return Machine("win01", tmp_path / "host", reboot_seconds=0.3)


@pytest.fixture
def patched(tmp_path, monkeypatch):
    """A copy of the installed ansible.windows first on ANSIBLE_COLLECTIONS_PATH; edit(module, old, new) changes it."""
    root = tmp_path / "collections"
    dest = root / "ansible_collections" / "ansible" / "windows"
    shutil.copytree(INSTALLED, dest, ignore=shutil.ignore_patterns("tests", "docs", "changelogs"))
    monkeypatch.setenv("ANSIBLE_COLLECTIONS_PATH", str(root))

    def edit(relative: str, old: str, new: str) -> None:
        path = dest / relative
        text = path.read_text(encoding="utf-8-sig")
        assert old in text, f"{old!r} not in {relative}: the installed ansible.windows changed, adapt the test"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10_000_000))   # a new mtime

    edit.dest = dest
    return edit


def test_the_collection_is_found_through_ansible_config(patched):
    assert upstream.collection_dir() == str(patched.dest)


def test_a_new_choice_upstream_is_accepted(machine, patched):
    args = {"path": "C:\\Windows", "checksum_algorithm": "sha3"}
    out, _rc = run_module(machine, "win_stat", args)
    assert out["msg"] == "value of checksum_algorithm must be one of: md5, sha1, sha256, sha384, sha512. Got no match for: sha3"
    patched("plugins/modules/win_stat.ps1", "'sha384', 'sha512' )", "'sha384', 'sha512', 'sha3' )")
    out, _rc = run_module(machine, "win_stat", args)
    assert "checksum_algorithm" not in out.get("msg", "")


def test_an_option_made_required_upstream_is_required(machine, patched):
    out, _rc = run_module(machine, "win_command", {"cmd": "hostname"})
    assert out["rc"] == 0
    patched("plugins/modules/win_command.ps1", 'chdir = @{ type = "path" }', 'chdir = @{ type = "path"; required = $true }')
    out, rc = run_module(machine, "win_command", {"cmd": "hostname"})
    assert rc == 1 and out["msg"] == "missing required arguments: chdir"


def test_a_renamed_option_upstream(machine, patched):
    patched("plugins/modules/win_reg_stat.ps1", '-name "name" -type "str" -aliases "entry", "value"',
            '-name "property" -type "str" -aliases "entry", "value"')
    # legacy Parse-Args checks no unknown names: the renamed option is simply what Get-AnsibleParam reads now
    spec = upstream.spec_for(Emulated("win_reg_stat"))
    assert "property" in spec.options and "name" not in spec.options


def test_a_renamed_ansible_basic_option_upstream(machine, patched):
    assert run_module(machine, "win_stat", {"path": "C:\\Windows", "follow": True})[0]["stat"]["exists"]
    patched("plugins/modules/win_stat.ps1", "follow = @{ type = 'bool'; default = $false }",
            "follow_links = @{ type = 'bool'; default = $false }")
    out, rc = run_module(machine, "win_stat", {"path": "C:\\Windows", "follow": True})
    assert rc == 1 and out["msg"].startswith("Unsupported parameters for (ansible.windows.win_stat) module: follow. ")
    assert "follow_links" in out["msg"]


def test_a_renamed_option_the_emulation_refuses_is_reported(machine, patched):
    patched("plugins/modules/win_get_url.ps1", "checksum_url = @{ type = 'str' }", "checksum_uri = @{ type = 'str' }")
    out, rc = run_module(machine, "win_get_url", {"url": "https://x.example/a", "dest": "C:\\a"})
    assert rc == 1 and "win_get_url has no option(s) checksum_url any more" in out["msg"]


def test_a_fragment_change_in_a_module_util_is_seen(machine, patched):
    patched("plugins/module_utils/WebRequest.psm1", "http_agent = @{ type = 'str'; default = 'ansible-httpget' }",
            "http_agent = @{ type = 'str'; default = 'ansible-httpget'; choices = 'ansible-httpget', 'curl' }")
    out, rc = run_module(machine, "win_get_url", {"url": "https://x.example/a", "dest": "C:\\a", "http_agent": "wget"})
    assert rc == 1 and out["msg"].startswith("value of http_agent must be one of: ansible-httpget, curl.")


def test_a_sub_option_check_upstream(machine, patched):
    args = {"script": "# tasksequence.windows script: none", "sensitive_parameters": [{"name": "a", "username": "u"}]}
    out, _rc = run_module(machine, "win_powershell", args)
    assert out["msg"] == "parameters are required together: username, password found in sensitive_parameters"
    patched("plugins/modules/win_powershell.ps1", "required_together = @(, @('username', 'password'))", "")
    out, _rc = run_module(machine, "win_powershell", args)
    assert "required together" not in out.get("msg", "")


def test_every_emulated_module_reads_its_spec():
    for short, (emulated, _handler) in HANDLERS.items():
        spec = upstream.spec_for(emulated)
        assert spec.options, short
        for name in emulated.not_emulated:
            assert not spec.options[name].emulated


def test_the_not_emulated_refusal_still_names_the_option(machine):
    out, rc = run_module(machine, "win_package", {"path": "C:\\a.msi", "creates_service": "svc"})
    assert rc == 1 and out["msg"] == "simulated host: win_package option(s) creates_service are not emulated"
    out, rc = run_module(machine, "win_package", {"path": "C:\\a.msi", "creates_version": "1.0"})
    assert out["msg"] == "missing parameter(s) required by 'creates_version': creates_path"   # required_by, from .ps1


def test_where_the_spec_is_not_the_ps1_literal_it_says_so():
    assert any("provider.choices" in note and "DOCUMENTATION" in note for note in upstream.upstream_spec("win_package").notes)
    assert any("setup.ps1:" in note for note in upstream.upstream_spec("setup").notes)
    assert upstream.upstream_spec("win_copy").legacy
    assert any(note.startswith("src.required") for note in upstream.upstream_spec("win_copy").notes)


# the PowerShell literal parser -----------------------------------------------------------------------------

def test_powershell_array_rules():
    text = """@{
        a = @( , @('x', 'y') )      # unary comma keeps the inner array
        b = @(@('x', 'y'))          # @() unrolls a single array
        c = 'p', "q"
        d = @(
            @("s", "t", @("u")),
            @("v", 1, @("w", "x"), $true)
        )
        e = @{ f = $null; g = 0x10 }; h = "a`tb"
        'quoted key' = 'it''s'
        i = $thing.Keys + "auto"
        j = "expand $me"
    }"""
    got = upstream.parse_hashtable(text, text.index("@{"))
    assert got["a"] == [["x", "y"]] and got["b"] == ["x", "y"] and got["c"] == ["p", "q"]
    assert got["d"] == [["s", "t", ["u"]], ["v", 1, ["w", "x"], True]]
    assert got["e"] == {"f": None, "g": 16} and got["h"] == "a\tb" and got["quoted key"] == "it's"
    assert isinstance(got["i"], upstream.Unreadable) and got["i"] == '$thing.Keys + "auto"'
    assert isinstance(got["j"], upstream.Unreadable)


def test_get_ansibleparam_calls():
    ps1 = """$params = Parse-Args -arguments $args -supports_check_mode $true
$a = Get-AnsibleParam -obj $params -name "a" -type "bool" -default $false
$b = Get-AnsibleParam $params "b" -type "str" -validateset "x", "y" -aliases "bee" -failifempty $true
$t = Get-AnsibleParam $params "_ansible_remote_tmp" -type "path" -default $env:TMP
$c = Get-AnsibleParam -obj $params -name "c" -failifempty ($mode -in @("p", "q"))
"""
    spec = upstream._legacy_spec(ps1, [])
    assert spec["supports_check_mode"] is True
    assert spec["options"]["a"] == {"type": "bool", "default": False}
    assert spec["options"]["b"] == {"type": "str", "choices": ["x", "y"], "aliases": ["bee"], "required": True}
    assert set(spec["options"]) == {"a", "b", "c"}
    assert isinstance(spec["options"]["c"]["required"], upstream.Unreadable)


# cross-check with DOCUMENTATION ------------------------------------------------------------------------------

# Where the installed .ps1 and its DOCUMENTATION disagree; the .ps1 is what runs, so it wins.
KNOWN_DOC_DIFFERENCES = {
    ("win_copy", "names"): "content/decrypt/local_follow/remote_src are the action plugin's; _copy_mode, files, "
                           "directories, _original_basename are internal to the module",
    ("win_file", "names"): "_original_basename is internal (the action plugin's)",
    ("win_shell", "names"): "DOCUMENTATION calls the free form free_form, the module reads _raw_params",
    ("win_get_url", "url_timeout.type"): "the module's doc redefines it as str; WebRequest.psm1's fragment says int",
    ("win_get_url", "url_timeout.default"): "the module's doc redefines it without the fragment's default 30",
}


def _differences(module: str) -> dict:
    spec = upstream.upstream_spec(module).spec["options"]
    docs = upstream.documentation(module)["options"]
    found = {}
    if set(spec) != set(docs):
        found[(module, "names")] = (sorted(set(spec) - set(docs)), sorted(set(docs) - set(spec)))
    for name in set(spec) & set(docs):
        mine, doc = spec[name], docs[name]
        for key, default in (("type", "str"), ("choices", None), ("default", None), ("required", False)):
            a, b = mine.get(key, default), doc.get(key, default)
            if key == "choices" and a is not None and b is not None:
                a, b = sorted(map(str, a)), sorted(map(str, b))
            if a != b and not (key == "type" and {a, b} == {"list"}):
                found[(module, f"{name}.{key}")] = (a, b)
    return found


def test_ps1_specs_agree_with_documentation_or_the_difference_is_known():
    unexplained = {}
    for short in HANDLERS:
        for key, diff in _differences(short).items():
            if key not in KNOWN_DOC_DIFFERENCES:
                unexplained[key] = diff
    assert not unexplained, f"new .ps1/DOCUMENTATION differences upstream: {unexplained}"
    stale = [k for k in KNOWN_DOC_DIFFERENCES if k not in {d for s in HANDLERS for d in _differences(s)}]
    assert not stale, f"differences no longer there: {stale}"


def test_the_spec_files_are_the_installed_ones():
    # the loader reads what Ansible's loader finds, not a path of its own
    files = upstream.upstream_spec("win_command").files
    assert all(re.search(r"ansible_collections[\\/]ansible[\\/]windows[\\/]", f) for f in files)
