"""Emulated ansible.windows modules of the simulated host.

Each handler returns what the real module returns (same keys, ``changed``, ``failed``,
``msg``), honours check mode, and refuses options it does not emulate by name. An unknown
module fails naming it. Test fixture: never shipped.
"""

from __future__ import annotations

import traceback

from tests.winsim.machine import FsError
from tests.winsim.modules import commands, files, package, powershell, registry, setup, updates, web
from tests.winsim.modules._base import Module, ModuleExit, ModuleFail, ScriptThrow

# module short name -> (Spec, handler); every handler takes the Module and fills module.result.
HANDLERS = {
    "setup": (setup.SPEC, setup.run),
    "win_ping": (commands.PING_SPEC, commands.win_ping),
    "win_command": (commands.COMMAND_SPEC, commands.win_command),
    "win_shell": (commands.SHELL_SPEC, commands.win_shell),
    "win_powershell": (powershell.SPEC, powershell.run),
    "win_package": (package.SPEC, package.run),
    "win_updates": (updates.SPEC, updates.run),
    "win_stat": (files.STAT_SPEC, files.win_stat),
    "win_file": (files.FILE_SPEC, files.win_file),
    "win_copy": (files.COPY_SPEC, files.win_copy),
    "slurp": (files.SLURP_SPEC, files.slurp),
    "win_get_url": (web.SPEC, web.run),
    "win_reg_stat": (registry.REG_STAT_SPEC, registry.win_reg_stat),
    "win_mapped_drive": (registry.MAPPED_DRIVE_SPEC, registry.win_mapped_drive),
}


def run(machine, inv, cancel) -> dict:
    """The result JSON object of one module run (its exit code is 1 when it failed)."""
    collection, _sep, short = inv.name.rpartition(".")
    entry = HANDLERS.get(short) if collection == "ansible.windows" else None
    if entry is None:
        return {"failed": True, "msg": f"simulated host: module '{inv.name}' is not emulated"}
    spec, handler = entry
    module = Module(machine, inv, spec, cancel)
    try:
        module.parse()
        module.refuse_unemulated()
        handler(module)
    except ModuleExit:
        pass
    except ModuleFail as e:
        module.result.update(e.extra)
        module.result.update(failed=True, msg=e.msg)
    except FsError as e:
        module.result.update(failed=True, msg=str(e))
    except ScriptThrow as e:
        return {"failed": True, "msg": f"Unhandled exception while executing module: {e}", "exception": str(e)}
    except Exception as e:   # the emulation itself broke: what module_wrapper reports for an unhandled error
        return {"failed": True, "msg": f"Unhandled exception while executing module: {e}",
                "exception": traceback.format_exc()}
    return module.finish()
