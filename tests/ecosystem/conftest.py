"""Ecosystem fixtures: simulated Windows hosts, the built tarball, ansible.windows as a tarball."""

from __future__ import annotations

import pytest

from tests.ecosystem.helpers import ANSIBLE_WINDOWS, SEED, load_script
from tests.winsim.fleet import Fleet


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    with Fleet(2, tmp_path_factory.mktemp("winsim"), transport="both", reboot_seconds=2, seed=SEED) as f:
        yield f


@pytest.fixture(scope="session")
def built_tarball(tmp_path_factory) -> str:
    return load_script("check_build").build(str(tmp_path_factory.mktemp("dist")))


@pytest.fixture(scope="session")
def ansible_windows_tarball(tmp_path_factory) -> str:
    """ansible.windows as a Galaxy tarball, built offline from the copy bootstrap.sh extracted."""
    return load_script("dep_tarball").build(ANSIBLE_WINDOWS, str(tmp_path_factory.mktemp("dep")))
