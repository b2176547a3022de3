"""win_ping, win_command and win_shell on the simulated host."""

from __future__ import annotations

import ntpath
import re

from tests.winsim import programs, pwsh
from tests.winsim.modules._base import Opt, ScriptThrow, Spec, delta_text, now_text

PING_SPEC = Spec(options={"data": Opt(default="pong")})


def win_ping(mod) -> None:
    if mod.params["data"] == "crash":
        raise ScriptThrow("boom")   # win_ping's own test of an unhandled exception
    mod.result["ping"] = mod.params["data"]


COMMAND_SPEC = Spec(
    options={
        "_raw_params": Opt(), "cmd": Opt(), "argv": Opt(type="list", elements="str"), "chdir": Opt(type="path"),
        "creates": Opt(type="path"), "removes": Opt(type="path"), "stdin": Opt(),
        "output_encoding_override": Opt(emulated=False),
    },
    supports_check_mode=False,
    required_one_of=(("_raw_params", "argv", "cmd"),),
    mutually_exclusive=(("_raw_params", "argv", "cmd"),),
)


def _escape_arg(arg: str) -> str:
    """ConvertTo-EscapedArgument (C argument rules)."""
    if not arg:
        return '""'
    if not re.search(r'[\s"]', arg):
        return arg
    arg = arg.replace('"', '\\"')
    arg = re.sub(r'(\\+)\\"', r'\1\1\\"', arg)
    arg = re.sub(r"(\\+)$", r"\1\1", arg)
    return f'"{arg}"'


def _resolve_executable(ctx, file_path: str) -> str:
    """Resolve-ExecutablePath: .exe when there is no extension, then PATH, then the working directory."""
    if not ntpath.splitext(file_path)[1]:
        file_path += ".exe"
    try:
        folders = [d for d in (ctx.getenv("PATH") or "").split(";") if d.strip()]
        path, _rec = programs.resolve(ctx, file_path, folders=folders)
        return path
    except programs.ProgramNotFound:
        pass
    candidate = ctx.abspath(file_path)
    return candidate if ctx.machine.fs_exists(candidate) else file_path


def _exists(mod, path: str) -> bool:
    """Test-AnsiblePath."""
    return mod.machine.fs_exists(path)


def win_command(mod) -> None:
    p = mod.params
    ctx = programs.Context(mod.machine, mod.env(), p["chdir"] or mod.machine.user_env(mod.inv.run_as)["USERPROFILE"],
                           mod.inv.run_as, mod.cancel, session=mod.inv.session,
                           stdin=(p["stdin"] or "").encode("utf-8"))
    if p["cmd"]:
        raw = p["cmd"]
    elif p["_raw_params"]:
        raw = p["_raw_params"].strip()
    else:
        exe = _resolve_executable(ctx, p["argv"][0])
        raw = " ".join([_escape_arg(exe), *(_escape_arg(a) for a in p["argv"][1:])])
    mod.result.update(cmd=raw, rc=0)
    if p["creates"] and _exists(mod, p["creates"]):
        mod.result.update(msg=f"skipped, since {p['creates']} exists", skipped=True)
        mod.exit_json()
    if p["removes"] and not _exists(mod, p["removes"]):
        mod.result.update(msg=f"skipped, since {p['removes']} does not exist", skipped=True)
        mod.exit_json()
    start = now_text()
    if p["chdir"] and not mod.machine.fs_exists(p["chdir"]):
        mod.result["rc"] = 2
        mod.fail_json(f"Failed to run: '{raw}': Could not find specified -WorkingDirectory '{p['chdir']}'")
    name, args = programs.split_program(raw)
    app = _resolve_executable(ctx, name)
    rec = mod.machine.fs_get(ctx.abspath(app)) if (":" in app or "\\" in app) else None
    try:
        if rec is None or rec.get("type") != "file":
            raise programs.ProgramNotFound()
        res = programs.run_file(ctx, rec["path"], rec, args)
    except programs.ProgramNotFound as e:
        mod.result["rc"] = e.code
        # Win32Exception from Ansible.Windows.Process, wrapped by PowerShell's method call.
        mod.fail_json(f"Failed to run: '{raw}': Exception calling \"CreateProcess\" with \"7\" argument(s): "
                      f"\"CreateProcessW() failed ({str(e).rstrip('.')}, Win32ErrorCode {e.code} - 0x{e.code:08X})\"")
    end = now_text()
    mod.result.update(cmd=raw, changed=True, stdout=res.stdout.decode("utf-8", "replace"),
                      stderr=res.stderr.decode("utf-8", "replace"), rc=res.rc, start=start, end=end,
                      delta=delta_text(start, end))
    if res.rc != 0:
        mod.fail_json("non-zero return code")


SHELL_SPEC = Spec(
    options={
        "_raw_params": Opt(required=True), "chdir": Opt(type="path"), "executable": Opt(type="path"),
        "creates": Opt(type="path"), "removes": Opt(type="path"), "stdin": Opt(), "no_profile": Opt(type="bool"),
        "output_encoding_override": Opt(),
    },
    supports_check_mode=False,
    legacy=True,
)


def win_shell(mod) -> None:
    p = mod.params
    raw = p["_raw_params"].strip()
    if p["output_encoding_override"]:
        mod.fail_json("simulated host: win_shell option(s) output_encoding_override are not emulated")
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
    cwd = p["chdir"] or mod.machine.user_env(mod.inv.run_as)["USERPROFILE"]
    ctx = programs.Context(mod.machine, mod.env(), cwd, mod.inv.run_as, mod.cancel, session=mod.inv.session,
                           stdin=(p["stdin"] or "").encode("utf-8"))
    start = now_text()
    if executable.lower() in ("powershell", "powershell.exe"):
        # powershell.exe -noninteractive -encodedcommand <the command>: run by the PowerShell subset.
        res = pwsh.Interpreter(ctx, source="win_shell").run(raw, [], raw=True)
    else:
        app = executable if executable.lower().endswith(".exe") else executable + ".exe"
        try:
            path, rec = programs.resolve(ctx, app)
        except programs.ProgramNotFound:
            mod.result.update(changed=False, rc=2)
            mod.fail_json(f"Exception calling \"SearchPath\" with \"1\" argument(s): \"Could not find file '{app}'.\"")
        res = programs.run_file(ctx, path, rec, f"/c {raw}")
    end = now_text()
    mod.result.update(stdout=res.stdout.decode("utf-8", "replace"), stderr=res.stderr.decode("utf-8", "replace"),
                      rc=res.rc, start=start, end=end, delta=delta_text(start, end))
    if res.rc != 0:
        mod.fail_json("non-zero return code")
