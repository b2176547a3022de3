"""The content catalog steps against a simulated Windows host: download, install, applications,
network folders, idempotence measured with the simulated host's counters, and copy throughput."""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import threading
import time

import pytest
import yaml

from tests.integration.conftest import Runner
from tests.winsim import server as winsim_server
from tests.winsim.fleet import Fleet

pytestmark = pytest.mark.integration

RUNTIME_CODE = "{6F1C2E55-0D43-4B7A-9C1E-0A1B2C3D4E5F}"
SHARE_PASSWORD = "Share-Test-Passw0rd!"   # a test credential of the simulated share
UNINSTALL = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall"


def _program(rc=0, effects=None):
    return {"content": "simulated installer", "program": {"rc": rc, "effects": effects or []}}


SEED = {
    "shares": {"\\\\fs01\\apps": {}, "\\\\fs01\\pkgs": {},
               "\\\\fs02\\secure": {"username": "svc-content", "password": SHARE_PASSWORD}},
    "files": {
        "\\\\fs01\\apps\\Runtime\\runtime.msi": {"content": "msi", "msi": {
            "product_code": RUNTIME_CODE, "name": "Contoso Runtime", "version": "1.2.0", "rc": 0}},
        "\\\\fs01\\apps\\Viewer\\setup.exe": _program(0, [{"set_registry": {
            "key": "HKLM:\\SOFTWARE\\Contoso\\Viewer", "name": "Version", "data": "3.0"}}]),
        "\\\\fs01\\apps\\Broken\\setup.exe": _program(1603),
        "\\\\fs01\\apps\\Notes\\setup.exe": _program(3010, [{"set_registry": {
            "key": "HKLM:\\SOFTWARE\\Contoso\\Notes", "name": "Installed", "data": "1"}}]),
        "\\\\fs01\\pkgs\\PS100004\\run.bat": {"content": "@echo off\r\necho ran PS100004\r\nexit /b 0\r\n"},
        "\\\\fs02\\secure\\readme.txt": {"content": "hello from the share"},
        "C:\\Program Files\\Contoso\\tool.exe": {"content": "tool", "version": "2.1.0.0"},
    },
}

INSTALL_BAT = ("@echo off\r\nreg add HKLM\\SOFTWARE\\Contoso\\Agent /v Installed /t REG_SZ /d 1 /f >nul\r\n"
               "exit /b 0\r\n")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    hits = 0

    def log_message(self, *args):   # keep pytest's output clean
        pass

    def do_GET(self):
        type(self).hits += 1
        super().do_GET()


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """A plain HTTP server on 127.0.0.1 that the simulated host downloads from."""
    root = tmp_path_factory.mktemp("web")
    (root / "tool.zip").write_bytes(b"PK-not-really-a-zip " * 500)

    class Handler(_Quiet):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    srv.root = root
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    srv.handler = Handler
    yield srv
    srv.shutdown()


@pytest.fixture(scope="module")
def content_fleet(tmp_path_factory):
    if os.environ.get("TASKSEQUENCE_WINDOWS_INVENTORY"):
        pytest.skip("simulator-only: seeds shares and installers on the simulated host")
    with Fleet(1, tmp_path_factory.mktemp("winsim-content"), transport="ntlm", reboot_seconds=1, seed=SEED) as f:
        f.simulated = True
        yield f


def catalog(tmp_path, web) -> dict:
    pkg = tmp_path / "PS100001"
    pkg.mkdir(exist_ok=True)
    (pkg / "install.bat").write_text(INSTALL_BAT, newline="")
    (pkg / "data.bin").write_bytes(os.urandom(2048))
    tool_sha = hashlib.sha256((web.root / "tool.zip").read_bytes()).hexdigest()
    registry = {"key": "HKLM:\\SOFTWARE\\Contoso\\Agent", "value": "Installed", "operator": "equals", "data": "1"}
    return {"tasksequence_catalog": {
        "packages": [
            {"id": "PS100001", "name": "Agent", "version": "5.1", "source": {"path": str(pkg)},
             "programs": [{"name": "Install", "command_line": "install.bat", "detection": {"registry": registry}}]},
            {"id": "PS100002", "name": "Tool archive", "source": {"url": f"{web.url}/tool.zip", "checksum": tool_sha},
             "programs": [{"name": "Never", "command_line": "never.exe"}]},
            {"id": "PS100003", "name": "Tampered", "source": {"url": f"{web.url}/tool.zip", "checksum": "ab" * 32}},
            {"id": "PS100004", "name": "Share package", "source": {"unc": "\\\\fs01\\pkgs\\PS100004"},
             "programs": [{"name": "Run", "command_line": "run.bat"}]},
        ],
        "applications": [
            {"name": "Runtime", "deployment_types": [{
                "name": "MSI", "content": {"unc": "\\\\fs01\\apps\\Runtime"},
                "install_command": "msiexec /i runtime.msi /qn",
                "detection": {"msi": {"product_code": RUNTIME_CODE, "version": "1.2",
                                      "version_operator": "greater_equal"}}}]},
            {"name": "Viewer", "dependencies": ["Runtime"], "deployment_types": [{
                "name": "Setup", "content": {"unc": "\\\\fs01\\apps\\Viewer"}, "install_command": "setup.exe /S",
                "requirements": {"architecture": "64", "memory_mb": 1024},
                "detection": {"registry": {"key": "HKLM:\\SOFTWARE\\Contoso\\Viewer", "value": "Version",
                                           "operator": "greater_equal", "data": "3.0", "data_type": "version"}}}]},
            {"name": "Tool", "deployment_types": [{
                "name": "Setup", "install_command": "C:\\NoSuch\\setup.exe",
                "detection": {"all": [{"file": {"path": "C:\\Program Files\\Contoso\\tool.exe", "version": "2.1"}},
                                      {"file": {"path": "C:\\Program Files\\Contoso\\tool.exe"}}]}}]},
            {"name": "Broken", "deployment_types": [{
                "name": "Setup", "content": {"unc": "\\\\fs01\\apps\\Broken"}, "install_command": "setup.exe",
                "detection": {"registry": {"key": "HKLM:\\SOFTWARE\\Contoso\\Broken", "value": "Installed"}}}]},
            {"name": "Notes", "deployment_types": [{
                "name": "Setup", "content": {"unc": "\\\\fs01\\apps\\Notes"}, "install_command": "setup.exe /quiet",
                "detection": {"registry": {"key": "HKLM:\\SOFTWARE\\Contoso\\Notes", "value": "Installed"}}}]},
        ]}}


def _vars_file(tmp_path, data: dict) -> str:
    path = tmp_path / "catalog.yml"
    path.write_text(yaml.safe_dump(data))
    return "@" + str(path)


def test_content_steps(content_fleet, web, tmp_path):
    ansible = Runner(content_fleet, tmp_path)
    proc = ansible.playbook("tests_content.yml", "-e", _vars_file(tmp_path, catalog(tmp_path, web)))
    assert "failed=0" in proc.stdout
    state = content_fleet.machine("win01").state_snapshot()
    files = state["files"]
    assert base64.b64decode(files["c:\\_smstasksequence\\packages\\ps100001\\install.bat"]["content_b64"]) \
        == INSTALL_BAT.encode()
    assert "c:\\_smstasksequence\\packages\\ps100003\\tool.zip" not in files   # the mismatching download is refused
    assert RUNTIME_CODE in state["products"]


def test_network_folder_reached_by_a_later_step(content_fleet, tmp_path):
    ansible = Runner(content_fleet, tmp_path)
    log = tmp_path / "ansible.log"
    proc = ansible.playbook("tests_content_network_folder.yml", "-vvv", "-e", f"share_password={SHARE_PASSWORD}",
                            env={"ANSIBLE_LOG_PATH": str(log)})
    assert "failed=0" in proc.stdout
    assert SHARE_PASSWORD not in proc.stdout + proc.stderr + log.read_text()


@pytest.fixture
def wire(monkeypatch):
    """Bytes the simulated host received over WinRM (HTTP bodies: the encrypted WS-Man messages)."""
    total = {"bytes": 0}
    original = winsim_server.Handler._read_body

    def counting(self):
        body = original(self)
        total["bytes"] += len(body)
        return body

    monkeypatch.setattr(winsim_server.Handler, "_read_body", counting)
    return total


def test_second_run_changes_nothing_and_sends_nothing(content_fleet, web, tmp_path, wire):
    ansible = Runner(content_fleet, tmp_path)
    extra = ["-e", _vars_file(tmp_path, catalog(tmp_path, web)), "-e", f"share_password={SHARE_PASSWORD}"]
    ansible.playbook("tests_content_sequence.yml", *extra)
    content_fleet.reset_counters("win01")
    hits, wire["bytes"] = web.handler.hits, 0
    proc = ansible.playbook("tests_content_sequence.yml", *extra, "-e", "second_run=true")
    assert "changed=0" in proc.stdout and "failed=0" in proc.stdout
    host = content_fleet.counters("win01")["host_side"]
    assert host["programs"] == 0                      # no installer, no program ran
    assert host["raw"] == 0                           # no winrm_put_file: nothing copied from the controller
    assert web.handler.hits == hits                   # nothing downloaded from the URL again
    assert "ansible.windows.win_copy" in host["modules"]   # ... yet the content was compared on the host
    print(f"\nsecond run: {wire['bytes']} bytes over WinRM, host counters {host}")


def test_copy_of_20mb_twice_and_throughput_against_win_copy(content_fleet, web, tmp_path, wire):
    ansible = Runner(content_fleet, tmp_path)
    big = tmp_path / "PS100005.bin"
    big.write_bytes(os.urandom(20 * 1024 * 1024))
    data = catalog(tmp_path, web)
    data["tasksequence_catalog"]["packages"].append({"id": "PS100005", "name": "Big", "source": {"path": str(big)}})
    extra = ["-e", _vars_file(tmp_path, data), "-e", f"big_file={big}"]

    def run(copy_with: str) -> tuple[int, float]:
        wire["bytes"] = 0
        started = time.monotonic()
        ansible.playbook("tests_content_copy.yml", *extra, "-e", f"copy_with={copy_with}", timeout=900)
        return wire["bytes"], time.monotonic() - started

    _b, fixed = run("none")
    first, t_step = run("step")
    second, _t = run("step")
    plain, t_plain = run("win_copy")
    files = content_fleet.machine("win01").state_snapshot()["files"]
    assert base64.b64decode(files["c:\\_smstasksequence\\packages\\ps100005\\ps100005.bin"]["content_b64"]) \
        == big.read_bytes()
    size = 20 * 1024 * 1024
    assert first > size and plain > size              # base64 + encryption: more than the file on the wire
    assert second < size / 100                        # the second copy sends (almost) nothing
    step_rate = size / max(t_step - fixed, 0.001) / 2 ** 20
    plain_rate = size / max(t_plain - fixed, 0.001) / 2 ** 20
    print(f"\n20 MB package: first copy {first} bytes over WinRM, second {second}; plain win_copy {plain}; "
          f"step {step_rate:.2f} MiB/s vs win_copy {plain_rate:.2f} MiB/s (ratio {step_rate / plain_rate:.2f}; "
          f"playbook overhead {fixed:.1f} s subtracted)")
    assert step_rate >= 0.7 * plain_rate              # no slower than win_copy (timing noise allowed)
