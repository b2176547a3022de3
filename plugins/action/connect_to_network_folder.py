# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connect To Network Folder: check the connection (win_mapped_drive) and record it for later steps."""

from __future__ import annotations

import re

from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _content, _secrets
from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import StepOutcome


class ActionModule(_content.ContentStep):
    NEEDS_CATALOG = False
    ARGUMENT_SPEC = {
        "path": {"type": "str", "required": True},
        "drive_letter": {"type": "str"},
        "account": {"type": "str"},
        "password": {"type": "str", "no_log": True},
    }
    REQUIRED_TOGETHER = [("account", "password")]
    EXPAND = ("path", "drive_letter", "account")

    def check_step_args(self, args, env):
        path = args["path"].strip().rstrip("\\")
        if not re.match(r"^\\\\[^\\/:*?\"<>|]+\\[^\\/:*?\"<>|]+(\\[^/:*?\"<>|]+)*$", path):
            raise AnsibleActionFail(f"path: '{args['path']}' is not a UNC path; give \\\\server\\share "
                                    "(optionally with a folder).")
        args["path"] = path
        letter = (args["drive_letter"] or "").strip().upper().rstrip(":")
        if letter:
            if not re.match(r"^[D-Z]$", letter):
                raise AnsibleActionFail(f"drive_letter: '{args['drive_letter']}' is not a drive letter from D: to Z:.")
            if letter == "X":
                raise AnsibleActionFail("drive_letter: X: is reserved (Windows PE's system drive); ConfigMgr "
                                        "refuses it. Choose another letter from D: to Z:.")
        args["drive_letter"] = f"{letter}:" if letter else ""
        if args["password"] is not None and '"' in args["password"]:
            # Later steps hand it to net.exe inside a quoted cmd.exe argument.
            raise AnsibleActionFail("password: contains a double quote, which a connection made again by a "
                                    "later step's cmd.exe cannot carry; change the account's password.")

    def run_step(self, args, env, task_vars):
        path, letter = args["path"], args["drive_letter"]
        changed = False
        if letter:
            # Checks the share and the account now, as ConfigMgr's step fails when it cannot connect.
            module_args = {"letter": letter[0], "path": path}
            if args["account"]:
                module_args.update(username=args["account"], password=args["password"])
            res = self.run_module("ansible.windows.win_mapped_drive", module_args, task_vars, sensitive=True)
            if res.get("failed"):
                return StepOutcome(succeeded=False, msg=f"cannot connect {letter} to {path}: {res.get('msg')}")
            changed = bool(res.get("changed"))
        record = {"path": path, "drive_letter": letter, "account": args["account"] or "",
                  "password": _secrets.seal(args["password"]) if args["password"] else ""}
        folders = [f for f in _content.network_folders(task_vars)
                   if not ((letter and f.get("drive_letter") == letter) or f["path"].lower() == path.lower())]
        folders.append(record)
        shown = {k: (_secrets.MASK if k == "password" and v else v) for k, v in record.items()}
        where = f"{letter} -> {path}" if letter else path
        return StepOutcome(succeeded=True, changed=changed, msg=f"connected {where}; later steps of this collection "
                           "that use it connect it again in their own process", fields={"connection": shown},
                           facts={_content.NETWORK_FOLDERS_FACT: folders})
