"""Test order: the simulated host's test kit must not leave Ansible's collection finder installed.

tests/winsim/testkit.py builds real ansible.windows payloads, which needs Ansible's collection
finder in the test process. Left installed, it broke tests/unit/plugins/action/
test_dynamic_and_readiness.py whenever that ran later in the same process (its action plugins
then look up collection metadata the finder never loaded). One pytest process, in that order.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
AFTER = "tests/unit/plugins/action/test_dynamic_and_readiness.py"


def _pytest(*paths: str) -> subprocess.CompletedProcess:
    # -p no:randomly / no:xdist: the files run in the order given, in this one process.
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:xdist",
                           "-p", "no:cacheprovider", *paths], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)


def test_run_module_then_action_unit_tests_in_one_process():
    proc = _pytest(
        # run_module (payloads built inside testkit.collection_finder), from outside tests/winsim:
        "tests/unit/roles/test_conditions_agree.py",
        "tests/winsim/test_upstream_spec.py",
        # testkit._collection_loader() called by the tests themselves (tests/winsim/conftest.py puts it back):
        "tests/winsim/test_payload.py",
        AFTER)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert " failed" not in proc.stdout.splitlines()[-1], proc.stdout[-3000:]


def test_testkit_puts_the_import_machinery_back():
    from tests.winsim import testkit

    if testkit._finder_installed():
        pytest.skip("another test in this process installed the finder itself")
    before = (list(sys.meta_path), list(sys.path_hooks))
    with testkit.collection_finder():
        assert testkit._finder_installed()
    assert (list(sys.meta_path), list(sys.path_hooks)) == before
    testkit._collection_loader()
    assert testkit._finder_installed()
    testkit.restore_import_state()
    assert not testkit._finder_installed() and (list(sys.meta_path), list(sys.path_hooks)) == before
