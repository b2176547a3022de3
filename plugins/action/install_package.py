# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Install Package: a catalog package's program, run from its content on the host (win_command)."""

from __future__ import annotations

import re

from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _content
from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import PACKAGES_FACT, StepOutcome

HARD_RESTART = 1641   # the program restarted (or will restart) the computer itself
RESTART_CODES = (3010, HARD_RESTART)


class ActionModule(_content.ContentStep):
    ARGUMENT_SPEC = {
        "package_id": {"type": "str"},
        "program_name": {"type": "str"},
        "base_variable_name": {"type": "str"},
        "continue_on_install_error": {"type": "bool", "default": False},
    }
    MUTUALLY_EXCLUSIVE = [("package_id", "base_variable_name")]
    REQUIRED_ONE_OF = [("package_id", "base_variable_name")]
    REQUIRED_TOGETHER = [("package_id", "program_name")]
    EXPAND = ("package_id", "program_name")

    def check_step_args(self, args, env):
        if args["package_id"] is not None:
            if args["package_id"] != args["package_id"].upper():
                raise AnsibleActionFail(f"package_id: '{args['package_id']}' must be upper-case, as ConfigMgr "
                                        f"requires ({args['package_id'].upper()}).")
            self.catalog.program(args["package_id"], args["program_name"], "package_id")
            self.installs = [(None, args["package_id"], args["program_name"])]
            return
        base = args["base_variable_name"]
        if not re.match(r"^[A-Za-z][A-Za-z0-9_-]{0,252}$", base):
            raise AnsibleActionFail(f"base_variable_name: '{base}' is not a task sequence variable name.")
        self.installs = []
        for name, value in _content.base_variable_list(env, base, 3):
            package_id, sep, program = value.partition(":")
            if not sep or not package_id or not program:
                raise AnsibleActionFail(f"{name}: '{value}' is not PACKAGEID:Program name.")
            if package_id != package_id.upper():
                raise AnsibleActionFail(f"{name}: package ID '{package_id}' must be upper-case, as ConfigMgr "
                                        "requires.")
            self.catalog.program(package_id, program, name)
            self.installs.append((name, package_id, program))

    def run_step(self, args, env, task_vars):
        if not self.installs:
            # ConfigMgr: no <base>001 means nothing to install, and the sequence goes on.
            return StepOutcome(succeeded=True, msg=f"{args['base_variable_name']}001 is not set: nothing to install",
                               fields={"installs": []})
        locations = _content.known_locations(task_vars)
        folders = _content.network_folders(task_vars)
        results, failures = [], []
        changed = reboot = False
        last_rc = 0
        for variable, package_id, program_name in self.installs:
            entry = {"package_id": package_id, "program": program_name}
            if variable:
                entry["variable"] = variable
            try:
                outcome = self._install_one(package_id, program_name, env, task_vars, locations, folders, entry)
            except _content.ContentError as e:
                outcome = StepOutcome(succeeded=False, msg=str(e))
            entry.update(changed=outcome.changed, failed=not outcome.succeeded, rc=outcome.rc,
                         reboot_required=outcome.reboot_required)
            if outcome.msg:
                entry["msg"] = outcome.msg
            results.append(entry)
            changed = changed or outcome.changed
            reboot = reboot or outcome.reboot_required
            if outcome.rc is not None:
                last_rc = outcome.rc
            if not outcome.succeeded:
                failures.append(f"{package_id}:{program_name}: {outcome.msg}")
                if not args["continue_on_install_error"]:
                    break
        msg = "; ".join(failures) if failures else (
            "already installed" if not changed else "installed " + ", ".join(
                f"{r['package_id']}:{r['program']}" for r in results if r["changed"]))
        first_failed = next((r for r in results if r["failed"]), None)
        rc = (first_failed.get("rc") or 1) if first_failed else last_rc
        return StepOutcome(succeeded=not failures, rc=rc, changed=changed, reboot_required=reboot, msg=msg,
                           fields={"installs": results}, facts={PACKAGES_FACT: locations})

    def _install_one(self, package_id, program_name, env, task_vars, locations, folders, entry) -> StepOutcome:
        package = self.catalog.packages[package_id]
        program = self.catalog.program(package_id, program_name, "package_id")
        if program["detection"] is not None:
            evidence: list[str] = []
            if _content.detect(self, program["detection"], task_vars, evidence):
                entry["detection"] = evidence
                return StepOutcome(succeeded=True, changed=False, msg="already installed (detected)")
        folder = next((path for key, path in locations.items() if key.upper() == package_id), None)
        if folder is None:
            # Not downloaded earlier in the sequence: into the working directory first (ConfigMgr runs from cache).
            folder = _content.destination_folder("working_directory", None, package_id, env)
            done = _content.transfer(self, package["source"], folder, task_vars, env, folders)
            entry["downloaded"] = done["changed"]
            locations[package_id] = folder
        entry["path"] = folder
        codes = list(program["success_codes"])
        if not program["may_restart"]:
            codes = [c for c in codes if c not in RESTART_CODES]
        command = env.expand(program["command_line"])
        outcome = self.run_command({"success_codes": codes}, env, task_vars, display_cmd=command, cmd=command,
                                   chdir=folder)
        entry["cmd"] = command
        if outcome.succeeded and outcome.rc == HARD_RESTART:
            outcome.reboot_required = True
            entry["hard_restart"] = True
        if not outcome.succeeded and outcome.rc in RESTART_CODES and not program["may_restart"]:
            outcome.msg += " (the catalog says this program may not restart the computer)"
        if outcome.succeeded and not self._task.check_mode and program["detection"] is not None \
                and not outcome.reboot_required:
            evidence = []
            if not _content.detect(self, program["detection"], task_vars, evidence):
                entry["detection"] = evidence
                return StepOutcome(succeeded=False, rc=outcome.rc, changed=True,
                                   msg="the program succeeded but its detection method does not find it")
        return outcome
