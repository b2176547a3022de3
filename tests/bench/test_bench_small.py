"""The small benchmark CI runs (issue 12, part 6): 20 steps, the three ways, one simulated host.

The full version is `python tests/bench/run_bench.py` (writes docs/performance.md); this one
writes nothing and fails when the role regresses against the static playbook, or when a process
step costs more than one remote execution. Ratios are measured in this run, never stored.
"""

from __future__ import annotations

import pytest

from tests.bench.run_bench import Fleet, compare_ways

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STEPS = 20
# Each way runs twice, interleaved, the fastest kept: load from other jobs on the shared
# 2-core runner hits all three alike and a single slow run does not decide.
REPEATS = 2
# The goal is role / static <= 1.10 on 100 steps (docs/performance.md). On 20 steps and a noisy
# 2-core runner, a single pair of runs moves by ~0.1-0.2 either way (measured: 1.05-1.25 over
# repeated runs of the same code), so 1.10 would fail on noise. 1.5 is past all of that noise
# and still catches a real regression: an extra remote execution or a second task per step (a
# "decide" task plus a module task) costs the role ~+40-100 % per step and crosses it.
MAX_ROLE_OVER_STATIC = 1.5
# Run Command Line is one win_command: one remote execution per process step, in the role as in
# the module (README: the checkpoint is kept on the controller so that it costs no execution).
MAX_EXECUTIONS_PER_PROCESS_STEP = 1.0


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    with Fleet(1, tmp_path_factory.mktemp("winsim"), transport="ntlm") as fleet:
        return compare_ways(fleet, STEPS, str(tmp_path_factory.mktemp("bench")), repeats=REPEATS)


def _summary(m: dict) -> str:
    return ", ".join(f"{w} {r['wall']:.1f}s ({', '.join(f'{x:.1f}' for x in r['walls'])}) "
                     f"{r['executions_per_process_step']:.2f} exec/process step"
                     for w, r in m["ways"].items())


def test_role_over_static(measured):
    ratio = measured["role/static"]
    assert ratio <= MAX_ROLE_OVER_STATIC, (
        f"role / static = {ratio:.2f} > {MAX_ROLE_OVER_STATIC}: {_summary(measured)}")


@pytest.mark.parametrize("way", ["role", "static"])
def test_one_remote_execution_per_process_step(measured, way):
    per_step = measured["ways"][way]["executions_per_process_step"]
    assert per_step <= MAX_EXECUTIONS_PER_PROCESS_STEP, (
        f"{way}: {per_step:.2f} remote executions per Run Command Line step: {_summary(measured)}")


def test_set_variable_steps_stay_on_the_controller(measured):
    # All the remote work is the process steps': as many executions as process steps, in every way.
    for way, r in measured["ways"].items():
        assert r["executions"] == measured["process_steps"], f"{way}: {_summary(measured)}"
