"""The ConfigMgr/MDT importer against the public corpus and a hand-made fixture."""

from __future__ import annotations

import collections
import html
import io
import json
import os
import re
import subprocess
import sys
import zipfile

import jsonschema
import pytest
import yaml

from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import (
    SequenceImportError,
    import_sequence,
    import_sequences,
    playbook_text,
    summary_text,
)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
CORPUS = os.environ.get("TASKSEQUENCE_CORPUS") or os.path.abspath(os.path.join(ROOT, "..", "shared", "corpus"))
FIXTURES = os.path.join(ROOT, "tests", "unit", "fixtures", "configmgr")
SCHEMA = json.load(open(os.path.join(ROOT, "plugins", "plugin_utils", "sequence.schema.json")))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
MALFORMED = "windows-admins-BuildCapture-Reference.xml"   # comments before <?xml ?>: refused unless lenient

CORPUS_FILES = sorted(
    os.path.join(d, f) for d in (os.path.join(CORPUS, "configmgr"), os.path.join(CORPUS, "mdt")) if os.path.isdir(d)
    for f in os.listdir(d)
)
if not CORPUS_FILES and os.environ.get("CI"):
    raise RuntimeError(f"the task sequence corpus is missing ({CORPUS}); CI must run the importer tests on it")
pytestmark = pytest.mark.skipif(not CORPUS_FILES, reason=f"no corpus at {CORPUS} (set TASKSEQUENCE_CORPUS)")


def raw_step_types(path: str) -> collections.Counter:
    """Step types counted straight from the file's text, independently of the importer."""
    data = open(path, "rb").read()
    if data[:4] == b"PK\x03\x04":
        z = zipfile.ZipFile(io.BytesIO(data))
        data = next(z.read(n) for n in z.namelist() if n.endswith("object.xml") and "TaskSequencePackage" in n)
    text = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8-sig")
    if "<INSTANCE" in text[:2000]:
        prop = re.search(r'<PROPERTY NAME="Sequence".*?</PROPERTY>', text, re.S).group(0)
        value = re.findall(r"<VALUE>(.*?)</VALUE>", prop, re.S)[-1]
        text = value[9:-3] if value.startswith("<![CDATA[") else html.unescape(value)
    counts = collections.Counter()
    for m in re.finditer(r"<(step|subtasksequence)\b([^>]*)>", text):
        t = re.search(r'\btype="([^"]*)"', m.group(2))
        counts[t.group(1) if t else "(untyped)"] += 1
    return counts


def load(path, lenient=None):
    lenient = os.path.basename(path) == MALFORMED if lenient is None else lenient
    return import_sequence(open(path, "rb").read(), os.path.basename(path), lenient=lenient)


@pytest.mark.parametrize("path", CORPUS_FILES, ids=os.path.basename)
def test_corpus_imports_with_the_files_own_counts(path):
    d = load(path)
    assert not list(VALIDATOR.iter_errors(d))
    expected = raw_step_types(path)
    assert d["import_summary"]["step_types"] == dict(expected)
    placeholders = len(d["import_summary"]["placeholders"])
    assert d["import_summary"]["imported"] + placeholders == sum(expected.values())
    print(f"\n| {os.path.basename(path)} | {sum(expected.values())} | {d['import_summary']['imported']} | {placeholders} |")


def test_malformed_file_refused_with_line_and_column():
    path = next(p for p in CORPUS_FILES if os.path.basename(p) == MALFORMED)
    with pytest.raises(SequenceImportError, match=r"Reference.xml, line 4, column 1: not well-formed XML"):
        load(path, lenient=False)


def walk(items):
    for item in items:
        yield item
        if "group" in item:
            yield from walk(item["steps"])


def test_fixture_round_trip_every_step_type_and_condition():
    d = load(os.path.join(FIXTURES, "all-steps.xml"))
    assert not list(VALIDATOR.iter_errors(d))
    text = json.dumps(d)
    for secret in ("do-not-copy-me", "should-never-be-read", "should-never-be-read-2", "secret-wifi"):
        assert secret not in text
    steps = {i["name"]: i for i in walk(d["steps"]) if "name" in i}
    group = d["steps"][0]
    assert group["group"] == "Apps" and group["continue_on_error"] is True
    assert group["conditions"] == {"any": [
        {"registry": {"key": "HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso", "operator": "equals", "value": "Ready",
                      "type": "REG_DWORD", "data": "1"}},
        {"none": [{"software": {"match": "any_version", "product_code": "{11111111-2222-3333-4444-555555555555}",
                                "upgrade_code": "{66666666-7777-8888-9999-000000000000}",
                                "product_name": "Contoso Agent", "version": "2.1.0"}}]}]}
    run = steps["Run agent setup"]
    assert run["module"] == "run_command_line" and run["timeout"] == 900 and run["retry_count"] == 2
    assert run["success_codes"] == [0, 3010, 1641]
    assert run["options"] == {"command_line": "setup.exe /quiet", "package_id": "PS100001",
                              "disable_wow64_redirection": True, "output_variable": "SetupOut",
                              "run_as_user": "CONTOSO\\svc",
                              "run_as_password": "{{ tasksequence_secret_run_agent_setup_run_as_password }}"}
    assert run["conditions"]["all"][0] == {"variable": {"name": "AgentLevel", "operator": "greater_equal", "value": "5"}}
    assert run["conditions"]["all"][1]["file"]["version_operator"] == "greater_equal"
    ps = steps["Inline script"]
    assert ps["disabled"] and ps["options"]["script"] == "Write-Output 'hello'"
    assert ps["options"]["execution_policy"] == "AllSigned" and ps["options"]["parameters"] == "-Name 'a b'"
    assert steps["Install apps"]["options"] == {"applications": ["Contoso Agent", "Contoso Tools"],
                                                "continue_on_install_error": True, "retry_count": 3}
    assert steps["Install package"]["options"] == {"package_id": "PS100002", "program_name": "Install"}
    assert steps["Set site"]["options"] == {"name": "Site", "value": "%SiteCode%-HQ"}
    dyn = steps["Dynamic"]["options"]["rules"][0]
    assert dyn["type"] == "location" and dyn["default_gateway"] == "192.0.2.1"
    assert dyn["variables"][1]["hidden"] is True
    # The four checks the SDK switches on by default (Not_Null), with its default values, as the fixture omits them.
    assert steps["Readiness"]["options"] == {"memory_mb": 4096, "cpu_speed_mhz": 800, "free_disk_mb": 25000,
                                             "os_type": "client", "ac_power": True}
    assert steps["Map share"]["options"]["password"].startswith("{{ tasksequence_secret_")
    # ContinueDownloadOnError: not in the fixture, the SDK's default (true).
    assert steps["Download"]["options"] == {"packages": ["PS100003", "PS100004"], "destination": "custom",
                                            "destination_path": "C:\\Content", "destination_variable": "Content",
                                            "continue_on_download_error": True}
    assert steps["Updates"]["options"] == {"target": "All", "use_cache": False}
    restart = steps["Restart"]
    assert restart["options"] == {"target": "HD", "message": "Restarting for updates", "message_timeout": 60}
    # ConfigMgr's padded platform versions in the form the host reports (10.00 is 10.0).
    assert restart["conditions"] == {"any": [{"os_version": {"architecture": "x64", "min_version": "10.0.0.0",
                                                             "max_version": "10.99.9999.9999", "platform": "Windows"}}]}
    assert steps["Apply OS"]["placeholder"]["reason"].endswith("(OS deployment)") and steps["Apply OS"]["disabled"]
    assert steps["Child"]["module"] is None and "PS100009" in steps["Child"]["placeholder"]["reason"]
    assert steps["Child"]["child_sequence"] == {"package_id": "PS100009"}
    assert {s["variable"] for s in d["secrets"]} >= {"tasksequence_secret_sequence_join_secret",
                                                     "tasksequence_secret_map_share_password"}
    assert d["variables"][1] == {"name": "JoinSecret", "value": "{{ tasksequence_secret_sequence_join_secret }}",
                                 "hidden": True}
    assert summary_text(d).startswith("all-steps.xml: 13 steps, 11 imported, 2 placeholders")


@pytest.mark.parametrize("doc,needle", [
    (b'<?xml version="1.0"?><!DOCTYPE sequence [<!ENTITY x "y">]><sequence>&x;</sequence>', "declares a DTD"),
    (b'<!DOCTYPE sequence SYSTEM "http://example.invalid/x.dtd"><sequence/>', "declares a DTD"),
    (b"<sequence><step></sequence>", "line 1, column 19: not well-formed XML: mismatched tag"),
    (b"<policy/>", "not a task sequence"),
])
def test_unsafe_or_wrong_documents_refused(doc, needle):
    with pytest.raises(SequenceImportError, match=re.escape(needle)):
        import_sequence(doc, "x.xml")


def test_zip_member_paths_are_never_used_for_files(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../evil/object.xml", "<sequence/>")
        z.writestr("SMS_TaskSequencePackage/ABC00001/object.xml",
                   '<INSTANCE CLASSNAME="SMS_TaskSequencePackage"><PROPERTY NAME="PackageID"><VALUE>ABC00001</VALUE>'
                   '</PROPERTY><PROPERTY NAME="Sequence"><VALUE><![CDATA[<sequence version="3.10"><step type="'
                   'SMS_TaskSequence_SetVariableAction" name="S"><defaultVarList><variable name="VariableName">A'
                   '</variable><variable name="VariableValue">1</variable></defaultVarList></step></sequence>]]>'
                   "</VALUE></PROPERTY></INSTANCE>")
    before = set(os.listdir(tmp_path.parent))
    d = import_sequence(buf.getvalue(), "x.zip")
    assert d["source"]["package_id"] == "ABC00001" and d["steps"][0]["options"] == {"name": "A", "value": "1"}
    assert set(os.listdir(tmp_path.parent)) == before


@pytest.mark.slow
def test_generated_playbooks_pass_syntax_check_and_lint(tmp_path):
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".cache", "collections"),
               PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    for path in [*CORPUS_FILES, os.path.join(FIXTURES, "all-steps.xml")]:
        out = tmp_path / (os.path.basename(path).rsplit(".", 1)[0] + ".yml")
        out.write_text(playbook_text(load(path)))
        proc = subprocess.run([os.path.join(bindir, "ansible-playbook"), "--syntax-check", "-i", "localhost,", str(out)],
                              capture_output=True, text=True, env=env, check=False, cwd=ROOT)
        assert proc.returncode == 0, f"{out.name}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    (tmp_path / ".ansible-lint").write_text("profile: production\noffline: true\n")
    proc = subprocess.run([os.path.join(bindir, "ansible-lint"), "--nocolor", *sorted(p.name for p in tmp_path.glob("*.yml"))],
                          capture_output=True, text=True, env=env, check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def walk_tasks(tasks):
    for task in tasks:
        yield task
        for key in ("block", "rescue", "always"):
            yield from walk_tasks(task.get(key) or [])


def test_generated_playbook_shape():
    text = playbook_text(load(os.path.join(FIXTURES, "all-steps.xml")))
    assert "tasksequence_secret_run_agent_setup_run_as_password" in text and "should-never-be-read" not in text
    play = yaml.safe_load(text.replace("!unsafe", ""))
    run = next(t for t in walk_tasks(play[0]["tasks"]) if t["name"] == "Run agent setup")
    ref = re.search(r"tsvar\((ts_c\d+)\.name, 'greater_equal', \1\.value\)", run["when"]).group(1)
    assert run["vars"][ref] == {"name": "AgentLevel", "value": "5"}   # data in vars, never in the expression
    assert "ansible.windows.win_reg_stat" in text
    # The file condition compares a version, which win_stat cannot report: the engine's own evaluation
    # (evaluate_conditions, CIM_DataFile on the host) reads it.
    check = next(t for t in walk_tasks(play[0]["tasks"]) if t["name"] == "Check the version of C:\\Tools\\agent.exe")
    leaf = check["tasksequence.windows.evaluate_conditions"]["conditions"]["file"]
    assert leaf["path"] == "C:\\Tools\\agent.exe" and leaf["version"]
    assert "Apply OS (placeholder, not run:" in text and "rescue:" in text


def _corpus(name: str) -> str:
    return next(p for p in CORPUS_FILES if os.path.basename(p) == name)


def test_multi_sequence_console_export_and_zipped_mdt_share():
    # Built here from corpus files (never copied into the repository).
    from tests.unit.plugins.plugin_utils.importer_support import console_zip, zip_bytes

    gather = open(_corpus("configmgr-hub-Gather-Light.xml"), "rb").read().decode("utf-8-sig")
    citrix = open(_corpus("configmgr-hub-IPU-Citrix-VDA-and-Windows-10.xml"), "rb").read().decode("utf-8-sig")

    def strip(text):   # CDATA holds no declaration
        return re.sub(r"^\s*<\?xml[^>]*\?>", "", text)

    export = console_zip({"PS100001": strip(gather), "PS100002": strip(citrix)})
    with pytest.raises(SequenceImportError, match=r"holds 2 task sequences.*all_sequences=true"):
        import_sequence(export, "two.zip")
    first, second = import_sequences(export, "two.zip")
    assert (first["source"]["package_id"], second["source"]["package_id"]) == ("PS100001", "PS100002")
    assert first["import_summary"]["step_types"] == dict(raw_step_types(_corpus("configmgr-hub-Gather-Light.xml")))
    members = {f"DeploymentShare/Control/{tsid}/ts.xml": open(_corpus(name), "rb").read() for tsid, name in
               (("TS01", "sbennell-TS01-ts.xml"), ("INSTALL-APPS", "technology-toolbox-INSTALL-APPS-ts.xml"))}
    share = zip_bytes({**members, "DeploymentShare/Scripts/ZTIGather.wsf": "x"})
    defs = import_sequences(share, "share.zip")
    assert [d["source"]["container"] for d in defs] == ["mdt-share", "mdt-share"]
    assert defs[0]["import_summary"]["step_types"] == dict(raw_step_types(_corpus("sbennell-TS01-ts.xml")))
    assert defs[1]["import_summary"]["step_types"] == dict(raw_step_types(_corpus("technology-toolbox-INSTALL-APPS-ts.xml")))
