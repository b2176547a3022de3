# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Install Software Updates: rounds of ansible.windows.win_updates with the shared restarts between."""

from __future__ import annotations

import re

from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _restart
from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import StepAction, StepOutcome

TARGET_VARIABLE = "SMSInstallUpdateTarget"
CACHE_VARIABLE = "SMSTSSoftwareUpdateScanUseCache"
TARGETS = ("Mandatory", "All")
MAX_ROUNDS = 10   # each round must install something new, so this only stops a runaway host
FAILED_RC = 1


def _kb(update: dict) -> str:
    kbs = update.get("kb") or []
    return f"{update.get('title', update.get('id'))}" + (f" (KB{kbs[0]})" if kbs and f"KB{kbs[0]}" not in
                                                         str(update.get("title")) else "")


class ActionModule(StepAction):
    ARGUMENT_SPEC = {
        "target": {"type": "str", "choices": list(TARGETS)},
        "use_cache": {"type": "bool"},
        "category_names": {"type": "list", "elements": "str", "default": ["*"]},
        "accept_list": {"type": "list", "elements": "str", "default": []},
        "reject_list": {"type": "list", "elements": "str", "default": []},
    }
    RETRY_ON_UNEXPECTED_RESTART = True

    def check_args(self, args, env):
        if args["target"] is None:
            given = (env.get(TARGET_VARIABLE) or "").strip()
            match = [t for t in TARGETS if t.lower() == given.lower()]
            if not match:
                raise AnsibleActionFail(
                    "target: give Mandatory (required updates only) or All (all available updates)"
                    + (f"; {TARGET_VARIABLE} is '{given}', which is neither." if given else
                       f", or set {TARGET_VARIABLE}."))
            args["target"] = match[0]
        if args["use_cache"] is None:
            given = (env.get(CACHE_VARIABLE) or "true").strip().lower()
            if given not in ("true", "false"):
                raise AnsibleActionFail(f"{CACHE_VARIABLE}: '{given}' is not true or false.")
            args["use_cache"] = given == "true"
        if not args["category_names"]:
            raise AnsibleActionFail("category_names: is empty; give category names, or '*' for every category.")
        for field in ("category_names", "accept_list", "reject_list"):
            for index, item in enumerate(args[field]):
                if not item.strip():
                    raise AnsibleActionFail(f"{field}[{index}]: is empty.")
                if field != "category_names":
                    try:
                        re.compile(item)
                    except re.error as e:
                        raise AnsibleActionFail(f"{field}[{index}]: '{item}' is not a regular expression: {e}.") from None

    def run_step(self, args, env, task_vars):
        module_args = {
            "category_names": args["category_names"],
            "accept_list": args["accept_list"],
            "reject_list": args["reject_list"],
            # ConfigMgr's deployments are not visible to the Windows Update Agent (win_updates does
            # not support ConfigMgr): Mandatory maps to what WUA does not mark optional (BrowseOnly).
            "skip_optional": args["target"] == "Mandatory",
            "state": "installed",
            "reboot": False,   # the rounds and their restarts are ours, through the shared helper
        }
        rounds: list[dict] = []
        first_round: dict[str, int] = {}
        installed: dict[str, dict] = {}
        failed: dict[str, dict] = {}
        found: dict[str, dict] = {}
        filtered: dict[str, dict] = {}
        restarted_on_failure = False
        outcome_msg, succeeded, reboot_required = "", True, False
        for number in range(1, MAX_ROUNDS + 1):
            res = self._win_updates(module_args, task_vars)
            updates = res.get("updates") or {}
            found.update(updates)
            filtered.update(res.get("filtered_updates") or {})
            now_installed = {uid: u for uid, u in updates.items() if u.get("installed")}
            now_failed = {uid: u for uid, u in updates.items() if "failure_hresult_code" in u}
            reboot_required = bool(res.get("reboot_required"))
            rounds.append({"round": number, "found": len(updates), "installed": sorted(_kb(u) for u in now_installed.values()),
                           "failed": sorted(_kb(u) for u in now_failed.values()), "reboot_required": reboot_required})
            again = [uid for uid in now_installed if uid in first_round]
            if now_installed and len(again) == len(now_installed):
                # Installed, undone by the restart, offered again: the update rolls back.
                names = ", ".join(f"{_kb(now_installed[uid])} (installed in round {first_round[uid]})" for uid in again)
                return self._outcome(args, rounds, installed, failed, found, filtered, succeeded=False,
                                     reboot_required=False, rolled_back=[self._brief(now_installed[u]) for u in again],
                                     msg=f"update loop: {names} rolled back during the restart after it and was offered "
                                         "again; stopped instead of installing it once more. Check the host's "
                                         "Windows Update log (Get-WindowsUpdateLog).")
            for uid in now_installed:
                first_round.setdefault(uid, number)
            installed.update(now_installed)
            failed.update(now_failed)
            for uid in now_installed:
                failed.pop(uid, None)
            if res.get("failed"):
                if reboot_required and not restarted_on_failure and not self._task.check_mode:
                    # A restart owed from before may be all that blocks the install: once, as win_updates does.
                    restarted_on_failure = True
                    self.restarter.restart(kind="updates", when="between_rounds",
                                           reason=f"round {number} found a restart pending before it could install")
                    continue
                succeeded, outcome_msg = False, res.get("msg") or "win_updates failed"
                break
            restarted_on_failure = False
            if self._task.check_mode:
                break
            if reboot_required:
                self.restarter.restart(kind="updates", when="between_rounds",
                                       reason=f"round {number} installed updates that need a restart")
                reboot_required = False
                continue
            if not now_installed:
                break
        else:
            succeeded, outcome_msg = False, f"updates were still being installed after {MAX_ROUNDS} rounds"
        return self._outcome(args, rounds, installed, failed, found, filtered, succeeded=succeeded,
                             reboot_required=reboot_required, msg=outcome_msg)

    # --------------------------------------------------------------------------------

    def _win_updates(self, module_args: dict, task_vars: dict) -> dict:
        """One round: ansible.windows.win_updates' own action (start, poll, cancel)."""
        action = self.upstream_action_plugin("ansible.windows.win_updates", module_args)
        # win_updates turns a lost connection into a failed result; keep the exception, so the
        # frame can tell a host that restarted during the round.
        lost: list[BaseException] = []
        execute = action._execute_module

        def recording(*a, **kw):
            try:
                return execute(*a, **kw)
            except Exception as e:
                if _restart.is_connection_error(e):
                    lost.append(e)
                raise

        action._execute_module = recording
        res = action.run(task_vars=task_vars)
        if lost and (res.get("failed") or res.get("unreachable")):
            raise lost[-1]
        if res.get("unreachable"):
            raise AnsibleConnectionFailure(str(res.get("msg") or "win_updates lost the connection"))
        return res

    @staticmethod
    def _brief(update: dict) -> dict:
        out = {"id": update.get("id"), "title": update.get("title"), "kb": update.get("kb") or []}
        if "failure_hresult_code" in update:
            out.update(failure_hresult_code=update["failure_hresult_code"], failure_msg=update.get("failure_msg"))
        return out

    def _outcome(self, args, rounds, installed, failed, found, filtered, *, succeeded, reboot_required, msg,
                 rolled_back=None) -> StepOutcome:
        fields = {
            "target": args["target"], "use_cache": args["use_cache"], "rounds": rounds,
            "installed_updates": [self._brief(u) for u in installed.values()],
            "failed_updates": [self._brief(u) for u in failed.values()],
            "rolled_back_updates": rolled_back or [],
            "found_update_count": len(found), "installed_update_count": len(installed),
            "failed_update_count": len(failed), "filtered_update_count": len(filtered),
        }
        if failed and succeeded:
            succeeded, msg = False, "some updates failed to install: " + ", ".join(_kb(u) for u in failed.values())
        rc = 0
        if not succeeded:
            codes = [u.get("failure_hresult_code") for u in failed.values() if isinstance(u.get("failure_hresult_code"), int)]
            rc = codes[0] if codes else FAILED_RC
        if self._task.check_mode:
            msg = f"check mode: would install {len(found)} update(s)"
        return StepOutcome(succeeded=succeeded, rc=rc, changed=bool(installed), msg=msg, fields=fields,
                           reboot_required=reboot_required)
