"""The simulated host's WS-Management endpoint against real clients: pywinrm and pypsrp."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
import winrm
from winrm.exceptions import InvalidCredentialsError, WinRMError, WSManFaultError

from tests.winsim.fleet import Fleet
from tests.winsim.machine import TEST_PASSWORD

SLOW = {"files": {"c:\\tools\\slow.exe": {"path": "C:\\Tools\\slow.exe", "type": "file",
                                          "program": {"seconds": 3, "stdout": "done\r\n", "rc": 0}},
                  "c:\\tools": {"path": "C:\\Tools", "type": "directory"}}}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    with Fleet(2, tmp_path_factory.mktemp("proto"), transport="both", reboot_seconds=1, seed=SLOW) as f:
        yield f


@pytest.fixture(scope="module")
def plain_fleet(tmp_path_factory):
    with Fleet(1, tmp_path_factory.mktemp("plain"), transport="ntlm", allow_unencrypted=True) as f:
        yield f


def url(fleet, name):
    srv = fleet.servers[name]
    return f"{srv.scheme}://127.0.0.1:{srv.port}/wsman"


def session(fleet, name, transport="ntlm", password=TEST_PASSWORD, **kw):
    return winrm.Session(url(fleet, name), auth=("Administrator", password), transport=transport,
                         server_cert_validation="ignore", **kw)


def test_ntlm_with_message_encryption(fleet):
    fleet.reset_counters("win01")
    r = session(fleet, "win01").run_cmd("cmd.exe", ["/c", "echo out & echo err 1>&2 & exit /b 4"])
    assert (r.status_code, r.std_out, r.std_err) == (4, b"out \r\n", b"err \r\n")
    c = fleet.counters("win01")["http"]
    assert c["by_action"] == {"Create": 1, "Command": 1, "Receive": 1, "Signal": 1, "Delete": 1}


def test_messages_on_the_wire_are_encrypted(fleet):
    fleet.reset_counters("win01")
    session(fleet, "win01").run_cmd("hostname")
    c = fleet.counters("win01")["http"]
    assert c["encrypted"] == sum(c["by_action"].values()) == 5
    # NTLM without message encryption over HTTP is refused, as Windows does (AllowUnencrypted false).
    with pytest.raises(InvalidCredentialsError):
        session(fleet, "win01", message_encryption="never").run_cmd("hostname")


@pytest.mark.parametrize("transport", ["basic", "ntlm"])
def test_https_basic_and_ntlm(fleet, transport):
    assert fleet.servers["win02"].scheme == "https"
    r = session(fleet, "win02", transport=transport).run_cmd("hostname")
    assert r.status_code == 0 and r.std_out == b"WIN02\r\n"


def test_basic_over_http_refused_unless_allowed(fleet, plain_fleet):
    with pytest.raises(InvalidCredentialsError):
        session(fleet, "win01", transport="basic").run_cmd("hostname")
    r = session(plain_fleet, "win01", transport="basic").run_cmd("hostname")
    assert r.status_code == 0


def test_wrong_password_401(fleet):
    before = fleet.counters("win01")["http"]["auth_failures"]
    with pytest.raises(InvalidCredentialsError):
        session(fleet, "win01", password="wrong").run_cmd("hostname")
    assert fleet.counters("win01")["http"]["auth_failures"] == before + 1


def test_long_command_makes_the_client_poll(fleet):
    fleet.reset_counters("win01")
    s = session(fleet, "win01", operation_timeout_sec=1, read_timeout_sec=5)
    r = s.run_cmd("C:\\Tools\\slow.exe")
    assert r.std_out == b"done\r\n"
    assert fleet.counters("win01")["http"]["by_action"]["Receive"] >= 2


def test_signal_and_delete_relate_to_their_requests(fleet):
    p = session(fleet, "win01").protocol
    shell = p.open_shell()
    cmd = p.run_command(shell, "hostname")
    out, _err, rc = p.get_command_output(shell, cmd)
    p.cleanup_command(shell, cmd)   # pywinrm checks RelatesTo == its MessageID
    p.close_shell(shell)
    assert rc == 0 and out == b"WIN01\r\n"


def test_unknown_shell_is_a_wsman_fault(fleet):
    p = session(fleet, "win01").protocol
    with pytest.raises(WSManFaultError) as err:
        p.run_command(str(uuid.uuid4()).upper(), "hostname")
    assert err.value.wsman_fault_code == 2150858843


def test_pypsrp_winrs_client(fleet):
    from pypsrp.shell import Process, WinRS
    from pypsrp.wsman import WSMan

    srv = fleet.servers["win01"]
    wsman = WSMan("127.0.0.1", port=srv.port, ssl=False, username="Administrator", password=TEST_PASSWORD,
                  auth="ntlm", encryption="always")
    with wsman, WinRS(wsman) as shell:
        proc = Process(shell, "cmd.exe", ["/c", "echo via pypsrp"])
        proc.invoke()
    assert proc.rc == 0 and proc.stdout == b"via pypsrp\r\n"


def test_fault_injection(fleet):
    s = session(fleet, "win01")
    fleet.faults("win01", wsman_fault_500=1)
    with pytest.raises(WSManFaultError) as err:
        s.run_cmd("hostname")
    assert "injected fault" in str(err.value) and err.value.code == 500
    fleet.faults("win01", drop_connections=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        session(fleet, "win01").run_cmd("hostname")
    fleet.faults("win01", delay_seconds=0.5)
    start = time.time()
    session(fleet, "win01").run_cmd("hostname")
    assert time.time() - start >= 2.5   # every request of the exchange waited
    fleet.faults("win01", delay_seconds=0)


def test_crash_during_command_restarts_the_machine(fleet):
    m = fleet.machine("win01")
    boot = m.boot_id()
    fleet.faults("win01", crash_during_next_command=True)
    with pytest.raises((requests.exceptions.ConnectionError, WinRMError)):
        session(fleet, "win01").run_cmd("C:\\Tools\\slow.exe")
    deadline = time.time() + 10
    while m.boot_id() == boot and time.time() < deadline:
        time.sleep(0.2)
    assert m.boot_id() == boot + 1
    assert session(fleet, "win01").run_cmd("hostname").status_code == 0


def test_doctype_refused(fleet):
    p = session(fleet, "win02", transport="basic").protocol
    with pytest.raises(WSManFaultError) as err:
        p.send_message('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>')
    assert err.value.code == 400 and "DTDs are not accepted" in str(err.value)


def test_connections_refused_while_restarting(tmp_path):
    with Fleet(1, tmp_path, reboot_seconds=1.5) as f:
        f.machine("win01").schedule_restart(0)
        time.sleep(0.1)
        with pytest.raises(requests.exceptions.ConnectionError):
            session(f, "win01").run_cmd("hostname")
        assert f.counters("win01")["http"]["refused_while_down"] >= 1
        time.sleep(1.6)
        assert session(f, "win01").run_cmd("hostname").status_code == 0


def _run_cmd_seconds(fleet, name: str) -> float:
    s = session(fleet, name)
    s.run_cmd("hostname")   # the connection and NTLM set up, out of the measure
    start = time.perf_counter()
    for _run in range(5):
        s.run_cmd("hostname")
    return (time.perf_counter() - start) / 5


def test_requests_are_not_held_by_nagle(plain_fleet):
    # run_cmd is 5 requests (shell, command, output, signal, delete). A response written as headers
    # then body, with Nagle's algorithm on, waits ~40 ms for the client's delayed ACK each time:
    # 0.2 s a run_cmd. Without it, the simulator's own work only.
    assert _run_cmd_seconds(plain_fleet, "win01") < 0.15


def test_latency_is_added_to_every_request(tmp_path):
    with Fleet(1, tmp_path, transport="ntlm", latency=0.05) as slow:
        assert _run_cmd_seconds(slow, "win01") >= 5 * 0.05
