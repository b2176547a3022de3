"""The deliberately tiny PowerShell subset: what it runs, and that it refuses the rest by line."""

from __future__ import annotations

import base64
import threading
import time

import pytest

from tests.winsim import programs, pwsh
from tests.winsim.machine import Machine


@pytest.fixture
def machine(tmp_path):
    return Machine("win01", tmp_path)


def ctx(machine, env=None, cancel=None):
    return programs.Context(machine, programs.process_env(machine, env, "Administrator"), "C:\\Temp", "Administrator",
                            cancel or threading.Event())


def script(machine, text, args="", policy="Bypass", env=None, cancel=None):
    machine.fs_write("C:\\Temp\\s.ps1", text.encode())
    return pwsh.run_script_file(ctx(machine, env, cancel), "C:\\Temp\\s.ps1", args, policy)


def test_parameters_variables_and_exit(machine):
    res = script(machine, "[CmdletBinding()]\nparam(\n  [Parameter(Mandatory)][string]$Name,\n  [switch]$Loud,\n"
                          "  [int]$Count = 2\n)\n$greeting = \"hi $Name\"\nif ($Loud) { Write-Output 'LOUD' } "
                          "else { Write-Output 'quiet' }\nWrite-Output \"$greeting x$Count env=$env:TS_X $($Count)\"\n"
                          "exit 5\n", "-Name 'O''Neil' -Loud", env={"TS_X": "7"})
    assert res.rc == 5 and res.stdout == b"LOUD\r\nhi O'Neil x2 env=7 2\r\n"
    res = script(machine, "param($A, $B)\nWrite-Output \"$A/$B\"\n", "one \"two words\"")
    assert res.stdout == b"one/two words\r\n" and res.rc == 0


def test_if_elseif_else_and_comparisons(machine):
    text = ("$v = 'beta'\nif ($v -eq 'alpha') {\n  Write-Output 'a'\n} elseif ($v -like 'b*') {\n  Write-Output 'b'\n}"
            " else {\n  Write-Output 'c'\n}\nif (3 -gt 20) { Write-Output 'numeric?' } else { Write-Output 'numbers' }\n"
            "if (-not (Test-Path C:\\Nope)) { Write-Output 'absent' }\nif ($v -match '^BE') { Write-Output 'match' }\n")
    assert script(machine, text).stdout == b"b\r\nnumbers\r\nabsent\r\nmatch\r\n"


def test_streams(machine):
    res = script(machine, "Write-Host 'to host'\nWrite-Warning 'careful'\nWrite-Error 'it broke'\nWrite-Output 'after'\n")
    assert res.rc == 0
    assert res.stdout == b"to host\r\nWARNING: careful\r\nafter\r\n"
    assert res.stderr.startswith(b"C:\\Temp\\s.ps1 : it broke\r\n")


def test_files_and_registry(machine):
    res = script(machine, "New-Item -ItemType Directory -Path C:\\Data\\Sub -Force\n"
                          "Set-Content -Path C:\\Data\\Sub\\a.txt -Value 'one'\nAdd-Content C:\\Data\\Sub\\a.txt 'two'\n"
                          "$c = Get-Content -Path C:\\Data\\Sub\\a.txt -Raw\nWrite-Output $c.Length\n"
                          "Get-Content C:\\Data\\Sub\\a.txt\n"
                          "New-Item -Path HKLM:\\SOFTWARE\\Contoso -Force\n"
                          "New-ItemProperty -Path HKLM:\\SOFTWARE\\Contoso -Name Ring -Value 2 -PropertyType DWord\n"
                          "Set-ItemProperty -Path 'HKLM:\\SOFTWARE\\Contoso' -Name Site -Value \"Berlin\"\n"
                          "Write-Output (Get-ItemProperty -Path HKLM:\\SOFTWARE\\Contoso -Name Ring).Ring\n"
                          "if (Test-Path HKLM:\\SOFTWARE\\Contoso) { Write-Output 'key' }\n")
    assert res.rc == 0, res.stderr
    assert machine.fs_read("C:\\Data\\Sub\\a.txt") == b"one\r\ntwo\r\n"
    assert machine.reg_value("HKLM\\SOFTWARE\\Contoso", "Ring") == {"type": "REG_DWORD", "data": 2}
    assert machine.reg_value("HKLM\\SOFTWARE\\Contoso", "Site")["data"] == "Berlin"
    assert res.stdout.endswith(b"one\r\ntwo\r\n2\r\nkey\r\n")


def test_env_is_visible_to_native_commands(machine):
    res = script(machine, "$env:TS_LEVEL = 'high'\ncmd.exe /c echo %TS_LEVEL%\nWrite-Output \"rc=$LASTEXITCODE\"\n"
                          "& C:\\Windows\\System32\\cmd.exe /c exit 3\nexit $LASTEXITCODE\n")
    assert (res.rc, res.stdout) == (3, b"high\r\nrc=0\r\n")


def test_start_sleep_stops_when_cancelled(machine):
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    start = time.time()
    res = script(machine, "Start-Sleep -Seconds 30\nWrite-Output 'never'\n", cancel=cancel)
    assert res.rc == 1 and res.stdout == b"" and time.time() - start < 2


@pytest.mark.parametrize("text,line", [
    ("Write-Output 'one'\nGet-Process | Stop-Process\n", "line 2: Get-Process | Stop-Process"),
    ("foreach ($x in 1..3) { $x }\n", "line 1: foreach ($x in 1..3) { $x }"),
    ("$x = [math]::Round(2.5)\n", "line 1: $x = [math]::Round(2.5)"),
    ("Write-Output 'a'\nSet-Content -Path C:\\x.txt -Value 1 -Stream alt\n", "line 2: Set-Content -Path"),
    ("function f { 1 }\n", "line 1: function f { 1 }"),
])
def test_refuses_what_it_does_not_know(machine, text, line):
    res = script(machine, text)
    assert res.rc == 1
    assert res.stderr.decode().startswith("simulated host: unsupported PowerShell at " + line)


def test_execution_policy(machine):
    res = script(machine, "Write-Output 'x'\n", policy="AllSigned")
    assert res.rc == 1 and b"is not digitally signed" in res.stderr
    assert script(machine, "Write-Output 'x'\n# SIG # Begin signature block\n", policy="AllSigned").rc == 0
    res = script(machine, "Write-Output 'x'\n", policy="Restricted")
    assert res.rc == 1 and b"running scripts is disabled on this system" in res.stderr


def test_unknown_parameter_is_a_binding_error(machine):
    res = script(machine, "param($A)\nWrite-Output $A\n", "-B 1")
    assert res.rc == 1 and b"A parameter cannot be found that matches parameter name 'B'." in res.stderr


def test_run_process_call_through_powershell_exe(machine):
    machine.fs_write("C:\\Temp\\t.ps1", b"param([string]$Site)\nWrite-Output \"site=$Site\"\nexit 9\n")
    call = "try { & 'C:\\Temp\\t.ps1' -Site 'Ber lin'; exit [int]$LASTEXITCODE } catch { [Console]::Error.WriteLine($_); exit 1 }"
    line = ("powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand "
            + base64.b64encode(call.encode("utf-16-le")).decode())
    res = programs.run_command_line(machine, line, env={}, cwd="C:\\Temp", user="Administrator", cancel=threading.Event())
    assert (res.rc, res.stdout) == (9, b"site=Ber lin\r\n")
