"""Integration fixtures: simulated Windows hosts and a real ansible-playbook against them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.winsim.fleet import Fleet

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(ROOT, "tests", "integration", "playbooks")
BIN = os.path.dirname(sys.executable)

# Programs and content the integration playbooks use, on every simulated host.
SEED = {
    "files": {
        "c:\\windows\\system32\\only64.exe": {
            "path": "C:\\Windows\\System32\\only64.exe", "type": "file", "size": 10,
            "program": {"stdout": "only64 ran with {args}\r\n", "rc": 0},
        },
    },
}


def ansible_env(tmp_path, **extra) -> dict:
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, ".cache", "collections"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "TASKSEQUENCE_WINDOWS_KEY_FILE": str(tmp_path / "controller.key"),
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
    })
    env.update(extra)
    return env


class Runner:
    def __init__(self, fleet: Fleet, tmp_path):
        self.fleet, self.tmp_path = fleet, tmp_path

    def playbook(self, name: str, *args: str, check: bool = True, env: dict | None = None, timeout: int = 300,
                 limit: str | None = None) -> subprocess.CompletedProcess:
        path = name if os.path.isabs(name) else os.path.join(PLAYBOOKS, name)
        cmd = [os.path.join(BIN, "ansible-playbook"), "-i", self.fleet.inventory_path, path, *args]
        if limit:
            cmd += ["--limit", limit]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False,
                              env=ansible_env(self.tmp_path, **(env or {})))
        if check and proc.returncode != 0:
            # Every error line first: the tail alone can miss a host that failed early.
            errors = [line for line in proc.stdout.splitlines() if line.startswith(("fatal:", "[ERROR]"))]
            raise AssertionError(f"ansible-playbook {name} failed ({proc.returncode}):\n" + "\n".join(errors)[:4000]
                                 + f"\n...\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}")
        return proc


# A real Windows inventory instead of simulated hosts (docs/testing.md). Its hosts must be named
# win01 and win02 (or have those aliases); tests that need the simulated host's counters or
# state skip themselves, saying so.
REAL_INVENTORY = os.environ.get("TASKSEQUENCE_WINDOWS_INVENTORY")


class RealHosts:
    simulated = False

    def __init__(self, inventory_path: str):
        self.inventory_path = os.path.abspath(inventory_path)

    def _simulator_only(self, *_args, **_kwargs):
        pytest.skip("simulator-only: needs the simulated host's counters or machine state")

    counters = reset_counters = machine = _simulator_only


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    if REAL_INVENTORY:
        yield RealHosts(REAL_INVENTORY)
        return
    with Fleet(2, tmp_path_factory.mktemp("winsim"), transport="both", reboot_seconds=2, seed=SEED) as f:
        f.simulated = True
        yield f


@pytest.fixture
def ansible(fleet, tmp_path):
    return Runner(fleet, tmp_path)
