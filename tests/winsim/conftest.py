"""Fixtures of the simulated host's own tests. Test fixture."""

from __future__ import annotations

import pytest

from tests.winsim import testkit


@pytest.fixture(autouse=True)
def _import_machinery_as_before():
    """A test that installed Ansible's collection finder (testkit._collection_loader) leaves the
    process's import machinery as it found it: tests that run after it in the same process (unit
    tests of the action plugins) import the collection as usual."""
    yield
    testkit.restore_import_state()
