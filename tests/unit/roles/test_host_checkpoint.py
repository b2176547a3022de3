"""The host checkpoint's pure parts: when it is due, which copy wins, sealing."""

from __future__ import annotations

import json

import pytest

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _engine


@pytest.fixture(autouse=True)
def _key(tmp_path, monkeypatch):
    monkeypatch.setenv("TASKSEQUENCE_WINDOWS_KEY_FILE", str(tmp_path / "controller.key"))


def mark(name):
    return {"name": name, "module": "set_task_sequence_variable", "options": {"name": name, "value": "y"}}


PLAN = _engine.plan({"format_version": 1, "name": "p", "steps": [
    {"group": "G1", "steps": [mark("A"), mark("B")]},
    {"group": "G2", "steps": [mark("C"), {"group": "G3", "steps": [mark("D")]}]},
    mark("E")]})


@pytest.mark.parametrize(("mode", "due"), [
    ("boundaries", [False, True, False, True, True]),
    ("every_step", [True] * 5),
    ("never", [False] * 5)])
def test_due(mode, due):
    assert [_engine.host_checkpoint_due(PLAN, s, mode, ends=False) for s in PLAN["steps"]] == due


def test_a_failure_that_ends_the_sequence_is_due_unless_never():
    step = PLAN["steps"][0]
    assert _engine.host_checkpoint_due(PLAN, step, "boundaries", ends=True)
    assert not _engine.host_checkpoint_due(PLAN, step, "never", ends=True)


def state(run_id, seq, updated="2026-01-01T00:00:00.000+00:00"):
    return {"plan_id": "p1", "run": {"run_id": run_id}, "seq": seq, "updated": updated, "status": "running"}


def test_newest():
    assert _engine.newest(None, None) == (None, "controller")
    assert _engine.newest(state("r", 3), None)[1] == "controller"
    assert _engine.newest(None, state("r", 3))[1] == "host"
    assert _engine.newest(state("r", 3), state("r", 5))[1] == "host"       # another controller went on
    assert _engine.newest(state("r", 5), state("r", 3))[1] == "controller"  # boundaries: host behind
    assert _engine.newest(state("r", 5), state("r", 5))[1] == "controller"
    late = "2026-02-01T00:00:00.000+00:00"
    assert _engine.newest(state("a", 9), state("b", 1, late))[1] == "host"   # a later run elsewhere


def test_sealed_whole_and_read_back(tmp_path):
    st = {**state("r", 4), "plan_path": "/controller/only", "host": "win01", "tsenv": {"Plain": "pl41n"},
          "tsenv_hidden": {"pw": "token"}}
    text = _engine.seal_state(st)
    assert "pl41n" not in text and "/controller/only" not in text
    header = json.loads(text)
    assert header["plan_id"] == "p1" and header["run_id"] == "r" and header["seq"] == 4
    back = _engine.host_checkpoint_from({"state.json": text})
    assert back["tsenv"] == {"Plain": "pl41n"} and "plan_path" not in back and back["seq"] == 4
    # A write cut short: the whole copy with the higher write count wins; a broken one is ignored.
    newer = _engine.seal_state({**st, "seq": 5})
    assert _engine.host_checkpoint_from({"state.json": text[:40], "state.json.tmp": newer})["seq"] == 5
    assert _engine.host_checkpoint_from({"state.json": text, "state.json.tmp": newer})["seq"] == 5
    assert _engine.host_checkpoint_from({}) is None


def test_another_key_cannot_read_it(tmp_path, monkeypatch):
    text = _engine.seal_state(state("r", 1))
    monkeypatch.setenv("TASKSEQUENCE_WINDOWS_KEY_FILE", str(tmp_path / "other.key"))
    with pytest.raises(_engine.EngineError, match="cannot be read by this controller"):
        _engine.host_checkpoint_from({"state.json": text})
