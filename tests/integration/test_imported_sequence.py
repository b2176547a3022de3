"""An imported ConfigMgr sequence (Run Command Line, Run PowerShell Script, Set Task Sequence Variable)
runs against simulated hosts as the generated playbook."""

from __future__ import annotations

import base64
import os

import pytest

from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import import_sequence, playbook_text

pytestmark = pytest.mark.integration
FIXTURE = os.path.join(os.path.dirname(__file__), "..", "unit", "fixtures", "configmgr", "runnable.xml")


def test_imported_sequence_runs(ansible, fleet, tmp_path):
    definition = import_sequence(open(FIXTURE, "rb").read(), "runnable.xml")
    assert definition["import_summary"]["imported"] == 6 and not definition["import_summary"]["placeholders"]
    play = tmp_path / "imported.yml"
    play.write_text(playbook_text(definition))
    proc = ansible.playbook(str(play), "-e", "tasksequence_hosts=all")
    assert "failed=0" in proc.stdout
    for name in fleet.names:
        files = fleet.machine(name).state_snapshot()["files"]
        content = base64.b64decode(files["c:\\temp\\imported.txt"]["content_b64"])
        assert content == b"hello-world \r\n"     # %Greeting% expanded by the Set step, then by the command
        assert base64.b64decode(files["c:\\temp\\psout.txt"]["content_b64"]).startswith(b"ps says hello-world")
        assert "c:\\temp\\wrong.txt" not in files  # its condition was false


def test_imported_hostile_sequence_runs_inert(ansible, fleet, tmp_path):
    """Jinja in an export's names, command lines, variable values and conditions reaches the host as text."""
    marks = tmp_path / "marks"
    marks.mkdir()
    payload = "{{ lookup('pipe', 'touch " + str(marks) + "/PWNED') }}"
    attr = payload.replace("'", "&apos;")
    xml = (
        '<sequence version="3.10"><globalVarList>'
        f'<variable name="Payload" property="Payload">{payload}</variable></globalVarList>'
        f'<group name="Group {attr}"><condition><expression type="SMS_TaskSequence_VariableConditionExpression">'
        '<variable name="Operator">equals</variable><variable name="Variable">Payload</variable>'
        f'<variable name="Value">{payload}</variable></expression></condition>'
        f'<step type="SMS_TaskSequence_RunCommandLineAction" name="Echo {attr}" successCodeList="0"><defaultVarList>'
        '<variable name="CommandLine" property="CommandLine" hidden="true">cmd.exe /c echo %Payload% '
        f'{payload}&gt; C:\\Temp\\hostile.txt</variable></defaultVarList></step></group></sequence>')
    definition = import_sequence(xml, "hostile.xml")
    play = tmp_path / "hostile.yml"
    play.write_text(playbook_text(definition))
    proc = ansible.playbook(str(play), "-e", "tasksequence_hosts=all")
    assert "failed=0" in proc.stdout and not list(marks.iterdir())
    for name in fleet.names:
        files = fleet.machine(name).state_snapshot()["files"]
        content = base64.b64decode(files["c:\\temp\\hostile.txt"]["content_b64"]).decode()
        assert content.startswith(f"{payload} {payload}")   # expanded by the step, never by Jinja
