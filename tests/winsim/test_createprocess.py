"""How win_command / win_shell find a program, set its working directory and read its output.

Every expectation here is worked out by hand from ansible.windows 3.3.0 (win_command.ps1,
module_utils/Process.psm1, Process.cs), ansible-core's CommandUtil.psm1 / Ansible.Process.cs and
the CreateProcessW / SearchPathW documentation, never from the emulation's output.
"""

from __future__ import annotations

import pytest

from tests.winsim import programs
from tests.winsim.machine import Machine
from tests.winsim.testkit import run_module

PROFILE = "C:\\Users\\Administrator"   # the module process's current folder under WinRM (a guess, see commands.py)
SEED = {"files": {
    # only in a folder that is neither on PATH nor the module's current folder
    "C:\\Pkg\\only_here.exe": {"program": {"stdout": "only_here in {cwd}: {args}\r\n"}},
    "C:\\Pkg\\install.bat": {"content": "@echo off\r\necho bat %1 in %CD%\r\n"},
    "C:\\Pkg\\lonely.bat": {"content": "@echo off\r\necho lonely\r\n"},
    # the module process's own current folder
    f"{PROFILE}\\in_profile.exe": {"program": {"stdout": "in_profile in {cwd}\r\n"}},
    # the 16-bit system folder: on SearchPath's list, not on PATH
    "C:\\Windows\\System\\legacy.exe": {"program": {"stdout": "legacy {args}\r\n"}},
    "C:\\Tools\\minus1.exe": {"program": {"rc": -1}},
    "C:\\Tools\\echoargs.exe": {"program": {"stdout": "{args}"}},
    # writes its ANSI code page (cp1252: u-umlaut 0xFC, sharp s 0xDF), as a narrow-printf C program does
    "C:\\Tools\\ansi.exe": {"program": {"stdout": "Gr\u00fc\u00dfe\r\n", "encoding": "cp1252",
                                        "effects": [{"write_file": {"path": "C:\\Tools\\ansi.ran", "content": "x"}}]}},
    "C:\\Work\\readme.txt": {"content": "x"},
}}


@pytest.fixture
def machine(tmp_path):
    return Machine("win01", tmp_path, reboot_seconds=0.3, seed=SEED)


def cmd(machine, args):
    out, rc = run_module(machine, "win_command", args)
    assert rc == (1 if out.get("failed") else 0)
    return out


NOT_FOUND = ("Exception calling \"CreateProcess\" with \"7\" argument(s): \"CreateProcessW() failed (The system "
             "cannot find the file specified, Win32ErrorCode 2 - 0x00000002)\"")


# program lookup ---------------------------------------------------------------------------------------

def test_argv_finds_a_program_in_chdir_and_runs_it_there(machine):
    # Resolve-ExecutablePath: .exe appended, not on PATH, found relative to -WorkingDirectory (Process.psm1:33-40);
    # the command line is rebuilt with the full path (win_command.ps1:74-77).
    out = cmd(machine, {"argv": ["only_here", "a b"], "chdir": "C:\\Pkg"})
    assert out["cmd"] == 'C:\\Pkg\\only_here.exe "a b"'
    assert out["stdout"] == 'only_here in C:\\Pkg: "a b"\r\n'


def test_cmd_also_resolves_against_chdir_in_ansible_windows_3(machine):
    # Process.psm1:203-205 resolves argv[0] of -CommandLine with the same -WorkingDirectory, then passes it as
    # lpApplicationName (:230): so with cmd too a program in chdir is found; cmd itself is kept as written.
    out = cmd(machine, {"cmd": "only_here x", "chdir": "C:\\Pkg"})
    assert out["cmd"] == "only_here x" and out["stdout"] == "only_here in C:\\Pkg: x\r\n"


def test_without_chdir_a_program_outside_path_is_not_found(machine):
    for args in ({"cmd": "only_here x"}, {"argv": ["only_here", "x"]}):
        out = cmd(machine, args)
        assert out["failed"] and out["rc"] == 2
        assert out["msg"] == f"Failed to run: '{out['cmd']}': {NOT_FOUND}"


def test_a_partial_application_name_is_completed_from_the_parents_folder_not_chdir(machine):
    # Not on PATH, not in chdir: Resolve-ExecutablePath returns "in_profile.exe" as given (:42-43) and
    # CreateProcess completes a partial lpApplicationName from the caller's current folder; the child
    # still starts in chdir (lpCurrentDirectory).
    out = cmd(machine, {"cmd": "in_profile", "chdir": "C:\\Work"})
    assert out["stdout"] == "in_profile in C:\\Work\r\n"


def test_win_command_does_not_search_system_folders_off_path_but_win_shell_searchpath_does(machine):
    # Get-Command looks on PATH only (Process.psm1:27); SearchPath (win_shell's executable, Ansible.Process.cs:231)
    # also looks in the image folder, the current folder, System32, System and Windows.
    out = cmd(machine, {"cmd": "legacy.exe"})
    assert out["failed"] and out["rc"] == 2
    out, _rc = run_module(machine, "win_shell", {"_raw_params": "hello", "executable": "legacy"})
    assert out["stdout"] == "legacy /c hello\r\n" and out["rc"] == 0


def test_win_shell_executable_missing(machine):
    out, rc = run_module(machine, "win_shell", {"_raw_params": "x", "executable": "nosuch"})
    assert rc == 1 and out["rc"] == 2 and out["changed"] is False
    assert out["msg"] == "Exception calling \"SearchPath\" with \"1\" argument(s): \"Could not find file 'nosuch.exe'.\""


def test_only_exe_is_appended_to_a_name_without_extension(machine):
    # [IO.Path]::HasExtension / "$FilePath.exe" (Process.psm1:21-23): lonely.bat is not tried for "lonely".
    out = cmd(machine, {"cmd": "lonely", "chdir": "C:\\Pkg"})
    assert out["failed"] and out["rc"] == 2 and out["msg"] == f"Failed to run: 'lonely': {NOT_FOUND}"


def test_a_batch_file_runs_through_cmd_in_chdir(machine):
    out = cmd(machine, {"cmd": "C:\\Pkg\\install.bat first", "chdir": "C:\\Work"})
    assert out["stdout"] == "bat first in C:\\Work\r\n" and out["rc"] == 0


def test_a_missing_program_and_a_missing_folder(machine):
    out = cmd(machine, {"cmd": "no-such-tool --version"})
    assert out["failed"] and out["rc"] == 2 and out["changed"] is False
    assert out["msg"] == f"Failed to run: 'no-such-tool --version': {NOT_FOUND}"
    out = cmd(machine, {"argv": ["C:\\NoDir\\tool.exe"]})
    assert out["rc"] == 3 and "The system cannot find the path specified, Win32ErrorCode 3 - 0x00000003" in out["msg"]


def test_a_missing_chdir(machine):
    # Process.psm1:191-196, caught by win_command.ps1:115-129 (no NativeErrorCode: rc 2)
    out = cmd(machine, {"cmd": "hostname", "chdir": "C:\\Nope"})
    assert out["failed"] and out["rc"] == 2
    assert out["msg"] == "Failed to run: 'hostname': Could not find specified -WorkingDirectory 'C:\\Nope'"
    out, _rc = run_module(machine, "win_shell", {"_raw_params": "hostname", "chdir": "C:\\Nope"})
    assert out["failed"] and out["rc"] == 2 and out["msg"] == "invalid working directory path 'C:\\Nope'"


def test_chdir_that_is_a_file(machine):
    out = cmd(machine, {"cmd": "hostname", "chdir": "C:\\Work\\readme.txt"})
    assert out["rc"] == 267 and "The directory name is invalid" in out["msg"]


# arguments, exit code, output ----------------------------------------------------------------------------

def test_argv_is_escaped_with_c_rules(machine):
    # ConvertTo-EscapedArgument: quoted only with blanks or quotes; \" for a quote; backslashes before a
    # quote, and at the end of a quoted argument, doubled.
    out = cmd(machine, {"argv": ["C:\\Tools\\echoargs.exe", "a b", 'say "hi"', "C:\\dir with space\\", "plain\\", ""]})
    expected = 'C:\\Tools\\echoargs.exe "a b" "say \\"hi\\"" "C:\\dir with space\\\\" plain\\ ""'
    assert out["cmd"] == expected
    assert programs.argv(out["stdout"]) == ["a b", 'say "hi"', "C:\\dir with space\\", "plain\\", ""]


def test_commandlinetoargvw_rules():
    assert programs.argv(r'a\\\"b "c d" e\f') == ['a\\"b', "c d", "e\\f"]
    assert programs.argv(r'"a\\" b') == ["a\\", "b"]
    assert programs.split_program(r'"C:\Program Files\x.exe"a b') == ("C:\\Program Files\\x.exe", "a b")


def test_minus_one_exit_code_is_unsigned(machine):
    out = cmd(machine, {"cmd": "C:\\Tools\\minus1.exe"})
    assert out["failed"] and out["rc"] == 4294967295 and out["msg"] == "non-zero return code"


def test_output_is_utf8_unless_overridden(machine):
    out = cmd(machine, {"cmd": "C:\\Tools\\ansi.exe"})
    assert out["stdout"] == "Gr\ufffd\ufffde\r\n"
    out = cmd(machine, {"cmd": "C:\\Tools\\ansi.exe", "output_encoding_override": "windows-1252"})
    assert out["stdout"] == "Gr\u00fc\u00dfe\r\n"
    out, _rc = run_module(machine, "win_shell", {"_raw_params": "x", "executable": "C:\\Tools\\ansi.exe",
                                                 "output_encoding_override": "windows-1252"})
    assert out["stdout"] == "Gr\u00fc\u00dfe\r\n"


def test_an_unknown_encoding_fails_before_the_program_runs(machine):
    out = cmd(machine, {"cmd": "C:\\Tools\\ansi.exe", "output_encoding_override": "no-such-encoding"})
    assert out["failed"] and out["rc"] == 2
    assert out["msg"].startswith("Failed to run: 'C:\\Tools\\ansi.exe': Exception calling \"CreateProcess\" with "
                                 "\"7\" argument(s): \"'no-such-encoding' is not a supported encoding name.")
    assert not machine.fs_exists("C:\\Tools\\ansi.ran")
