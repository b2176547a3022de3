"""Imports are inert: Jinja in an export never runs, in the playbook or in the definition, and arrives verbatim."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.yaml.loader import AnsibleLoader
from ansible.template import Templar

from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import (
    definition_yaml,
    import_sequence,
    playbook_text,
)
from tests.unit.plugins.plugin_utils.importer_support import hostile_sequence, payloads

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
BIN = os.path.dirname(sys.executable)


@pytest.fixture
def hostile(tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    p = payloads(marks)
    return p, marks, import_sequence(hostile_sequence(p), "hostile.xml")


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def test_definition_keeps_every_field_verbatim(hostile):
    p, _marks, d = hostile
    text = json.dumps(d)
    # Each payload reached the definition unchanged, in each kind of field.
    for field in ("Group ", "Set ", "Second ", "Run ", "Script ", "Map ", "Apply ", "cmd /c echo ", "Win32_OS",
                  "HKLM\\SOFTWARE\\", "-A '", "Write-Output '"):
        assert any(field in s and any(v in s for v in p.values()) for s in strings(d)), field
    assert d["variables"][0] == {"name": "Payload", "value": p["expr"]}
    assert json.loads(text) == d


def load_trusted(text: str, tmp_path):
    """YAML loaded as include_vars / vars_files load it: every string may be a template, but !unsafe ones."""
    path = tmp_path / "loaded.yml"
    path.write_text(text)
    return DataLoader().load_from_file(str(path), cache="none", trusted_as_template=True)


def _template_everything(play_text: str, tsenv: dict, tmp_path) -> list[dict]:
    """Each task's name, arguments and vars templated and its `when` evaluated by Ansible's Templar, in a
    separate process where the collection's filters and tests load as in ansible-playbook."""
    path = tmp_path / "play.yml"
    path.write_text(play_text)
    proc = subprocess.run([sys.executable, "-m", "tests.unit.plugins.plugin_utils.importer_support", "template", str(path),
                           json.dumps(tsenv)], capture_output=True, text=True, cwd=ROOT, check=False, timeout=120,
                          env=_env(tmp_path))
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


def test_playbook_through_ansibles_templar_is_verbatim(hostile, tmp_path):
    p, marks, d = hostile
    tasks = _template_everything(playbook_text(d), {"Payload": p["expr"], "PayloadBlock": p["block"]}, tmp_path)
    assert not list(marks.iterdir()), "an export's Jinja was evaluated"
    rendered = [s for t in tasks for s in strings(t)]
    # Names, command lines, scripts, parameters, paths, keys and queries arrive as the export wrote them.
    for expected in (f"Set {p['expr']}", f"Second {p['block']}", f"Run {p['expr']} (disabled in the task sequence)",
                     f"cmd /c echo {p['expr']} {p['block']}", f"Write-Output '{p['expr']}'", f"-A '{p['block']}'",
                     f"C:\\{p['comment']}", f"HKLM:\\SOFTWARE\\{p['expr']}", f"\\\\srv\\{p['expr']}",
                     f"select * from Win32_OS where Caption = '{p['expr']}'", f"Group: Group {p['expr']}"):
        assert any(expected in s for s in rendered), expected
    by_name = {t["name"]: t for t in tasks}
    # The variable conditions compared the payload itself: equal, like '{%*', and not equal to 49.
    assert by_name[f"Set {p['expr']}"]["when"] is True
    assert by_name[f"Never {p['comment']}"]["when"] is False
    group_fact = next(t for t in tasks if "ansible.builtin.set_fact" in t)["ansible.builtin.set_fact"]
    assert list(group_fact.values()) == [True]


def test_definition_yaml_read_back_by_ansible_stays_inert(hostile, tmp_path):
    p, marks, d = hostile
    text = definition_yaml(d)
    loaded = load_trusted(text, tmp_path)
    secrets = {s["variable"]: f"value-of-{s['variable']}" for s in d["secrets"]}
    rendered = Templar(loader=DataLoader(), variables=secrets).template(loaded)
    assert not list(marks.iterdir())
    assert json.loads(json.dumps(rendered)) == d


def test_definition_yaml_keeps_secret_references_live(tmp_path):
    seq = ('<sequence version="3.10"><globalVarList><variable name="Pw" property="Pw" hidden="true">x</variable>'
           '<variable name="Plain" property="Plain">{{ tasksequence_secret_sequence_pw }}</variable></globalVarList>'
           "</sequence>")
    d = import_sequence(seq, "s.xml")
    ref = "{{ tasksequence_secret_sequence_pw }}"
    assert d["variables"] == [{"name": "Pw", "value": ref, "hidden": True}, {"name": "Plain", "value": ref}]
    loaded = load_trusted(definition_yaml(d), tmp_path)
    rendered = Templar(loader=DataLoader(), variables={"tasksequence_secret_sequence_pw": "s3cret"}).template(loaded)
    # The importer's own reference resolves; the same text copied from the export does not.
    assert rendered["variables"] == [{"name": "Pw", "value": "s3cret", "hidden": True}, {"name": "Plain", "value": ref}]


def test_yaml_comments_cannot_be_escaped():
    seq = ('<sequence version="3.00" name="x&#10;- hosts: all&#133;  tasks: []&#8232;y" description="d">'
           "</sequence>")
    text = playbook_text(import_sequence(seq, "ts.xml"))
    play = AnsibleLoader(text).get_single_data()
    assert len(play) == 1 and play[0]["name"].startswith("X\n- hosts: all")


def _env(tmp_path) -> dict:
    return dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".cache", "collections"),
                ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
                TASKSEQUENCE_WINDOWS_KEY_FILE=str(tmp_path / "controller.key"),
                PATH=BIN + os.pathsep + os.environ.get("PATH", ""))


@pytest.mark.slow
def test_generated_playbook_runs_on_localhost_without_evaluating_the_export(hostile, tmp_path):
    p, marks, _d = hostile
    d = import_sequence(hostile_sequence(p, host_checks=False), "hostile.xml")
    (tmp_path / "hostile.yml").write_text(playbook_text(d))
    play = tmp_path / "run.yml"
    # The generated playbook, then a play that saves the variables where the test reads them.
    play.write_text("- import_playbook: hostile.yml\n- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                    "    - ansible.builtin.copy: {content: '{{ tsenv | to_json }}', dest: '%s'}\n" % (tmp_path / "tsenv.json"))
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", "tasksequence_hosts=localhost", "-e", f"ansible_python_interpreter={sys.executable}",
                           str(play)],
                          capture_output=True, text=True, env=_env(tmp_path), cwd=tmp_path, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert not list(marks.iterdir()), "an export's Jinja was evaluated"
    tsenv = json.loads((tmp_path / "tsenv.json").read_text())
    assert tsenv["Payload"] == p["expr"] and tsenv["PayloadBlock"] == p["block"]
    assert tsenv["Copy"] == f"{p['expr']} {p['comment']}"     # %Payload% expanded by the step, not by Jinja
    assert tsenv["Block"] == p["block"] and "Wrong" not in tsenv
    assert tsenv["_SMSTSLastActionName"] == f"Second {p['block']}"


@pytest.mark.slow
def test_import_playbook_on_a_hostile_export(hostile, tmp_path):
    p, marks, _d = hostile
    source = tmp_path / "hostile.xml"
    source.write_text(hostile_sequence(p))
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), os.path.join(ROOT, "playbooks", "import_configmgr.yml"),
                           "-e", f"import_source={source}", "-e", f"import_dest={tmp_path / 'out'}"],
                          capture_output=True, text=True, env=_env(tmp_path), cwd=ROOT, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert not list(marks.iterdir())
    written = load_trusted((tmp_path / "out" / "hostile.sequence.yml").read_text(), tmp_path)
    rendered = Templar(loader=DataLoader(), variables={}).template(written)
    assert rendered["variables"][0]["value"] == p["expr"] and rendered["steps"][0]["group"] == f"Group {p['expr']}"
    assert not list(marks.iterdir())
