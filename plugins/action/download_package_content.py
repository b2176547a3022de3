# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Download Package Content: catalog packages onto the host, through win_copy / win_get_url."""

from __future__ import annotations

import re

from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _content
from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import PACKAGES_FACT, StepOutcome
from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import check_name

MAX_PACKAGES = 99   # the path variables are numbered with two digits (Base01..Base99)


class ActionModule(_content.ContentStep):
    ARGUMENT_SPEC = {
        "packages": {"type": "list", "elements": "str", "required": True},
        "destination": {"type": "str", "default": "working_directory",
                        "choices": ["working_directory", "client_cache", "custom"]},
        "destination_path": {"type": "str"},
        "destination_variable": {"type": "str"},
        "continue_on_download_error": {"type": "bool", "default": False},
    }
    REQUIRED_IF = [("destination", "custom", ("destination_path",))]
    EXPAND = ("destination_path",)

    def check_step_args(self, args, env):
        packages = [env.expand(p).strip() for p in args["packages"]]
        if not packages:
            raise AnsibleActionFail("packages: is empty; give the IDs of the packages to download.")
        if len(packages) > MAX_PACKAGES:
            raise AnsibleActionFail(f"packages: {len(packages)} packages; at most {MAX_PACKAGES} fit the "
                                    "two-digit path variables.")
        for index, package_id in enumerate(packages):
            self.catalog.package(package_id, f"packages[{index}]")
        args["packages"] = packages
        if args["destination"] != "custom" and args["destination_path"]:
            raise AnsibleActionFail("destination_path: is used only with destination=custom.")
        path = args["destination_path"]
        if path is not None and not re.match(r"^([A-Za-z]:\\|\\\\[^\\]+\\[^\\]+)", path):
            raise AnsibleActionFail(f"destination_path: '{path}' is not an absolute Windows path (C:\\Content).")
        if args["destination_variable"] is not None:
            check_name(args["destination_variable"], "destination_variable")

    def run_step(self, args, env, task_vars):
        folders = _content.network_folders(task_vars)
        locations = _content.known_locations(task_vars)
        results, changed, failures = [], False, []
        variables: dict = {}
        for index, package_id in enumerate(args["packages"], start=1):
            package = self.catalog.packages[package_id]
            folder = _content.destination_folder(args["destination"], args["destination_path"], package_id, env)
            entry = {"package_id": package_id, "name": package["name"], "path": folder}
            try:
                done = _content.transfer(self, package["source"], folder, task_vars, env, folders)
            except _content.ContentError as e:
                entry.update(failed=True, msg=str(e))
                results.append(entry)
                failures.append(f"{package_id}: {e}")
                if not args["continue_on_download_error"]:
                    break
                continue
            entry.update(changed=done["changed"], transfer=done["how"], failed=False)
            results.append(entry)
            changed = changed or done["changed"]
            locations[package_id] = folder
            if args["destination_variable"]:
                name = f"{args['destination_variable']}{index:02d}"
                stored = env.set(name, folder, field="destination_variable")
                variables[stored or name] = folder
            env.set(_content.LAST_DOWNLOAD_LOCATION, folder, engine=True)
        sent = ", ".join(r["package_id"] for r in results if r.get("changed"))
        if failures:
            msg = "download failed: " + "; ".join(failures)
        elif not changed:
            msg = "the content is already on the host"
        else:
            msg = ("check mode: would download " if self._task.check_mode else "downloaded ") + sent
        return StepOutcome(succeeded=not failures, changed=changed, msg=msg, variables=variables,
                           fields={"packages": results}, facts={PACKAGES_FACT: locations})
