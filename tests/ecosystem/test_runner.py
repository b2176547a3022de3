"""The demo through ansible-runner (what AWX / AAP run): its event stream and its artifacts."""

from __future__ import annotations

import collections
import json
import os
import secrets

import ansible_runner
import pytest

from tests.ecosystem.helpers import BIN, CHECKOUT_COLLECTIONS, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.integration]

DEMO = os.path.join(ROOT, "playbooks", "demo.yml")
STEP_PREFIX = "tasksequence.windows."


@pytest.fixture(scope="module")
def demo_run(fleet, tmp_path_factory):
    private = tmp_path_factory.mktemp("runner")
    token = "tok-" + secrets.token_hex(12)   # the hidden value: must never show up
    runner = ansible_runner.run(
        private_data_dir=str(private),
        playbook=DEMO,
        inventory=fleet.inventory_path,
        extravars={"demo_hosts": "all", "demo_token": token},
        envvars={
            "ANSIBLE_COLLECTIONS_PATH": CHECKOUT_COLLECTIONS,
            "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
            "TASKSEQUENCE_WINDOWS_KEY_FILE": str(private / "controller.key"),
            "ANSIBLE_LOCAL_TEMP": str(private / "ansible-tmp"),
            "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),   # this venv's ansible-playbook
        },
        quiet=True,
        timeout=300,
    )
    return runner, list(runner.events), token


def test_demo_succeeds_on_every_host(demo_run, fleet):
    runner, _events, _token = demo_run
    assert runner.status == "successful", runner.stdout.read()[-4000:]
    assert runner.rc == 0
    assert set(runner.stats["ok"]) == set(fleet.names)
    assert not runner.stats["failures"] and not runner.stats["dark"]


def test_one_result_event_per_step_task_and_host(demo_run, fleet):
    _runner, events, _token = demo_run
    steps = {e["event_data"]["task_uuid"]: e["event_data"]["task_action"] for e in events
             if e["event"] == "playbook_on_task_start" and e["event_data"]["task_action"].startswith(STEP_PREFIX)}
    with open(DEMO) as fh:
        in_playbook = sum(line.strip().startswith(STEP_PREFIX) for line in fh)
    assert len(steps) == in_playbook >= 5
    results = collections.Counter()
    for e in events:
        if e["event"] in ("runner_on_ok", "runner_on_failed") and e["event_data"].get("task_uuid") in steps:
            results[(e["event_data"]["task_uuid"], e["event_data"]["host"])] += 1
            res = e["event_data"]["res"]
            assert "rc" in res and "tsenv" in res["ansible_facts"], res   # the step's result is in the event
    assert results == {(uuid, host): 1 for uuid in steps for host in fleet.names}


def test_hidden_value_never_in_events_or_artifacts(demo_run):
    runner, events, token = demo_run
    hidden_seen = [e for e in events if e["event"] == "runner_on_ok"
                   and "DemoToken" in (e["event_data"]["res"].get("ansible_facts", {}).get("tsenv_hidden") or {})]
    assert hidden_seen, "the demo no longer sets a hidden variable: this test would prove nothing"
    leaks = [e["event"] for e in events if token in json.dumps(e)]
    assert not leaks
    scanned = 0
    for folder, _dirs, files in os.walk(runner.config.artifact_dir):
        for name in files:
            with open(os.path.join(folder, name), "rb") as fh:
                assert token.encode() not in fh.read(), os.path.join(folder, name)
            scanned += 1
    assert scanned > len(events)   # job_events/*.json, stdout, fact_cache/...: the artifacts were there to scan
