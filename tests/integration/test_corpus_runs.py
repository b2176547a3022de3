"""Real corpus sequences (non-OS, with content / install / restart steps) imported and run to the end on
simulated Windows hosts, as the generated playbook and through the role, with a content catalog this test
writes: installs happen once, a second run changes nothing.

The corpus (``../shared/corpus`` or ``TASKSEQUENCE_CORPUS``) is read in place, never copied here.

Which corpus sequences, and why (from ``scripts/import_configmgr.py --table --lenient``):

* garytown-AppMappingAppInstalls (MCM00029): a disabled Download Package Content, a Run PowerShell
  Script, Install Application from the base variable ``App``. Runs to the end.
* garytown-LanguagePackModule-TS (MEM00022): Run PowerShell Script, Set Dynamic Variables, Set Task
  Sequence Variable, Install Package from the base variable ``PRECACHELANG``, an OSD-only group with a
  Restart Computer. Stops at its first script that needs ConfigMgr's TS environment COM object (below).
* technology-toolbox INSTALL-APPS (MDT): one MDT "Install Application" step, which is MDT's
  ``ZTIApplications.wsf`` from the deployment share. Stops there (below).

Not picked: Gather-Light (no content, install, restart or update step); the IPU, MBR2GPT, build and
capture, master deployment and MDT client sequences (operating system deployments).
"""

from __future__ import annotations

import base64
import json
import os

import pytest
import yaml

from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import import_sequence, playbook_text
from tests.integration.conftest import ROOT, Runner
from tests.winsim.fleet import Fleet

pytestmark = pytest.mark.integration

CORPUS = os.environ.get("TASKSEQUENCE_CORPUS") or os.path.abspath(os.path.join(ROOT, "..", "shared", "corpus"))
if not os.path.isdir(CORPUS) and os.environ.get("CI"):
    raise RuntimeError(f"the task sequence corpus is missing ({CORPUS}); CI must run the corpus sequences")

MARKERS = "C:\\ProgramData\\CorpusTest"   # where the test's installers write their marker files


def installer(name: str) -> str:
    """A .cmd installer the simulated cmd.exe runs: it writes the marker file detection looks for."""
    return (f'@echo off\r\nif not exist "{MARKERS}" mkdir "{MARKERS}"\r\n'
            f'echo {name} installed> "{MARKERS}\\{name}.installed"\r\nexit /b 0\r\n')


def marker(name: str) -> dict:
    return {"file": {"path": f"{MARKERS}\\{name}.installed"}}


def catalog(tmp_path) -> dict:
    """Every package and application the picked sequences reference, with content made here."""
    def folder(name: str, files: dict[str, str]) -> str:
        path = tmp_path / "content" / name
        path.mkdir(parents=True, exist_ok=True)
        for file_name, text in files.items():
            (path / file_name).write_text(text, newline="")
        return str(path)

    def language_pack(pid: str, locale: str) -> dict:
        # The Pre-cache program the Language Pack module's Install Package step names (PRECACHELANG001).
        return {"id": pid, "name": f"Language pack {locale}", "version": "22H2",
                "source": {"path": folder(pid, {"precache.cmd": installer(f"LangPack-{locale}"),
                                                "lp.cab.txt": f"language pack {locale}"})},
                "programs": [{"name": "Pre-cache", "command_line": "precache.cmd",
                              "detection": marker(f"LangPack-{locale}")}]}

    def application(name: str, **extra) -> dict:
        return {"name": name, **extra, "deployment_types": [{
            "name": "Script", "content": {"path": folder(name.replace(" ", ""), {"install.cmd": installer(name)})},
            "install_command": "install.cmd", "detection": marker(name)}]}

    return {"tasksequence_catalog": {
        "packages": [
            # AppMapping's disabled first step names it: the serial number -> applications JSON.
            {"id": "MCM0002A", "name": "App Matching JSON", "source": {"path": folder("MCM0002A", {
                "AppMapping.json": json.dumps([{"SerialNumber": "0", "Apps": ["Contoso Agent"]}])})}},
            language_pack("PS2000E4", "fr-ca"), language_pack("PS2000EC", "de-de"),
            language_pack("PS2000EB", "es-mx"),
        ],
        "applications": [application("Contoso Agent"),
                         application("Contoso Viewer", dependencies=["Contoso Agent"])],
    }}


# A callback for the generated playbook's runs: every task's outcome per host, as JSON lines.
STEP_CALLBACK = '''
import json, os
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "corpus_steps"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, result, status):
        r = result._result
        row = {"task": result._task.get_name(), "host": result._host.get_name(), "status": status,
               "changed": bool(r.get("changed")), "msg": str(r.get("msg") or r.get("skip_reason") or ""),
               "false_condition": str(r.get("false_condition") or "")}
        with open(os.environ["CORPUS_STEPS_FILE"], "a") as f:
            f.write(json.dumps(row) + "\\n")

    def v2_runner_on_ok(self, result):
        self._write(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._write(result, "skipped")
'''


@pytest.fixture(scope="module")
def corpus_fleet(tmp_path_factory):
    if not os.path.isdir(CORPUS):
        pytest.skip(f"no corpus at {CORPUS} (set TASKSEQUENCE_CORPUS)")
    if os.environ.get("TASKSEQUENCE_WINDOWS_INVENTORY"):
        pytest.skip("simulator-only: reads marker files from the simulated host's state")
    # win01 runs the generated playbooks, win02 the role: each starts from a host with nothing installed.
    # Both report de-DE as their system locale (Get-WinSystemLocale reads the OS language), the language
    # the Language Pack module's Set Dynamic Variables rules map to package PS2000EC.
    seed = {"os": {"language": "de-DE", "lcid": 1031}}
    with Fleet(2, tmp_path_factory.mktemp("winsim-corpus"), transport="ntlm", reboot_seconds=1, seed=seed) as f:
        f.simulated = True
        yield f


def imported(path: str) -> dict:
    with open(os.path.join(CORPUS, path), "rb") as f:
        return import_sequence(f.read(), os.path.basename(path), lenient=True)


def run_playbook(fleet, tmp_path, definition: dict, device: dict, tag: str):
    """The generated playbook on win01; device variables as win01's ``tsenv`` host var (an inventory of
    its own, so the steps' tsenv facts still take precedence). Returns (process, {task: row})."""
    play = tmp_path / "sequence.yml"
    play.write_text(playbook_text(definition))
    inventory = tmp_path / "device.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"win01": {"tsenv": device}}}}))
    plugins = tmp_path / "callbacks"
    plugins.mkdir(exist_ok=True)
    (plugins / "corpus_steps.py").write_text(STEP_CALLBACK)
    steps_file = tmp_path / f"steps-{tag}.jsonl"
    proc = Runner(fleet, tmp_path).playbook(
        str(play), "-i", str(inventory), "-e", f"@{tmp_path / 'catalog.yml'}", "-e", "tasksequence_hosts=win01",
        check=False, env={"ANSIBLE_CALLBACK_PLUGINS": str(plugins), "ANSIBLE_CALLBACKS_ENABLED": "corpus_steps",
                          "CORPUS_STEPS_FILE": str(steps_file)})
    rows = [json.loads(line) for line in steps_file.read_text().splitlines()] if steps_file.exists() else []
    return proc, {row["task"]: row for row in rows if row["host"] == "win01"}


def run_role(fleet, tmp_path, definition: dict, device: dict, tag: str):
    """The definition through the role on win02. Returns (process, {step name: journal record})."""
    seq = tmp_path / "sequence.definition.yml"
    seq.write_text(yaml.safe_dump(definition, sort_keys=False))
    state_dir = tmp_path / f"state-{tag}"
    play = tmp_path / "role.yml"
    play.write_text(yaml.safe_dump([{"name": "Run the imported sequence", "hosts": "win02", "gather_facts": False,
                                     "tasks": [{"name": "Run it", "ansible.builtin.include_role": {
                                         "name": "tasksequence.windows.task_sequence"}, "vars": {
                                         "task_sequence_definition_file": str(seq), "task_sequence_resume": False,
                                         "task_sequence_state_dir": str(state_dir),
                                         "task_sequence_device_variables": device}}]}], sort_keys=False))
    proc = Runner(fleet, tmp_path).playbook(str(play), "-e", f"@{tmp_path / 'catalog.yml'}", check=False)
    if not (state_dir / "win02.json").exists():
        raise AssertionError(f"the role wrote no journal:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    state = json.loads((state_dir / "win02.json").read_text())
    with open(state["plan_path"]) as f:
        plan = json.load(f)
    return proc, {s["name"]: state["run"]["steps"].get(str(s["index"])) or {"status": "not_run"}
                  for s in plan["steps"]}


def markers(fleet, host: str) -> set[str]:
    files = fleet.machine(host).state_snapshot()["files"]
    prefix = MARKERS.lower() + "\\"
    return {base64.b64decode(rec["content_b64"]).decode().strip() for key, rec in files.items()
            if key.startswith(prefix) and key.endswith(".installed")}


def _setup(tmp_path) -> None:
    (tmp_path / "catalog.yml").write_text(yaml.safe_dump(catalog(tmp_path)))


# AppMapping: ConfigMgr's own per-device list of applications, App01.. as device variables. The
# sequence's JSON mapping cannot feed it here: its download step is disabled in the export (skipped:
# disabled), so %AppMatching01% is unset and the script finds no JSON ("Did not find a JSON File");
# and the mapping path writes App01.. through the Microsoft.SMS.TSEnvironment COM object, which exists
# only inside ConfigMgr's task sequence engine, not on a host this collection runs on.
APP_DEVICE = {"App01": "Contoso Viewer"}          # Contoso Viewer depends on Contoso Agent: both install
APP_STEPS = ["Download Serial Number App Matching JSON", "Map Applications per Serial Number",
             "Install Applications from JSON list"]


def test_app_mapping_runs_to_the_end_as_the_generated_playbook(corpus_fleet, tmp_path):
    _setup(tmp_path)
    definition = imported("configmgr/garytown-AppMappingAppInstalls.zip")
    proc, rows = run_playbook(corpus_fleet, tmp_path, definition, APP_DEVICE, "first")
    assert proc.returncode == 0 and "failed=0" in proc.stdout, proc.stdout[-4000:]
    assert rows[APP_STEPS[0] + " (disabled in the task sequence)"]["status"] == "skipped"
    assert rows[APP_STEPS[1]]["status"] == "ok"
    assert rows[APP_STEPS[2]]["status"] == "ok" and rows[APP_STEPS[2]]["changed"]
    assert rows[APP_STEPS[2]]["msg"] == "installed Contoso Agent, Contoso Viewer"   # dependency first
    assert markers(corpus_fleet, "win01") == {"Contoso Agent installed", "Contoso Viewer installed"}
    proc, rows = run_playbook(corpus_fleet, tmp_path, definition, APP_DEVICE, "second")
    assert proc.returncode == 0 and "failed=0" in proc.stdout, proc.stdout[-4000:]
    # Only the script step reports a change (a command ran, as win_command reports); no install.
    assert rows[APP_STEPS[2]]["changed"] is False
    assert rows[APP_STEPS[2]]["msg"] == "all applications are already installed"


def test_app_mapping_runs_to_the_end_through_the_role(corpus_fleet, tmp_path):
    _setup(tmp_path)
    definition = imported("configmgr/garytown-AppMappingAppInstalls.zip")
    proc, steps = run_role(corpus_fleet, tmp_path, definition, APP_DEVICE, "first")
    assert proc.returncode == 0 and "failed=0" in proc.stdout, proc.stdout[-4000:]
    assert {name: rec["status"] for name, rec in steps.items()} == {
        APP_STEPS[0]: "skipped", APP_STEPS[1]: "succeeded", APP_STEPS[2]: "succeeded"}
    assert markers(corpus_fleet, "win02") == {"Contoso Agent installed", "Contoso Viewer installed"}
    before = corpus_fleet.counters("win02")["host_side"]["programs"]
    proc, steps = run_role(corpus_fleet, tmp_path, definition, APP_DEVICE, "second")
    assert proc.returncode == 0 and "failed=0" in proc.stdout, proc.stdout[-4000:]
    assert steps[APP_STEPS[2]]["status"] == "succeeded"
    # The second run: the script's powershell.exe is the only program; no installer ran again.
    assert corpus_fleet.counters("win02")["host_side"]["programs"] - before <= 1


# MDT INSTALL-APPS: its one step is MDT's Install Application, which MDT implements as the script
# ZTIApplications.wsf from the deployment share (%SCRIPTROOT%). This collection does not provide the MDT
# share or its scripts, so the step stops the sequence there, saying the program could not be started.
MDT_STOP = "the command could not be started"


def test_mdt_install_apps_stops_at_the_mdt_script(corpus_fleet, tmp_path):
    _setup(tmp_path)
    definition = imported("mdt/technology-toolbox-INSTALL-APPS-ts.xml")
    assert definition["steps"][0]["options"]["command_line"] == 'cscript.exe "%SCRIPTROOT%\\ZTIApplications.wsf"'
    proc, rows = run_playbook(corpus_fleet, tmp_path, definition, {}, "playbook")
    assert "failed=1" in proc.stdout
    assert rows["Install Application"]["status"] == "failed"
    assert MDT_STOP in rows["Install Application"]["msg"] and "ZTIApplications.wsf" in rows["Install Application"]["msg"]
    proc, steps = run_role(corpus_fleet, tmp_path, definition, {}, "role")
    assert "failed=1" in proc.stdout
    assert steps["Install Application"]["status"] == "failed"
    assert MDT_STOP in proc.stdout


# Language Pack module, run in its IPU mode (SMSTS_TSWaaSMode=IPU, the mode its first step is for; the
# OSD group with the restart is skipped by its condition). Expected: the system locale (de-DE on the
# simulated hosts) selects PS2000EC, Install Package pre-caches it from PRECACHELANG001, then the
# sequence stops at "Set Language Pack Path Variable", a script that needs Microsoft.SMS.TSEnvironment.
def test_language_pack_module_precaches_the_package(corpus_fleet, tmp_path):
    _setup(tmp_path)
    definition = imported("configmgr/garytown-LanguagePackModule-TS.zip")
    proc, rows = run_playbook(corpus_fleet, tmp_path, definition, {"SMSTS_TSWaaSMode": "IPU"}, "playbook")
    assert rows["Downloading Package %SMSTS_WinSystemLocale%"]["status"] == "ok", proc.stdout[-4000:]
    assert "LangPack-de-de installed" in markers(corpus_fleet, "win01")
