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


FAILURE_PATTERN = r"""<sequence version="3.10">
  <group name="Install" continueOnError="true">
    <step type="SMS_TaskSequence_RunCommandLineAction" name="Fails" successCodeList="0">
      <defaultVarList><variable name="CommandLine" property="CommandLine">cmd.exe /c exit 5</variable></defaultVarList>
    </step>
    <step type="SMS_TaskSequence_RunCommandLineAction" name="Not after the failure" successCodeList="0">
      <defaultVarList>
        <variable name="CommandLine" property="CommandLine">cmd.exe /c echo x &gt; C:\Temp\after.txt</variable>
      </defaultVarList>
    </step>
  </group>
  <group name="Gather logs on failure">
    <condition><expression type="SMS_TaskSequence_VariableConditionExpression">
      <variable name="Operator">equals</variable><variable name="Value">false</variable>
      <variable name="Variable">_SMSTSLastActionSucceeded</variable></expression></condition>
    <step type="SMS_TaskSequence_RunCommandLineAction" name="Collect logs" successCodeList="0">
      <defaultVarList>
        <variable name="CommandLine"
          property="CommandLine">cmd.exe /c echo %_SMSTSLastActionName% %_SMSTSLastActionRetCode%&gt;C:\Temp\logs.txt</variable>
      </defaultVarList>
    </step>
  </group>
  <step type="SMS_TaskSequence_RunCommandLineAction" name="With a step setting" successCodeList="0">
    <defaultVarList>
      <variable name="CommandLine" property="CommandLine">cmd.exe /c echo [%GatherLocalOnly%] &gt; C:\Temp\setting.txt</variable>
      <variable name="GatherLocalOnly" property="GatherLocalOnly">true</variable>
    </defaultVarList>
  </step>
  <step type="SMS_TaskSequence_RunCommandLineAction" name="After the step setting" successCodeList="0">
    <defaultVarList>
      <variable name="CommandLine"
                property="CommandLine">cmd.exe /c echo [%GatherLocalOnly%] &gt; C:\Temp\after-setting.txt</variable>
    </defaultVarList>
  </step>
</sequence>"""


def test_failure_in_a_continue_on_error_group_runs_the_failure_branch(ansible, fleet, tmp_path):
    """ConfigMgr's "gather logs on failure": the failed step's _SMSTSLastActionSucceeded=false reaches the
    later group's condition, the rest of the failed group is skipped, the sequence goes on; a step setting
    (action variable) is in that step's environment only."""
    definition = import_sequence(FAILURE_PATTERN, "failure.xml")
    assert definition["steps"][2]["action_variables"] == {"GatherLocalOnly": "true"}
    play = tmp_path / "failure.yml"
    play.write_text(playbook_text(definition))
    proc = ansible.playbook(str(play), "-e", "tasksequence_hosts=all")
    assert "failed=0" in proc.stdout and "rescued=1" in proc.stdout
    for name in fleet.names:
        files = fleet.machine(name).state_snapshot()["files"]

        def read(path, files=files):
            return base64.b64decode(files[path]["content_b64"]).decode().strip()
        assert "c:\\temp\\after.txt" not in files          # the failed group ended at its failure
        assert read("c:\\temp\\logs.txt") == "Fails 5"  # the failure branch ran and saw the failed step
        assert read("c:\\temp\\setting.txt") == "[true]"    # the step setting, while its step runs
        assert read("c:\\temp\\after-setting.txt") == "[%GatherLocalOnly%]"   # ...and not after it
