"""Simulated programs: resolution as Windows does it, cmd.exe, the built-in tools, declared programs."""

from __future__ import annotations

import threading
import time

import pytest

from tests.winsim import programs
from tests.winsim.machine import Machine

AGENT = "{AAAA0000-0000-0000-0000-000000000001}"
TOOL = "{BBBB0000-0000-0000-0000-000000000002}"
SEED = {
    "files": {
        "C:\\Installers\\setup.exe": {"program": {
            "rc": 3010, "stdout": "installed {args} as {user} in {cwd}",
            "effects": [{"install_product": {"product_code": AGENT, "name": "Agent", "version": "2.0"}},
                        {"request_reboot": True},
                        {"set_registry": {"key": "HKLM:\\SOFTWARE\\Contoso\\Agent", "name": "Ring", "type": "REG_DWORD",
                                          "data": 2}},
                        {"write_file": {"path": "C:\\ProgramData\\Contoso\\agent.log", "content": "args={args}"}}],
            "cases": [{"args": "/uninstall", "rc": 0, "stdout": "removed", "effects": [{"remove_product": AGENT}]}]}},
        "C:\\Installers\\slow.exe": {"program": {"seconds": 5, "effects": [{"write_file": {"path": "C:\\slow.txt"}}]}},
        "C:\\Installers\\restarts.exe": {"program": {"rc": 1641, "effects": [{"restart": 0.2}]}},
        "C:\\Installers\\tool.msi": {"msi": {"product_code": TOOL, "name": "Tool", "version": "1.1"}},
        "C:\\Installers\\needs-restart.msi": {"msi": {"product_code": "{CCCC0000-0000-0000-0000-000000000003}",
                                                      "name": "Driver", "rc": 1641}},
        "C:\\Installers\\install.cmd": {"content": "@echo off\r\nrem an install script\r\necho dir=%~dp0 first=%1\r\n"
                                                   "if \"%2\"==\"fail\" exit /b 7\r\nmkdir C:\\Done\r\nexit /b 0\r\n"},
        "C:\\Tools\\tool.bat": {"content": "@echo batch %*\r\n"},
        "C:\\Tools\\tool.com": {"program": {"stdout": "com"}},
        "C:\\Tools\\readme.txt": {"content": "text"},
        "C:\\Tools\\nobehaviour.exe": {},
    },
    "shares": {"\\\\fs01\\content": {"username": "svc-content", "password": "Share-Test-Pass!"}},
}


@pytest.fixture
def machine(tmp_path):
    return Machine("win01", tmp_path, reboot_seconds=0.3, seed=SEED)


def sh(machine, line, *, user="Administrator", env=None, cwd=None, cancel=None, wow64=False):
    return programs.run_command_line(machine, line, env=env or {}, cwd=cwd, user=user,
                                     cancel=cancel or threading.Event(), wow64=wow64)


@pytest.mark.parametrize("line,rc,out", [
    ("cmd.exe /c echo a&& exit /b 3", 3, b"a\r\n"),
    ("cmd.exe /c echo a & echo b", 0, b"a \r\nb\r\n"),
    ("cmd.exe /c type C:\\nofile.txt || echo recovered", 0, b"recovered\r\n"),
    ("cmd.exe /c exit 1 || echo never", 1, b""),
    ("cmd /c \"echo %COMPUTERNAME%\"", 0, b"WIN01\r\n"),
    ("cmd.exe /c echo %NOT_SET%", 0, b"%NOT_SET%\r\n"),
    ("cmd.exe /c set COMPUTERNAME", 0, b"COMPUTERNAME=WIN01\r\n"),
    ("cmd.exe /c set X=1 && set X", 0, b"X=1\r\n"),
    ("cmd.exe /c if exist C:\\Windows (echo yes) else (echo no)", 0, b"yes\r\n"),
    ("cmd.exe /c if not exist C:\\Nope echo missing", 0, b"missing\r\n"),
    ("cmd.exe /c cmd /c exit 4 & if errorlevel 4 echo four", 0, b"four\r\n"),
    ("cmd.exe /c ver", 0, b"\r\nMicrosoft Windows [Version 10.0.22631.4391]\r\n"),
    ("hostname", 0, b"WIN01\r\n"),
    ("C:\\Windows\\System32\\whoami.exe", 0, b"win01\\administrator\r\n"),
    ("cmd.exe /c tool", 0, b"com"),                       # PATHEXT order: .com first
    ("cmd.exe /c C:\\Tools\\tool.bat x y", 0, b"batch x y\r\n"),
])
def test_cmd_and_tools(machine, line, rc, out):
    res = sh(machine, line, cwd="C:\\Tools" if "tool" in line and "\\Tools" not in line else None)
    assert (res.rc, res.stdout) == (rc, out), res.stderr


def test_redirection_and_files(machine):
    res = sh(machine, "cmd.exe /c echo one > C:\\Temp\\out.txt & echo two>>C:\\Temp\\out.txt & echo err 1>&2")
    assert res.rc == 0 and res.stdout == b"" and res.stderr == b"err \r\n"
    assert machine.fs_read("C:\\Temp\\out.txt") == b"one \r\ntwo\r\n"
    res = sh(machine, "cmd.exe /c mkdir C:\\Temp\\a\\b && cd /d C:\\Temp\\a\\b && cd")
    assert res.stdout == b"C:\\Temp\\a\\b\r\n"
    assert sh(machine, "cmd.exe /c echo x > Q:\\nowhere.txt").rc == 1
    assert sh(machine, "cmd.exe /c del C:\\Temp\\out.txt").rc == 0 and not machine.fs_exists("C:\\Temp\\out.txt")
    piped = sh(machine, "cmd.exe /c dir | more")
    assert piped.stderr == b"simulated host: pipes (|) are not emulated by the simulated cmd.exe\r\n"


def test_not_found_is_9009_in_cmd_and_2_for_createprocess(machine):
    res = sh(machine, "cmd.exe /c nosuchthing --x")
    assert res.rc == 9009 and res.stderr.startswith(b"'nosuchthing' is not recognized as an internal or external command")
    res = sh(machine, "nope.exe")
    assert res.rc == 2 and b"The system cannot find the file specified." in res.stderr
    # CreateProcess appends only .exe: a .bat is not found by its bare name.
    assert sh(machine, "tool", cwd="C:\\Tools").rc == 2
    assert sh(machine, "C:\\Tools\\readme.txt").rc == 193
    res = sh(machine, "C:\\Tools\\nobehaviour.exe")
    assert res.rc == 1 and b"has no declared behaviour" in res.stderr


def test_declared_program_effects(machine):
    res = sh(machine, "C:\\Installers\\setup.exe /quiet", cwd="C:\\Temp")
    assert (res.rc, res.stdout) == (3010, b"installed /quiet as Administrator in C:\\Temp")
    assert AGENT in machine.state["products"] and machine.pending_reboot()
    assert machine.reg_value("HKLM\\SOFTWARE\\Contoso\\Agent", "Ring") == {"type": "REG_DWORD", "data": 2}
    assert machine.fs_read("C:\\ProgramData\\Contoso\\agent.log") == b"args=/quiet"
    res = sh(machine, "C:\\Installers\\setup.exe /uninstall")
    assert (res.rc, res.stdout) == (0, b"removed") and AGENT not in machine.state["products"]


def test_declared_program_that_restarts_the_machine(machine):
    assert sh(machine, "C:\\Installers\\restarts.exe").rc == 1641
    time.sleep(0.3)
    assert not machine.is_up()


def test_a_killed_program_changes_nothing(machine):
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    start = time.time()
    res = sh(machine, "C:\\Installers\\slow.exe", cancel=cancel)
    assert res.rc == 1 and time.time() - start < 2 and not machine.fs_exists("C:\\slow.txt")


def test_sleeps_honour_cancel(machine):
    for line in ("ping.exe -n 30 127.0.0.1", "timeout.exe /t 30 /nobreak"):
        cancel = threading.Event()
        threading.Timer(0.1, cancel.set).start()
        start = time.time()
        assert sh(machine, line, cancel=cancel).rc == 1 and time.time() - start < 2
    res = sh(machine, "ping -n 2 127.0.0.1")
    assert res.rc == 0 and res.stdout.count(b"Reply from") == 2
    assert sh(machine, "ping -n 1 198.51.100.7").rc == 1


def test_batch_files(machine):
    res = sh(machine, "cmd.exe /c C:\\Installers\\install.cmd one")
    assert (res.rc, res.stdout) == (0, b"dir=C:\\Installers\\ first=one\r\n") and machine.fs_isdir("C:\\Done")
    res = sh(machine, "cmd.exe /c \"C:\\Installers\\install.cmd\" one fail")
    assert res.rc == 7


def test_reg_exe(machine):
    assert sh(machine, "reg.exe add HKLM\\SOFTWARE\\Contoso /v Level /t REG_DWORD /d 0x10 /f").rc == 0
    assert sh(machine, 'reg add "HKLM\\SOFTWARE\\Contoso" /v Name /d "a b" /f').rc == 0
    res = sh(machine, "reg.exe query HKLM\\SOFTWARE\\Contoso /v Level")
    assert res.stdout == b"\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso\r\n    Level    REG_DWORD    0x10\r\n\r\n"
    assert b"Name    REG_SZ    a b" in sh(machine, "reg query HKLM\\SOFTWARE\\Contoso").stdout
    assert sh(machine, "reg delete HKLM\\SOFTWARE\\Contoso /v Level /f").rc == 0
    res = sh(machine, "reg query HKLM\\SOFTWARE\\Contoso /v Level")
    assert res.rc == 1 and b"unable to find the specified registry key or value" in res.stderr
    assert sh(machine, "reg add HKCU\\Software\\Mine /v A /d 1 /f", user="deploy").rc == 0
    assert machine.reg_value(f"HKEY_USERS\\{machine.account_sid('deploy')}\\Software\\Mine", "A")["data"] == "1"


def test_msiexec(machine):
    assert sh(machine, 'msiexec.exe /i "C:\\Installers\\tool.msi" /qn').rc == 0
    assert machine.find_product(TOOL) and machine.reg_value(
        f"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{TOOL}", "WindowsInstaller")["data"] == 1
    assert sh(machine, f"MsiExec.exe /X{TOOL} /qn").rc == 0 and machine.find_product(TOOL) is None
    assert sh(machine, f"msiexec /x {TOOL} /qn").rc == 1605
    assert sh(machine, "msiexec /i C:\\Installers\\missing.msi /qn").rc == 1619
    assert sh(machine, "msiexec /i C:\\Installers\\tool.msi /qn /L*V C:\\NoDir\\x.log").rc == 1622
    # 1641: the installer restarts the machine, unless /norestart makes it ask instead (3010).
    assert sh(machine, "msiexec /i C:\\Installers\\needs-restart.msi /qn /norestart").rc == 3010
    assert machine.pending_reboot() and machine.is_up()


def test_shutdown_exe(machine):
    assert sh(machine, "shutdown.exe /a").rc == 1116
    assert sh(machine, 'shutdown.exe /r /t 30 /c "patch night"').rc == 0
    assert machine.state["boot"]["shutdown_message"] == "patch night"
    assert sh(machine, "shutdown /r /t 10").rc == 1190
    assert sh(machine, "shutdown -a").rc == 0
    assert sh(machine, "shutdown /s /t 0").rc == 1


def test_net_use_and_the_double_hop(machine):
    machine.state["files"]["\\\\fs01\\content\\setup.exe"] = {
        "path": "\\\\fs01\\content\\setup.exe", "type": "file", "program": {"stdout": "from share"}}
    res = sh(machine, "cmd.exe /c \\\\fs01\\content\\setup.exe")
    assert res.rc == 1 and b"Access is denied." in res.stderr   # no credentials travel on from WinRM
    res = sh(machine, "cmd.exe /c net use Y: \\\\fs01\\content wrong /user:svc-content")
    assert res.rc == 2 and b"System error 86" in res.stderr
    res = sh(machine, "cmd.exe /c net use Y: \\\\fs01\\content Share-Test-Pass! /user:svc-content && Y:\\setup.exe")
    assert res.stdout.endswith(b"from share"), res.stderr
    assert sh(machine, "cmd.exe /c net use Z: \\\\fs02\\other").rc == 2


def test_wow64_redirection(machine):
    machine.state["files"]["c:\\windows\\syswow64\\only32.exe"] = {"path": "C:\\Windows\\SysWOW64\\only32.exe",
                                                                   "type": "file", "program": {"stdout": "32"}}
    assert sh(machine, "C:\\Windows\\System32\\only32.exe").rc == 2
    ctx = programs.Context(machine, programs.process_env(machine, None, "Administrator"), "C:\\", "Administrator",
                           threading.Event())
    path, _rec = programs.resolve(ctx, "C:\\Windows\\SysWOW64\\only32.exe")
    assert path.endswith("SysWOW64\\only32.exe")


def test_environment_reaches_cmd(machine):
    res = sh(machine, "cmd.exe /c echo %TS_A%-%username%", env={"TS_A": "alpha"}, user="deploy")
    assert res.stdout == b"alpha-deploy\r\n"


def test_powershell_exe_file(machine):
    machine.fs_write("C:\\Temp\\s.ps1", b"param($Name)\r\nWrite-Output \"hi $Name\"\r\nexit 4\r\n")
    res = sh(machine, "powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\Temp\\s.ps1 -Name Ann")
    assert (res.rc, res.stdout) == (4, b"hi Ann\r\n")
    res = sh(machine, "powershell.exe -File C:\\Temp\\missing.ps1")
    assert res.rc == -196608 and b"does not exist" in res.stderr
