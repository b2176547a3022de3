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
