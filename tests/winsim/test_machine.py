"""The simulated machine's state: defaults, seeds, persistence, restarts, counters."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from tests.winsim.machine import CCM_CLIENT, LOGON_UI_KEY, TEST_PASSWORD, Machine, default_state, norm, reg_norm
from tests.winsim.testkit import run


@pytest.fixture
def machine(tmp_path):
    return Machine("win01", tmp_path, reboot_seconds=0.3)


def test_defaults_are_deterministic_and_hosts_differ():
    a, b = default_state("win01", 0), default_state("win02", 1)
    assert default_state("win01", 0)["hardware"] == a["hardware"]
    assert a["hardware"]["serial_number"] != b["hardware"]["serial_number"]
    assert a["hardware"]["uuid"] != b["hardware"]["uuid"]
    assert a["network_adapters"][0]["mac"] != b["network_adapters"][0]["mac"]
    # Two locations, told apart by their default gateway; documentation address ranges only.
    assert a["network_adapters"][0]["default_gateways"] != b["network_adapters"][0]["default_gateways"]
    for state in (default_state(f"win{i:02d}", i - 1) for i in range(1, 13)):
        for adapter in state["network_adapters"]:
            for ip in adapter["ip_addresses"] + adapter["default_gateways"]:
                assert ip.startswith(("192.0.2.", "198.51.100.", "203.0.113."))
    captions = {default_state(f"win{i:02d}", i - 1)["os"]["caption"] for i in range(1, 7)}
    assert len(captions) >= 4 and any("Server" in c for c in captions)


def test_default_machine_has_what_windows_has(machine):
    st = machine.state
    for path in ("C:\\Windows\\System32\\cmd.exe", "C:\\Program Files", "C:\\Users\\Administrator\\AppData\\Local\\Temp",
                 "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"):
        assert machine.fs_exists(path), path
    assert machine.reg_value("HKLM:\\SOFTWARE\\Microsoft\\SMS\\Mobile Client", "ProductVersion")["data"] == \
        st["configmgr_client_version"]
    assert CCM_CLIENT in st["products"]
    assert machine.reg_key(f"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{CCM_CLIENT}")
    assert machine.accounts()["Administrator"] == TEST_PASSWORD
    assert st["updates"]["available"] and st["boot"]["boot_id"] == 1


def test_seed_merges_with_windows_spellings(tmp_path):
    seed = {"hardware": {"model": "Seeded", "tpm": {"enabled": False}},
            "files": {"C:\\Installers\\Agent\\setup.exe": {"program": {"rc": 0}},
                      "C:\\Installers\\readme.txt": {"content": "hello"}},
            "registry": {"HKLM:\\SOFTWARE\\Contoso": {"Level": 3, "Name": "x"}},
            "products": {"{aaaa0000-0000-0000-0000-000000000001}": {"name": "Seeded app", "version": "1.0"}}}
    m = Machine("win02", tmp_path, index=1, seed=seed)
    assert m.state["hardware"]["model"] == "Seeded" and m.state["hardware"]["make"] == "HP"
    assert m.state["hardware"]["tpm"]["present"] is True and m.state["hardware"]["tpm"]["enabled"] is False
    assert m.fs_isdir("C:\\Installers\\Agent") and m.fs_read("c:/installers/README.TXT") == b"hello"
    assert m.reg_value("HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso", "level") == {"type": "REG_DWORD", "data": 3}
    assert "{AAAA0000-0000-0000-0000-000000000001}" in m.state["products"]
    uninstall = m.reg_key("HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\"
                          "{AAAA0000-0000-0000-0000-000000000001}")
    assert uninstall["values"]["DisplayName"]["data"] == "Seeded app"


def test_state_persists_across_instances(tmp_path):
    m = Machine("win01", tmp_path)
    assert run(m, "cmd.exe /c mkdir C:\\Kept").rc == 0
    m.reg_set("HKLM\\SOFTWARE\\Kept", "A", "REG_SZ", "1")
    again = Machine("win01", tmp_path)
    assert again.fs_isdir("C:\\Kept") and again.reg_value("HKLM:\\SOFTWARE\\Kept", "A")["data"] == "1"
    with open(tmp_path / "win01" / "state.json", encoding="utf-8") as f:
        assert json.load(f)["files"][norm("C:\\Kept")]["type"] == "directory"
    assert not os.path.exists(tmp_path / "win01" / "state.json.tmp")   # written atomically


def test_restart_life_cycle(machine):
    boot, boot_time = machine.boot_id(), machine.boot_time()
    machine.request_reboot()
    machine.reg_delete_key(LOGON_UI_KEY)
    assert machine.pending_reboot()
    start = time.time()
    assert machine.schedule_restart(0.2, "bye")
    assert not machine.schedule_restart(1)          # 1190: already scheduled
    assert machine.is_up()
    while machine.is_up():
        time.sleep(0.01)
    assert 0.15 < time.time() - start < 0.6        # down at the shutdown moment...
    assert run(machine, "hostname").rc == 1115
    while not machine.is_up():
        time.sleep(0.01)
    assert 0.4 < time.time() - start < 1.2          # ...for reboot_seconds
    assert machine.boot_id() == boot + 1 and machine.boot_time() > boot_time
    assert not machine.pending_reboot()
    assert machine.reg_key(LOGON_UI_KEY) is not None   # LogonUI is back
    assert machine.counters_snapshot()["boots"] == 2


def test_abort_restart(machine):
    assert not machine.abort_restart()
    assert machine.schedule_restart(5)
    assert machine.abort_restart()
    assert machine.is_up() and machine.boot_id() == 1


def test_crash_ends_running_commands(machine):
    cancel = threading.Event()
    box = {}

    def worker():
        from tests.winsim.testkit import Stdin

        box["res"] = machine.execute("ping.exe -n 30 127.0.0.1", Stdin(), user="Administrator", cancel=cancel)

    t = threading.Thread(target=worker)
    t.start()
    time.sleep(0.2)
    machine.crash()
    t.join(5)
    assert not t.is_alive() and cancel.is_set() and box["res"].rc == 1
    time.sleep(0.4)
    assert machine.boot_id() == 2


def test_session_drives_are_gone_after_the_command(tmp_path):
    seed = {"shares": {"\\\\fs01\\content": {}},
            "files": {"\\\\fs01\\content\\tool.exe": {"program": {"stdout": "tool"}}}}
    m = Machine("win01", tmp_path, seed=seed)
    res = run(m, "cmd.exe /c net use X: \\\\fs01\\content && X:\\tool.exe")
    assert res.rc == 0 and res.stdout.endswith(b"tool")
    res = run(m, "cmd.exe /c X:\\tool.exe")   # a new WinRM command is a new logon: no X:
    assert res.rc == 9009


def test_counters_shape(machine):
    run(machine, "hostname")
    c = machine.counters_snapshot()
    assert set(c) >= {"executions", "modules", "raw", "boots"}
    assert c["executions"] == 1 and c["programs"] == 1
    machine.reset_counters()
    assert machine.counters_snapshot()["executions"] == 0


def test_accounts_and_names(machine):
    assert machine.find_account("WIN01\\administrator") == "Administrator"
    assert machine.find_account(".\\Deploy") == "deploy"
    assert machine.find_account("CONTOSO\\Administrator") is None
    assert machine.account_sid("Administrator").endswith("-500")
    assert machine.is_admin("Administrator") and not machine.is_admin("deploy")


def test_registry_uninstall_entry_removal_removes_the_product(machine):
    machine.install_product("{BBBB0000-0000-0000-0000-000000000002}", {"name": "Tool", "version": "2"})
    assert machine.reg_delete_key("HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\"
                                  "{bbbb0000-0000-0000-0000-000000000002}")
    assert machine.find_product("{BBBB0000-0000-0000-0000-000000000002}") is None
    assert reg_norm("HKEY_LOCAL_MACHINE\\A\\B") == reg_norm("HKLM:\\a\\b") == "hklm\\a\\b"
