"""The simulated host's restart switches (issue 11): a host that never comes back, and
connections that hang while the host is down instead of being refused. Test fixture."""

from __future__ import annotations

import socket
import time
import urllib.error

import pytest

from tests.winsim.fleet import Fleet, http_control


@pytest.fixture
def fleet(tmp_path):
    with Fleet(1, tmp_path, reboot_seconds=0.5) as f:
        yield f


def _answers(fleet) -> bool:
    try:
        http_control(fleet.url("win01", "/winsim/counters"))
        return True
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def _wait_boot(machine, boot_id, limit=5.0):
    end = time.monotonic() + limit
    while machine.boot_id() == boot_id and time.monotonic() < end:
        time.sleep(0.05)
    assert machine.boot_id() == boot_id + 1


def test_never_return_refuses_every_connection_after_the_next_boot(fleet):
    machine = fleet.machine("win01")
    http_control(fleet.url("win01", "/winsim/faults"), {"never_return": True})
    assert _answers(fleet)                 # this boot still answers
    boot = machine.boot_id()
    machine.schedule_restart(0)
    _wait_boot(machine, boot)
    assert machine.is_up() and not _answers(fleet)
    time.sleep(1.0)
    assert not _answers(fleet)             # and keeps refusing
    fleet.faults("win01", never_return=False)
    assert _answers(fleet)


def test_hang_while_down_holds_connections_until_the_host_is_up(fleet):
    machine = fleet.machine("win01")
    machine.reboot_seconds = 1.5
    fleet.faults("win01", hang_while_down=True)
    machine.schedule_restart(0)
    time.sleep(0.1)
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", fleet.servers["win01"].port), timeout=10) as sock:
        sock.sendall(b"GET /winsim/counters HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(100) == b""       # closed without an answer ...
    held = time.monotonic() - started
    assert 1.0 <= held <= 3.0              # ... but only once the host was up again
    assert machine.is_up()


def test_without_the_switch_a_down_host_refuses_at_once(fleet):
    machine = fleet.machine("win01")
    machine.reboot_seconds = 1.5
    machine.schedule_restart(0)
    time.sleep(0.1)
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", fleet.servers["win01"].port), timeout=10) as sock:
        sock.sendall(b"GET /winsim/counters HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(100) == b""
    assert time.monotonic() - started < 0.5
