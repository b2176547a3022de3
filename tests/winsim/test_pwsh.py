"""The PowerShell subset interpreter: what it runs (as Windows PowerShell 5.1 would), and that it
refuses by name what it does not implement. Scripts run the way a host runs them: powershell.exe
-EncodedCommand / -File through the simulated programs."""

from __future__ import annotations

import base64
import threading
import time

import pytest
from ansible.plugins.shell.powershell import _parse_clixml

from tests.winsim import programs, pwsh
from tests.winsim.machine import Machine


@pytest.fixture
def machine(tmp_path):
    return Machine("win01", tmp_path)


def run(machine, line, env=None, cancel=None, stdin=b"", user="Administrator"):
    return programs.run_command_line(machine, line, env=env or {}, cwd="C:\\Temp", user=user,
                                     cancel=cancel or threading.Event(), stdin=stdin)


def ps(machine, text, policy=None, **kwargs):
    """powershell.exe -EncodedCommand <text>."""
    encoded = base64.b64encode(text.encode("utf-16-le")).decode()
    flags = f"-ExecutionPolicy {policy} " if policy else ""
    return run(machine, f"powershell.exe -NoLogo -NoProfile -NonInteractive {flags}-EncodedCommand {encoded}", **kwargs)


def script(machine, text, args="", policy="Bypass", **kwargs):
    """C:\\Temp\\s.ps1 called as & 'C:\\Temp\\s.ps1' <args>; the call's $? and $LASTEXITCODE printed."""
    machine.fs_write("C:\\Temp\\s.ps1", text.encode())
    return ps(machine, f"& 'C:\\Temp\\s.ps1' {args}\nexit $LASTEXITCODE", policy, **kwargs)


def errors(res) -> bytes:
    """stderr as Ansible reads it: PowerShell's CLIXML error stream decoded by ansible-core's own parser."""
    assert res.stderr.startswith(b"#< CLIXML\r\n"), res.stderr
    return _parse_clixml(res.stderr)


def out(res) -> str:
    assert res.stderr == b"", res.stderr.decode()
    return res.stdout.decode()


# the language ------------------------------------------------------------------------------------------

def test_parameters_variables_and_exit(machine):
    res = script(machine, "[CmdletBinding()]\nparam(\n  [Parameter(Mandatory)][string]$Name,\n  [switch]$Loud,\n"
                          "  [int]$Count = 2\n)\n$greeting = \"hi $Name\"\nif ($Loud) { Write-Output 'LOUD' } "
                          "else { Write-Output 'quiet' }\nWrite-Output \"$greeting x$Count env=$env:TS_X $($Count)\"\n"
                          "exit 5\n", "-Name 'O''Neil' -Loud", env={"TS_X": "7"})
    assert res.rc == 5 and res.stdout == b"LOUD\r\nhi O'Neil x2 env=7 2\r\n"
    res = script(machine, "param($A, $B)\nWrite-Output \"$A/$B\"\n", "one 'two words'")
    assert (res.rc, res.stdout) == (0, b"one/two words\r\n")
    # A simple script (no CmdletBinding) takes unknown names and extra values in $args.
    res = script(machine, "param($A)\n\"A=$A args=$($args -join '|')\"\n", "-B 1 x -A 2")
    assert out(res) == "A=2 args=-B|1|x\r\n"


def test_binding_errors(machine):
    res = script(machine, "[CmdletBinding()]\nparam($A)\n$A\n", "-B 1")
    assert b"A parameter cannot be found that matches parameter name 'B'." in res.stderr
    res = script(machine, "param([Parameter(Mandatory=$true)][object[]]$Items)\n$Items.Count\n", "-Items @()")
    assert b"Cannot bind argument to parameter 'Items' because it is an empty array." in res.stderr
    res = script(machine, "param([int]$N)\n$N\n", "-N abc")
    assert b'Cannot process argument transformation on parameter \'N\'. Cannot convert value "abc" to type ' \
           b'"System.Int32".' in res.stderr
    res = script(machine, "param([bool]$B)\n$B\n", "-B 'true'")
    assert b"Boolean parameters accept only Boolean values and numbers" in res.stderr
    res = script(machine, "param([ValidateSet('a', 'b')]$X)\n$X\n", "-X c")
    assert b'The argument "c" does not belong to the set "a,b"' in res.stderr
    res = script(machine, "[CmdletBinding()]\nparam([Parameter(Mandatory)]$Need)\n$Need\n")
    assert b"Cannot process command because of one or more missing mandatory parameters: Need." in res.stderr


def test_if_loops_and_comparisons(machine):
    text = ("$v = 'beta'\nif ($v -eq 'alpha') {\n  'a'\n} elseif ($v -like 'B*') {\n  'b'\n}\nelse {\n  'c'\n}\n"
            "if (3 -gt 20) { 'numeric?' } else { 'numbers' }\n"
            "if ('3' -gt 20) { 'strings' }\n"                       # the left side decides: '3' > '20' as text
            "if (-not (Test-Path C:\\Nope)) { 'absent' }\n"
            "if ($v -match '^BE(?<rest>.*)') { \"match $($Matches.rest)\" }\n"
            "if ($v -cmatch '^BE') { 'case?' }\n"
            "@(1, 2, 3, 2) -eq 2 -join ','\n"
            "$null -eq @()\n"
            "if ($null -eq $nothing) { 'null' }\n"
            "$total = 0\nforeach ($i in 1..4) { if ($i -eq 3) { continue }; $total += $i }\n\"total=$total\"\n"
            "for ($i = 0; $i -lt 3; $i++) { }\n")
    res = ps(machine, text)
    assert res.rc == 1 and b"the ++ operator is not emulated" in res.stderr   # refused before anything runs
    res = ps(machine, text.replace("for ($i = 0; $i -lt 3; $i++) { }\n", "$n = 0\nwhile ($n -lt 3) { $n += 1 }\n$n\n"
                                   "do { $n -= 1 } until ($n -le 0)\n$n\n"))
    assert out(res) == "b\r\nnumbers\r\nstrings\r\nabsent\r\nmatch ta\r\n2,2\r\nFalse\r\nnull\r\ntotal=7\r\n3\r\n0\r\n"


def test_operators_and_values(machine):
    text = ("'{0}-{1:D3}-{2:N1}' -f 'a', 7, 1234.5\n"
            "'a,b,,c' -split ','  -join '|'\n"
            "'Hello World' -replace 'o(\\w)', '0$1'\n"
            "1MB + 1KB\n7 / 2\n6 / 3\n7 % 3\n'ab' * 3\n@(1, 2) + 3 -join ' '\n"
            "[int]'42' + [int]2.5 + [int]3.5\n"
            "$h = @{ Name = 'x'; Count = 2 }\n$h.name + $h['COUNT']\n"
            "$o = [ordered]@{ z = 1; a = 2 }\n$o.Keys -join ','\n"
            "$p = [pscustomobject]@{ First = 1; Second = 'two' }\n"
            "($p.PSObject.Properties | ForEach-Object { \"$($_.Name)=$($_.Value)\" }) -join ';'\n"
            "$list = [System.Collections.Generic.List[object]]::new()\n$list.Add('one')\n$list.Add(2)\n$list.Count\n"
            "'  trim me  '.Trim().ToUpper()\n'C:\\a\\b.txt'.Split('\\')[-1]\n"
            "@'\nverbatim $x\n'@\n"
            "$x = 'y'\n@\"\nexpanded $x `$x\n\"@\n"
            "[string]::IsNullOrEmpty('')\n[Guid]::NewGuid().ToString().Length\n"
            "('a' -is [string]) -and (1 -is [int]) -and -not ('1' -is [int]) -and (@() -is [array])\n"
            "5 -in 1..5\n'b' -notin 'a', 'c'\n$splat = @{ Object = 'splatted' }\nWrite-Host @splat\n")
    assert out(ps(machine, text)) == ("a-007-1,234.5\r\na|b||c\r\nHello W0rld\r\n1049600\r\n3.5\r\n2\r\n1\r\n"
                                      "ababab\r\n1 2 3\r\n48\r\nx2\r\nz,a\r\nFirst=1;Second=two\r\n2\r\nTRIM ME\r\n"
                                      "b.txt\r\nverbatim $x\r\nexpanded y $x\r\nTrue\r\n36\r\nTrue\r\nTrue\r\nTrue\r\n"
                                      "splatted\r\n")


def test_format_operator_throws_on_a_lone_brace(machine):
    # String.Format: an unescaped '{' is a FormatException, as the defect 1 on Windows.
    res = ps(machine, "try { \"try { & '{0}' }\" -f 'x' } catch { \"caught: $($_.Exception.Message)\" }\n"
                      "'{{literal}} {0}' -f 'ok'\n")
    assert out(res) == ("caught: Error formatting a string: Input string was not in a correct format..\r\n"
                        "{literal} ok\r\n")


def test_scriptblocks_and_call_operator(machine):
    machine.fs_write("C:\\Temp\\t.ps1", b"param([string]$Site, [int]$N, [switch]$F)\n\"site=$Site n=$N f=$F\"\n")
    text = ("$sb = [scriptblock]::Create('& $args[0] ' + \"-Site 'Ber lin' -N 3 -F\")\n& $sb 'C:\\Temp\\t.ps1'\n"
            "$splat = @{ Site = \"O'Neil\"; N = 1 }\n& 'C:\\Temp\\t.ps1' @splat\n"
            "& { param($a) \"block $a\" } 'arg'\n$r = [ref]$false\n& { $args[0].Value = $true } $r\n$r.Value\n")
    assert out(ps(machine, text)) == "site=Ber lin n=3 f=True\r\nsite=O'Neil n=1 f=False\r\nblock arg\r\nTrue\r\n"
    res = ps(machine, "[scriptblock]::Create('if (')\n'next'\n")
    assert res.rc == 0 and res.stdout == b"next\r\n"
    assert b'Exception calling "Create" with "1" argument(s)' in res.stderr


# errors and $? --------------------------------------------------------------------------------------------

def test_terminating_and_non_terminating_errors(machine):
    text = ("Get-Item C:\\Nope\n'after non-terminating'\n"
            "try { Get-Item C:\\Nope -ErrorAction Stop; 'not here' }\n"
            "catch [System.Management.Automation.ItemNotFoundException] { \"caught: $($_.Exception.Message)\" }\n"
            "finally { 'finally' }\n"
            "Get-Item C:\\Nope -ErrorAction SilentlyContinue\n\"silent ok=$?\"\n"
            "[int]::Parse('x')\n'after a statement-terminating error'\n"
            "try { throw 'mine' } catch { \"caught $_ $($_.FullyQualifiedErrorId)\" }\n"
            "$ErrorActionPreference = 'Stop'\nGet-Item C:\\Nope\n'never'\n")
    res = ps(machine, text)
    assert res.rc == 1
    assert res.stdout.decode() == ("after non-terminating\r\ncaught: Cannot find path 'C:\\Nope' because it does not "
                                   "exist.\r\nfinally\r\nsilent ok=False\r\nafter a statement-terminating error\r\n"
                                   "caught mine mine\r\n")
    err = res.stderr.decode()
    assert err.count("Cannot find path 'C:\\Nope' because it does not exist.") == 2
    assert 'Exception calling "Parse" with "1" argument(s): "Input string was not in a correct format."' in err


def test_question_mark_after_scripts_and_programs(machine):
    machine.fs_write("C:\\Temp\\exit7.ps1", b"exit 7\n")
    machine.fs_write("C:\\Temp\\normal.ps1", b"cmd.exe /c exit 3\n'done'\n")
    text = ("& C:\\Temp\\exit7.ps1\n\"exit7 ok=$? lec=$LASTEXITCODE\"\n"
            "& C:\\Temp\\normal.ps1\n\"normal ok=$? lec=$LASTEXITCODE\"\n"
            "& { & C:\\Temp\\exit7.ps1 }\n\"in a block ok=$? lec=$LASTEXITCODE\"\n"
            "cmd.exe /c exit 4\n\"native ok=$? lec=$LASTEXITCODE\"\n")
    # guess (documented on script processors): exit N != 0 fails the call, a normal end does not, and a
    # script block reports only whether it ran.
    assert out(ps(machine, text)) == ("exit7 ok=False lec=7\r\ndone\r\nnormal ok=True lec=3\r\n"
                                      "in a block ok=True lec=7\r\nnative ok=False lec=4\r\n")


def test_encoded_command_exit_codes(machine):
    assert ps(machine, "'x'").rc == 0
    assert ps(machine, "exit 9").rc == 9
    assert ps(machine, "cmd.exe /c exit 3").rc == 1          # the last statement failed: 1, not its rc
    assert ps(machine, "cmd.exe /c exit 3\n'then fine'").rc == 0
    res = ps(machine, "throw 'up'\n'never'")
    assert res.rc == 1 and res.stdout == b"" and errors(res).startswith(b"up\r\nAt line:1 char:1\r\n+ throw 'up'")
    res = ps(machine, "if ($true) {")
    assert res.rc == 1 and b"Missing closing '}'" in res.stderr


def test_streams(machine):
    res = script(machine, "Write-Host 'to host'\nWrite-Warning 'careful'\nWrite-Verbose 'quiet'\nWrite-Error 'it broke'"
                          "\nWrite-Output 'after'\n")
    assert res.rc == 0
    assert res.stdout == b"to host\r\nWARNING: careful\r\nafter\r\n"
    assert errors(res).startswith(b"C:\\Temp\\s.ps1 : it broke\r\n")


def test_stdin_and_dotnet(machine):
    text = ("$buffer = New-Object -TypeName System.IO.MemoryStream\n[Console]::OpenStandardInput().CopyTo($buffer)\n"
            "$text = [System.Text.Encoding]::UTF8.GetString($buffer.ToArray())\n"
            "$obj = ConvertFrom-Json -InputObject $text\n$obj.name\n$obj.list[1]\n$obj.nested.deep\n"
            "$path = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath 'x.txt'\n"
            "[System.IO.File]::WriteAllText($path, 'é', (New-Object System.Text.UTF8Encoding -ArgumentList $true))\n"
            "$path\n[Console]::Error.WriteLine('to stderr')\n")
    res = ps(machine, text, stdin='{"name": "Zoë", "list": [1, 2], "nested": {"deep": true}}'.encode())
    temp = "C:\\Users\\Administrator\\AppData\\Local\\Temp\\x.txt"
    assert res.stdout.decode() == f"Zoë\r\n2\r\nTrue\r\n{temp}\r\n" and res.stderr == b"to stderr\r\n"
    assert machine.fs_read(temp) == b"\xef\xbb\xbf" + "é".encode()


def test_files_and_registry(machine):
    res = script(machine, "New-Item -ItemType Directory -Path C:\\Data\\Sub -Force | Out-Null\n"
                          "Set-Content -Path C:\\Data\\Sub\\a.txt -Value 'one'\nAdd-Content C:\\Data\\Sub\\a.txt 'two'\n"
                          "$c = Get-Content -Path C:\\Data\\Sub\\a.txt -Raw\nWrite-Output $c.Length\n"
                          "Get-Content C:\\Data\\Sub\\a.txt\n"
                          "New-Item -Path HKLM:\\SOFTWARE\\Contoso -Force | Out-Null\n"
                          "New-ItemProperty -Path HKLM:\\SOFTWARE\\Contoso -Name Ring -Value 2 -PropertyType DWord "
                          "| Out-Null\n"
                          "Set-ItemProperty -Path 'HKLM:\\SOFTWARE\\Contoso' -Name Site -Value \"Berlin\"\n"
                          "Write-Output (Get-ItemProperty -Path HKLM:\\SOFTWARE\\Contoso -Name Ring).Ring\n"
                          "if (Test-Path HKLM:\\SOFTWARE\\Contoso) { Write-Output 'key' }\n"
                          "Remove-Item -LiteralPath C:\\Data -Recurse -Force\nTest-Path C:\\Data\n")
    assert res.rc == 0, res.stderr
    assert machine.reg_value("HKLM\\SOFTWARE\\Contoso", "Ring") == {"type": "REG_DWORD", "data": 2}
    assert machine.reg_value("HKLM\\SOFTWARE\\Contoso", "Site")["data"] == "Berlin"
    assert res.stdout == b"10\r\none\r\ntwo\r\n2\r\nkey\r\nFalse\r\n"
    assert not machine.fs_exists("C:\\Data")


def test_cim_queries(machine):
    text = ("$os = Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime, Caption\n"
            "$os.Caption\n$os.Version -eq $null\n$os.LastBootUpTime.ToFileTime() -gt 0\n"
            "(Get-CimInstance Win32_LogicalDisk -Filter \"DeviceID = 'C:'\").DeviceID\n"
            "@(Get-CimInstance -Namespace root\\StandardCimv2 -ClassName MSFT_NetAdapter | Where-Object { "
            "$_.HardwareInterface }).Count\n"
            "try { Get-CimInstance -Namespace root\\nope -ClassName X -ErrorAction Stop } catch { "
            "\"$($_.Exception.GetType().FullName): [$($_.Exception.Message)]\" }\n")
    assert out(ps(machine, text)) == ("Microsoft Windows 11 Enterprise\r\nTrue\r\nTrue\r\nC:\r\n2\r\n"
                                      "Microsoft.Management.Infrastructure.CimException: [Invalid namespace ]\r\n")


def test_env_is_visible_to_native_commands(machine):
    res = script(machine, "$env:TS_LEVEL = 'high'\ncmd.exe /c echo %TS_LEVEL%\nWrite-Output \"rc=$LASTEXITCODE\"\n"
                          "& C:\\Windows\\System32\\cmd.exe /c exit 3\nexit $LASTEXITCODE\n")
    assert (res.rc, res.stdout) == (3, b"high\r\nrc=0\r\n")


def test_set_location_is_what_native_programs_start_in(machine):
    res = ps(machine, "Set-Location C:\\Windows\ncmd.exe /c cd\n$here = Get-Location\n\"in $here\"\n"
                      "nosuchtool.exe\n'next'\n")
    assert res.stdout == b"C:\\Windows\r\nin C:\\Windows\r\nnext\r\n"
    assert b"The term 'nosuchtool.exe' is not recognized" in res.stderr


def test_start_sleep_stops_when_cancelled(machine):
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    start = time.time()
    res = script(machine, "Start-Sleep -Seconds 30\nWrite-Output 'never'\n", cancel=cancel)
    assert res.rc == 1 and res.stdout == b"" and time.time() - start < 2


# refusals -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,what", [
    ("Write-Output 'one'\nGet-Process | Stop-Process\n", "line 2: Get-Process | Stop-Process"),
    ("function f { 1 }\n", "line 1: 'function f { 1 }' (the 'function' statement is not emulated)"),
    ("$x = [System.Net.WebClient]::new()\n", "line 1: the type [System.Net.WebClient] is not emulated"),
    ("'a'\nSet-Content -Path C:\\x.txt -Value 1 -Stream alt\n",
     "line 2: Set-Content -Path C:\\x.txt -Value 1 -Stream alt (the parameter -Stream of Set-Content is not"),
    ("\n\n$MyInvocation.MyCommand\n", "line 3: $MyInvocation (the automatic variable is not emulated)"),
    ("'abc'.Normalize(1, 2)\n", "line 1: the method String.Normalize() with 2 argument(s)"),
    ("switch (1) { 1 { 'one' } }\n", "line 1: 'switch (1) { 1 { 'one' } }' (the 'switch' statement"),
    ("#Requires -RunAsAdministrator\n'x'\n", "line 1: #Requires -RunAsAdministrator"),
])
def test_refuses_what_it_does_not_know(machine, text, what):
    res = ps(machine, text)
    assert res.rc == 1
    assert "simulated host: unsupported PowerShell at " + what in res.stderr.decode()


def test_a_refusal_is_not_caught_by_try(machine):
    res = ps(machine, "try { Get-Process } catch { 'swallowed' }\n'after'\n")
    assert res.rc == 1 and res.stdout == b""
    assert b"unsupported PowerShell at line 1" in res.stderr


def test_execution_policy(machine):
    # A script the policy refuses is a statement-terminating error of the call.
    res = script(machine, "Write-Output 'x'\n", policy="AllSigned")
    assert res.stdout == b"" and b"is not digitally signed" in res.stderr
    assert out(script(machine, "Write-Output 'x'\n# SIG # Begin signature block\n", policy="AllSigned")) == "x\r\n"
    res = script(machine, "Write-Output 'x'\n", policy="Restricted")
    assert res.stdout == b"" and b"running scripts is disabled on this system" in res.stderr
    # -ExecutionPolicy lives in the process environment: a child powershell.exe inherits it.
    res = script(machine, "Write-Output 'x'\n", policy=None, env={"PSExecutionPolicyPreference": "AllSigned"})
    assert b"is not digitally signed" in res.stderr


def test_powershell_exe_file(machine):
    machine.fs_write("C:\\Temp\\f.ps1", b"param([string]$Name, [int]$N)\r\n\"hi $Name $($N + 1)\"\r\nexit 4\r\n")
    res = run(machine, "powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\Temp\\f.ps1 -Name \"A nn\" -N 2")
    assert (res.rc, res.stdout) == (4, b"hi A nn 3\r\n")
    machine.fs_write("C:\\Temp\\g.ps1", b"cmd.exe /c exit 3\r\n")
    assert run(machine, "powershell.exe -File C:\\Temp\\g.ps1").rc == 0
    machine.fs_write("C:\\Temp\\h.ps1", b"throw 'no'\r\n")
    assert run(machine, "powershell.exe -File C:\\Temp\\h.ps1").rc == 1
    res = run(machine, "powershell.exe -File C:\\Temp\\missing.ps1")
    assert res.rc == -196608 and b"does not exist" in res.stderr


def test_parser_positions():
    ast = pwsh.parse("# comment\n<# block\ncomment #>\n$a = 1\nif ($a) {\n  'x'\n}\n")
    assert [(s.kind, s.line) for s in ast.body] == [("assign", 4), ("if", 5)]
    with pytest.raises(pwsh.PSParseError) as e:
        pwsh.parse("'open")
    assert e.value.message == "The string is missing the terminator: '."
