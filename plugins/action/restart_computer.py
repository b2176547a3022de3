# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restart Computer: shutdown.exe /r through ansible.windows.win_command, then the shared wait."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _restart
from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import StepAction, StepOutcome

MESSAGE_VARIABLE = "SMSRebootMessage"     # the step's Message, through VariablePrefix("SMSReboot")
TIMEOUT_VARIABLE = "SMSRebootTimeout"     # MessageTimeout's VariableName
# Seconds the notice shows when neither message_timeout nor SMSRebootTimeout says (the UI's default).
DEFAULT_MESSAGE_TIMEOUT = 60


class ActionModule(StepAction):
    ARGUMENT_SPEC = {
        "target": {"type": "str", "default": "HD"},
        "notify_user": {"type": "bool", "default": True},
        "message": {"type": "str"},
        "message_timeout": {"type": "int"},
    }
    EXPAND = ("message",)
    RESTARTS_HOST = True

    def check_args(self, args, env):
        target = args["target"].strip()
        if target.lower() == "winpe":
            raise AnsibleActionFail(
                "target: 'WinPE' restarts into the boot image assigned to the sequence, which is OS "
                "deployment; this collection runs non-OS sequences. Use 'HD' (the installed Windows)."
            )
        if target.lower() != "hd":
            raise AnsibleActionFail(f"target: '{target}' is not a restart target; use 'HD' (the installed Windows).")
        if args["message"] is None and env.get(MESSAGE_VARIABLE):
            args["message"] = env.get(MESSAGE_VARIABLE)
        if args["message"] is not None and len(args["message"]) > _restart.MAX_MESSAGE:
            raise AnsibleActionFail(
                f"message: has {len(args['message'])} characters; ConfigMgr allows at most {_restart.MAX_MESSAGE}."
            )
        timeout = args["message_timeout"]
        if timeout is None:
            given = (env.get(TIMEOUT_VARIABLE) or "").strip()
            if given and not given.isdigit():
                raise AnsibleActionFail(f"{TIMEOUT_VARIABLE}: '{given}' is not a number of seconds.")
            timeout = int(given) if given else DEFAULT_MESSAGE_TIMEOUT
        if not 0 <= timeout <= _restart.MAX_NOTICE:
            raise AnsibleActionFail(f"message_timeout: {timeout} is out of range; give seconds from 0 to {_restart.MAX_NOTICE}.")
        args["message_timeout"] = timeout

    def run_step(self, args, env, task_vars):
        notify = args["notify_user"] and args["message_timeout"] > 0
        # ConfigMgr: a time-out of 0 shows no message. shutdown.exe always gives the notice it is
        # told; at least 2 s, so that its WinRM command can answer before Windows stops.
        message = (args["message"] or "A task sequence step is restarting this computer.") if notify else None
        notice = args["message_timeout"] if notify else _restart.MIN_NOTICE
        shown = {"message": message, "message_timeout": notice if notify else 0}
        if self._task.check_mode:
            return StepOutcome(succeeded=True, changed=True, msg="check mode: would restart the host", fields=shown)
        record = self.restarter.restart(kind="restart_computer", reason="Restart Computer", when="in_step",
                                        message=message, notice=notice, sensitive=_carries_secret(env, message))
        return StepOutcome(succeeded=True, changed=True, fields={**shown, "restart": record})


def _carries_secret(env, text: str | None) -> bool:
    return bool(text) and any(secret and secret in text for secret in env.secrets())
