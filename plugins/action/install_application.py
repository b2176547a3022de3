# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Install Application: catalog applications with detection, requirements and dependencies (win_package)."""

from __future__ import annotations

import ntpath
import re
import time

from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _cmdline, _content, _inventory
from ansible_collections.tasksequence.windows.plugins.plugin_utils._catalog import UINT32
from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import StepOutcome

STATUS_VARIABLE = "_TSAppInstallStatus"
FAST_RETRIES = 2                      # 1618 (another installation is running): tries after the first
RETRY_DELAY_VARIABLE = "OSDAppInstallRetryTimeout"   # milliseconds, ConfigMgr's default 30000
# win_package adds /qn /norestart (and /L*V) itself; the catalog's msiexec switches for that are dropped.
_MSI_UI_SWITCH = re.compile(r"(?i)^[/-](qn|q|quiet|norestart|passive|qb!?-?|qr|qn\+)$")


def installer(command: str, folder: str | None, where: str) -> tuple[str, str]:
    """(win_package path, arguments) for a deployment type's install command line."""
    program, rest = _cmdline.split_program(command)
    if ntpath.basename(program).lower() in ("msiexec", "msiexec.exe"):
        tokens = re.findall(r'"[^"]*"|\S+', rest)
        path, keep, index = None, [], 0
        while index < len(tokens):
            token = tokens[index]
            if token.lower() in ("/i", "-i", "/package", "-package") and index + 1 < len(tokens):
                path = tokens[index + 1].strip('"')
                index += 2
                continue
            if not _MSI_UI_SWITCH.match(token):
                keep.append(token)
            index += 1
        if not path:
            raise AnsibleActionFail(f"{where}: an msiexec command needs /i <file.msi> (win_package installs it).")
        program, rest = path, " ".join(keep)
    if folder is None and not re.match(r"^([A-Za-z]:\\|\\\\|%)", program):
        raise AnsibleActionFail(f"{where}: '{program}' is relative, but the deployment type has no content; "
                                "give content or an absolute path.")
    return (_content.windows_join(folder, program) if folder else program), rest


def _signed(code: int) -> int:
    """win_package reports rc as a signed Int32."""
    return code - UINT32 if code >= 2 ** 31 else code


class ActionModule(_content.ContentStep):
    ARGUMENT_SPEC = {
        "applications": {"type": "list", "elements": "str"},
        "base_variable_name": {"type": "str"},
        "continue_on_install_error": {"type": "bool", "default": False},
        "clear_cache": {"type": "bool", "default": False},
    }
    MUTUALLY_EXCLUSIVE = [("applications", "base_variable_name")]
    REQUIRED_ONE_OF = [("applications", "base_variable_name")]
    # ConfigMgr's "Retry this step if the computer unexpectedly restarts": the frame adds
    # retry_on_unexpected_restart / retry_count and runs the step again after such a restart.
    # A second run is safe: installed applications are detected and skipped.
    RETRY_ON_UNEXPECTED_RESTART = True

    def check_step_args(self, args, env):
        if args["applications"] is not None:
            names = [env.expand(n) for n in args["applications"]]
            if not names:
                raise AnsibleActionFail("applications: is empty; give the names of the applications to install.")
            sources = [(f"applications[{i}]", n) for i, n in enumerate(names)]
        else:
            base = args["base_variable_name"]
            if not re.match(r"^[A-Za-z][A-Za-z0-9_-]{0,253}$", base):
                raise AnsibleActionFail(f"base_variable_name: '{base}' is not a task sequence variable name.")
            sources = _content.base_variable_list(env, base, 2)
        for field, name in sources:
            self.catalog.application(name, field)
        self.requested = [name for _field, name in sources]
        self.order = self.catalog.install_order(self.requested, "applications")
        for name, _needed_by in self.order:
            for index, dt in enumerate(self.catalog.applications[name]["deployment_types"]):
                installer(dt["install_command"], "C:\\content" if dt["content"] else None,
                          f"{name}.deployment_types[{index}].install_command")

    def run_step(self, args, env, task_vars):
        if not self.order:
            env.set(STATUS_VARIABLE, "Undefined", engine=True)
            return StepOutcome(succeeded=True, msg=f"{args['base_variable_name']}01 is not set: nothing to install",
                               fields={"applications": []})
        facts: dict = {}
        hardware = None
        apps = self.catalog.applications
        if any(dt["requirements"] for name, _dependency in self.order for dt in apps[name]["deployment_types"]):
            hardware, gathered = _inventory.hardware(self, task_vars)
            if gathered:
                facts[_inventory.FACT] = hardware
        folders = _content.network_folders(task_vars)
        results: dict[str, dict] = {}
        failures, unmet = [], []
        changed = reboot = False
        for name, needed_by in self.order:
            entry = {"name": name, "status": "", "changed": False}
            if needed_by:
                entry["dependency_of"] = needed_by
            results[name] = entry
            broken = [d for d in self.catalog.applications[name]["dependencies"]
                      if results.get(d, {}).get("status") not in ("installed", "already_installed")]
            if broken:
                entry.update(status="failed", msg=f"dependency {', '.join(broken)} is not installed")
            else:
                try:
                    self._install(name, env, task_vars, hardware, folders, entry, args)
                except _content.ContentError as e:
                    entry.update(status="failed", msg=str(e))
            changed = changed or entry["changed"]
            reboot = reboot or entry.get("reboot_required", False)
            if entry["status"] == "requirements_not_met":
                unmet.append(name)
            if entry["status"] == "failed":
                failures.append(f"{name}: {entry['msg']}")
                if not args["continue_on_install_error"]:
                    break
        status = "Error" if failures else ("Warning" if unmet else "Success")
        env.set(STATUS_VARIABLE, status, engine=True)
        # TSErrorOnWarning: a Warning (requirements not met) fails the step.
        error_on_warning = str(env.get("TSErrorOnWarning") or "").lower() == "true"
        succeeded = not failures and not (unmet and error_on_warning)
        if failures:
            msg = "; ".join(failures)
        elif unmet:
            msg = "requirements not met: " + ", ".join(unmet)
        else:
            done = [n for n, e in results.items() if e["changed"]]
            msg = ("installed " + ", ".join(done)) if done else "all applications are already installed"
        rc = next((e.get("rc") for e in results.values() if e["status"] == "failed" and e.get("rc")), None)
        return StepOutcome(succeeded=succeeded, rc=rc, changed=changed, reboot_required=reboot, msg=msg,
                           fields={"applications": list(results.values()), "install_status": status}, facts=facts)

    def _install(self, name, env, task_vars, hardware, folders, entry, args) -> None:
        app = self.catalog.applications[name]
        chosen, reasons = None, []
        for dt in app["deployment_types"]:
            why = _content.unmet_requirements(dt["requirements"], hardware or {})
            if not why:
                chosen = dt
                break
            reasons.append(f"{dt['name']}: {'; '.join(why)}")
        if chosen is None:
            entry.update(status="requirements_not_met", msg="; ".join(reasons))
            return
        entry["deployment_type"] = chosen["name"]
        evidence: list[str] = []
        if _content.detect(self, chosen["detection"], task_vars, evidence):
            entry.update(status="already_installed", detection=evidence)
            return
        folder = None
        if chosen["content"]:
            folder = _content.application_folder(env, name, chosen["name"])
            done = _content.transfer(self, chosen["content"], folder, task_vars, env, folders)
            entry["content"] = {"path": folder, "changed": done["changed"]}
        path, arguments = installer(env.expand(chosen["install_command"]), folder, "install_command")
        codes = chosen["return_codes"]
        if self._task.check_mode:
            entry.update(status="installed", changed=True, msg=f"check mode: would install {path}")
            return
        rc, res = self._run_installer(path, arguments, folder, codes, chosen["detection"], env, task_vars)
        if rc is None:
            entry.update(status="failed", msg=f"the installer did not run: {res.get('msg') or 'no reason given'}")
            return
        kind = codes.get(rc % UINT32, "failure")
        entry.update(rc=rc, changed=True)
        if kind == "failure":
            entry.update(status="failed", msg=f"the installer returned {rc}: {res.get('msg') or 'failure'}")
            return
        if kind == "fast_retry":
            entry.update(status="failed", msg=f"the installer returned {rc} (another installation is in progress) "
                                              f"after {FAST_RETRIES + 1} tries")
            return
        entry["reboot_required"] = kind in ("soft_reboot", "hard_reboot")
        if kind == "hard_reboot":
            entry["hard_restart"] = True
        evidence = []
        if _content.detect(self, chosen["detection"], task_vars, evidence):
            entry.update(status="installed", detection=evidence)
        elif entry["reboot_required"]:
            # ConfigMgr checks such an install again after the restart.
            entry.update(status="installed", detection=evidence, msg="detected only after the restart")
        else:
            entry.update(status="failed", detection=evidence,
                         msg=f"the installer returned {rc} but the detection method does not find the application")
            return
        if args["clear_cache"] and folder:
            self.module("ansible.windows.win_file", {"path": folder, "state": "absent"}, task_vars)

    def _run_installer(self, path, arguments, folder, codes, detection, env, task_vars):
        module_args = {"path": path, "state": "present",
                       "expected_return_code": sorted({_signed(c) for c, k in codes.items() if k != "failure"})}
        if arguments:
            module_args["arguments"] = arguments
        if folder:
            module_args["chdir"] = folder
        if "msi" in detection:
            module_args["product_id"] = detection["msi"]["product_code"]
        delay_ms = env.get(RETRY_DELAY_VARIABLE)
        delay = int(delay_ms) / 1000 if delay_ms and delay_ms.isdigit() else 30
        for attempt in range(FAST_RETRIES + 1):
            res = self.module("ansible.windows.win_package", module_args, task_vars)
            rc = res.get("rc")
            if not isinstance(rc, int):
                return None, res
            if codes.get(rc % UINT32) != "fast_retry" or attempt == FAST_RETRIES:
                return rc, res
            time.sleep(delay)
        return rc, res   # pragma: no cover
