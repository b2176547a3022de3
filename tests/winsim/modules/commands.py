"""win_ping, win_command and win_shell on the simulated host."""

from __future__ import annotations

import ntpath

from tests.winsim import programs, pwsh
from tests.winsim.modules._base import Emulated, ScriptThrow, delta_text, now_text

PING_SPEC = Emulated("win_ping")


def win_ping(mod) -> None:
    if mod.params["data"] == "crash":
        raise ScriptThrow("boom")   # win_ping's own test of an unhandled exception
    mod.result["ping"] = mod.params["data"]


COMMAND_SPEC = Emulated("win_command")

# ansible.windows 3.3.0 sources cited below: win_command.ps1, module_utils/Process.psm1 and
# module_utils/Process.cs; win_shell goes through ansible-core's Ansible.ModuleUtils.CommandUtil.psm1
# and Ansible.Process.cs instead.
_escape_arg = programs.escape_argument     # ConvertTo-EscapedArgument (Process.psm1:73-117)
# .NET names Encoding.GetEncoding knows that Python spells differently.
_DOTNET_ENCODINGS = {"unicode": "utf-16-le", "utf-16": "utf-16-le", "unicodefffe": "utf-16-be", "utf-32": "utf-32-le"}


def _module_process(mod, stdin: str | None) -> programs.Context:
    """The module's own PowerShell process, the parent of what it starts.

    guess: a module run over WinRM starts in the account's profile folder (the shell's folder);
    Process.psm1:175 makes that (Get-Location) the child's default working directory too.
    """
    return programs.Context(mod.machine, mod.env(), mod.machine.user_env(mod.inv.run_as)["USERPROFILE"],
                            mod.inv.run_as, mod.cancel, session=mod.inv.session, stdin=(stdin or "").encode("utf-8"))


def resolve_executable_path(parent: programs.Context, file_path: str, working_directory: str | None) -> str:
    """Resolve-ExecutablePath (Process.psm1:6-44)."""
    if not ntpath.splitext(file_path)[1]:        # [IO.Path]::HasExtension, else ".exe" (:20-23)
        file_path += ".exe"
    # Get-Command -CommandType Application (:27): a path is taken relative to PowerShell's location,
    # a bare name is looked for on PATH only (PowerShell never searches its current folder).
    if programs._has_dir(file_path):
        candidates = [parent.abspath(file_path)]
    else:
        candidates = [ntpath.join(parent.abspath(d), file_path)
                      for d in (parent.getenv("PATH") or "").split(";") if d.strip()]
    for candidate in candidates:
        rec = parent.machine.fs_get(candidate)
        if rec and rec.get("type") == "file":
            return rec["path"]
    if working_directory:                        # then relative to -WorkingDirectory (:33-40)
        joined = parent.abspath(ntpath.join(working_directory, file_path))
        if parent.machine.fs_exists(joined):     # Test-Path: any item
            return parent.machine.fs_get(joined)["path"]
    return file_path                             # "Just hope for the best" (:42-43)


def output_codec(name: str | None) -> str:
    """Encoding.GetEncoding(outputEncoding), "utf-8" when unset (Process.cs:737-740; Ansible.Process.cs:401-402).

    guess: a program started under WinRM writes UTF-8 when it honours the console code page
    (Process.cs:495-503 allocates a console set to 65001); one writing its ANSI/OEM code page
    needs output_encoding_override, as on Windows.
    """
    import codecs

    if not name:
        return "utf-8"
    key = name.strip().lower()
    try:
        return codecs.lookup(_DOTNET_ENCODINGS.get(key, key)).name
    except LookupError:
        # guess: .NET Framework's ArgumentException text for an unknown encoding name
        raise programs.ProgramNotFound(f"'{name}' is not a supported encoding name. For information on defining a "
                                       "custom encoding, see the documentation for the Encoding.RegisterProvider "
                                       "method.\r\nParameter name: name", code=-1) from None


def _decode(data: bytes, codec: str) -> str:
    return data.decode(codec, "replace")      # .NET decoders put U+FFFD for invalid bytes too


def _exists(mod, path: str) -> bool:
    """Test-AnsiblePath."""
    return mod.machine.fs_exists(path)


def win_command(mod) -> None:
    p = mod.params
    parent = _module_process(mod, p.get("stdin"))
    chdir = p["chdir"]
    file_path = None
    if p["cmd"]:                                 # win_command.ps1:61-78: cmd and free form are used as they are
        raw = p["cmd"]
    elif p["_raw_params"]:
        raw = p["_raw_params"].strip()
    else:                                        # argv: resolve argv[0], then escape everything (:67-77)
        file_path = resolve_executable_path(parent, p["argv"][0], chdir)
        raw = " ".join([_escape_arg(file_path), *(_escape_arg(a) for a in p["argv"][1:])])
    mod.result.update(cmd=raw, rc=0)
    if p["creates"] and _exists(mod, p["creates"]):
        mod.result.update(msg=f"skipped, since {p['creates']} exists", skipped=True)
        mod.exit_json()
    if p["removes"] and not _exists(mod, p["removes"]):
        mod.result.update(msg=f"skipped, since {p['removes']} does not exist", skipped=True)
        mod.exit_json()
    start = now_text()
    # Start-AnsibleWindowsProcess (Process.psm1:119-240); anything it throws is caught by
    # win_command.ps1:112-130: rc = the first NativeErrorCode down the exception chain, else 2.
    try:
        if chdir and not mod.machine.fs_exists(chdir):
            # Process.psm1:191-196 (Write-Error; module_wrapper's ErrorActionPreference Stop makes it throw)
            raise programs.ProgramNotFound(f"Could not find specified -WorkingDirectory '{chdir}'", code=-1)
        working_directory = mod.machine.fs_get(chdir)["path"] if chdir else parent.cwd   # default Get-Location (:175)
        # -FilePath, else argv[0] of the command line by CommandLineToArgv (:198-204), resolved again (:205)
        app = resolve_executable_path(parent, file_path or programs.split_program(raw)[0], working_directory)
        try:
            # WaitProcess gets the encoding before it resumes the suspended process (Process.cs:737-740):
            # an unknown name fails and the program never runs.
            codec = output_codec(p["output_encoding_override"])
            # CreateProcess(lpApplicationName=app, lpCommandLine=raw, lpCurrentDirectory=working_directory)
            # (Process.psm1:230, Process.cs:517, 613): app is not searched for, a partial path is the parent's.
            path, rec = programs.application(parent, app)
            if not mod.machine.fs_isdir(working_directory):
                raise programs.ProgramNotFound("The directory name is invalid.", 267)   # ERROR_DIRECTORY
        except programs.ProgramNotFound as e:
            # PowerShell's MethodInvocationException around a Win32Exception (Process.cs:391-398), or around
            # the ArgumentException of an unknown encoding (no NativeErrorCode: rc 2)
            inner = (f"CreateProcessW() failed ({str(e).rstrip('.')}, Win32ErrorCode {e.code} - 0x{e.code:08X})"
                     if e.code >= 0 else str(e))
            raise programs.ProgramNotFound(f"Exception calling \"CreateProcess\" with \"7\" argument(s): "
                                           f"\"{inner}\"", e.code) from None
        res = programs.run_file(parent.child(cwd=working_directory), path, rec, programs.split_program(raw)[1])
    except programs.ProgramNotFound as e:
        mod.result["rc"] = e.code if e.code >= 0 else 2
        mod.fail_json(f"Failed to run: '{raw}': {e}")
    end = now_text()
    mod.result.update(cmd=raw, changed=True, stdout=_decode(res.stdout, codec), stderr=_decode(res.stderr, codec),
                      rc=res.rc & 0xFFFFFFFF,   # Result.ExitCode is a uint (Process.cs:410): -1 -> 4294967295
                      start=start, end=end, delta=delta_text(start, end))
    if res.rc != 0:
        mod.fail_json("non-zero return code")


SHELL_SPEC = Emulated("win_shell")   # legacy: Get-AnsibleParam calls in win_shell.ps1


def _get_executable_path(parent: programs.Context, executable: str, directory: str | None) -> tuple[str, dict]:
    """Get-ExecutablePath (ansible-core Ansible.ModuleUtils.CommandUtil.psm1:6-45)."""
    if not ntpath.splitext(executable)[1]:        # :26-28
        executable += ".exe"
    # :29-36: a relative name is first looked for in the working directory; [String]$directory is ""
    # (not $null) when unset, so then it is "\\<name>", the root of the current drive.
    relative = not programs.is_abs_path(executable)
    candidate = ntpath.join(directory or "\\", executable) if relative else executable
    rec = parent.machine.fs_get(parent.abspath(candidate))
    if rec and rec.get("type") == "file":
        return rec["path"], rec
    try:
        # SearchPath(NULL, name) (Ansible.Process.cs:231-247): the host's image folder (powershell.exe's),
        # the process's current folder, System32, System, Windows, PATH.
        windir = parent.getenv("SystemRoot") or "C:\\Windows"
        if relative:
            return programs.resolve(parent, executable, extensions=("",),
                                    folders=programs.search_folders(parent, f"{windir}\\{programs.POWERSHELL_DIR}"))
        return programs.resolve(parent, executable, extensions=("",))
    except programs.ProgramNotFound:
        raise programs.ProgramNotFound(f"Exception calling \"SearchPath\" with \"1\" argument(s): "
                                       f"\"Could not find file '{executable}'.\"", code=-1) from None


def win_shell(mod) -> None:
    p = mod.params
    raw = p["_raw_params"].strip()
    mod.result = {"changed": True, "cmd": raw}
    if p["creates"] and _exists(mod, p["creates"]):
        mod.result = {"msg": f"skipped, since {p['creates']} exists", "cmd": raw, "changed": False, "skipped": True,
                      "rc": 0}
        mod.exit_json()
    if p["removes"] and not _exists(mod, p["removes"]):
        mod.result = {"msg": f"skipped, since {p['removes']} does not exist", "cmd": raw, "changed": False,
                      "skipped": True, "rc": 0}
        mod.exit_json()
    executable = (p["executable"] or "powershell").strip()
    parent = _module_process(mod, p["stdin"])
    start = now_text()
    try:
        # Run-Command (CommandUtil.psm1:47-104); win_shell.ps1:120-132 catches: rc 2 (the exceptions
        # here have no NativeErrorCode; StrictMode makes reading it fail), msg = the exception's message.
        chdir = p["chdir"]
        if chdir and not mod.machine.fs_exists(chdir):
            raise programs.ProgramNotFound(f"invalid working directory path '{chdir}'", code=-1)   # :83-88
        codec = output_codec(p["output_encoding_override"])
        child = parent.child(cwd=mod.machine.fs_get(chdir)["path"]) if chdir else parent
        if executable.lower() in ("powershell", "powershell.exe"):
            # win_shell.ps1:74-95: powershell.exe -noninteractive -encodedcommand <the command>, found by
            # SearchPath in its own image folder; run by the PowerShell subset.
            res = pwsh.Interpreter(child, source="win_shell").run(raw, [], raw=True)
        else:
            app = executable if executable.endswith(".exe") else executable + ".exe"   # win_shell.ps1:98-101
            path, rec = _get_executable_path(parent, app, chdir)
            res = programs.run_file(child, path, rec, f"/c {raw}")   # win_shell.ps1:102, "/c <command>"
    except programs.ProgramNotFound as e:
        mod.result.update(changed=False, rc=e.code if e.code >= 0 else 2)
        mod.fail_json(str(e))
    end = now_text()
    mod.result.update(stdout=_decode(res.stdout, codec), stderr=_decode(res.stderr, codec),
                      rc=res.rc & 0xFFFFFFFF,   # Ansible.Process.cs:203, uint ExitCode
                      start=start, end=end, delta=delta_text(start, end))
    if res.rc != 0:
        mod.fail_json("non-zero return code")
