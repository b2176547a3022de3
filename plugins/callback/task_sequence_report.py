# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: task_sequence_report
type: aggregate
short_description: smsts.log-style CMTrace logs, a JSON summary and an HTML report of task sequence runs
version_added: 0.1.0
description:
  - For the steps run by the C(tasksequence.windows.task_sequence) role, writes per host a log in CMTrace
    format (readable by CMTrace / OneTrace) - step start and end, exit code, conditions evaluated and their
    result, variables set (hidden ones masked), restarts, resumes - appended to, never rolled over.
  - At the end of the playbook, a JSON summary of the run and a self-contained HTML report (per-host timeline,
    step status, durations, restarts, failures with their output).
  - Enable it with C(callbacks_enabled = tasksequence.windows.task_sequence_report).
requirements:
  - enable in configuration
options:
  log_dir:
    description: Folder for C(<host>/smsts.log) and C(runs/<time>.json) / C(.html).
    type: path
    default: ./task_sequence_logs
    env:
      - name: TASKSEQUENCE_WINDOWS_LOG_DIR
    ini:
      - section: tasksequence_windows
        key: log_dir
author:
  - Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
# ansible.cfg next to the playbook:
#   [defaults]
#   callbacks_enabled = tasksequence.windows.task_sequence_report
#   [tasksequence_windows]
#   log_dir = /var/log/task_sequences
# Then per host <log_dir>/<host>/smsts.log (open it in CMTrace or OneTrace), and per run
# <log_dir>/runs/<time>.json and .html.
- name: Run a sequence; the callback writes its logs and reports
  hosts: windows
  roles:
    - role: tasksequence.windows.task_sequence
      vars:
        task_sequence_definition_file: sequences/apps.yml
"""

import datetime
import html
import json
import os
import re

from ansible.plugins.callback import CallbackBase

COMPONENT = "TSManager"
STEP_ACTION = "sequence_step"
START_ACTION = "sequence_start"
END_ACTION = "sequence_end"
INFO = 1       # CMTrace entry types
WARNING = 2
ERROR = 3
STATUS_TYPE = {"succeeded": INFO, "skipped": INFO, "resumed": INFO, "failed_continue": WARNING, "failed": ERROR}


def cmtrace_line(message: str, *, level: int = INFO, component: str = COMPONENT, thread: int = 0,
                 file: str = "", when: datetime.datetime | None = None) -> str:
    """One CMTrace entry on one line. Time is UTC (bias +000); the message cannot end the entry early."""
    when = when or datetime.datetime.now(datetime.UTC)
    text = re.sub(r"\r\n|\r|\n", " | ", str(message)).replace("]LOG]!>", "] LOG]!>")
    return (f'<![LOG[{text}]LOG]!><time="{when:%H:%M:%S}.{when.microsecond // 1000:03d}+000" '
            f'date="{when:%m-%d-%Y}" component="{component[:100]}" context="" type="{level}" '
            f'thread="{thread}" file="{file}">')


def _action(task) -> str:
    return str(task.action or "").rsplit(".", 1)[-1]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "tasksequence.windows.task_sequence_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.started = datetime.datetime.now(datetime.UTC)
        self.hosts: dict[str, dict] = {}

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self.log_dir = os.path.abspath(os.path.expanduser(self.get_option("log_dir")))

    # -------------------------------------------------------------------------------------------

    def _host(self, name: str) -> dict:
        return self.hosts.setdefault(name, {"steps": [], "sequence": None, "summary": None, "restarts": []})

    def _log(self, host: str, lines: list[tuple[int, str]], thread: int = 0,
             first_at: datetime.datetime | None = None) -> None:
        folder = os.path.join(self.log_dir, re.sub(r"[^A-Za-z0-9_.-]+", "_", host))
        os.makedirs(folder, mode=0o700, exist_ok=True)
        # Appended, never rotated: no rollover loses the start of a long sequence.
        with open(os.path.join(folder, "smsts.log"), "a", encoding="utf-8") as f:
            for n, (level, message) in enumerate(lines):
                when = first_at if n == 0 else None   # a step's start line carries its start time
                f.write(cmtrace_line(message, level=level, thread=thread, file="task_sequence", when=when) + "\n")

    def _result(self, result, status: str) -> None:
        action = _action(result._task)
        data = result._result
        host = result._host.get_name()
        if action == START_ACTION and isinstance(data.get("sequence"), dict):
            seq = data["sequence"]
            self._host(host)["sequence"] = seq
            how = f"resuming at step {seq['first_step'] + 1}" if seq.get("resumed") else "starting"
            self._log(host, [(INFO, f"Task sequence '{seq['name']}' ({seq['steps']} steps, run {seq['run_id']}): {how}"
                                    + (" - check mode, nothing is changed" if seq.get("check_mode") else ""))])
        elif action == STEP_ACTION and isinstance(data.get("sequence_step"), dict):
            self._step(host, data)
        elif action == END_ACTION and isinstance(data.get("task_sequence"), dict):
            summary = data["task_sequence"]
            self._host(host)["summary"] = summary
            level = ERROR if summary["failed"] else INFO
            self._log(host, [(level, f"Task sequence '{summary['name']}' {summary['status']}: "
                                     + ", ".join(f"{n} {k}" for k, n in summary["counts"].items() if n))])
        elif action == STEP_ACTION and status == "failed":
            self._log(host, [(ERROR, f"Step task '{result._task.get_name()}' failed: {data.get('msg', '')}")])

    def _step(self, host: str, data: dict) -> None:
        step = data["sequence_step"]
        entry = dict(step, stdout=str(data.get("stdout", ""))[-2000:], stderr=str(data.get("stderr", ""))[-2000:])
        self._host(host)["steps"].append(entry)
        name, index = step["name"], step["index"]
        lines: list[tuple[int, str]] = []
        if step.get("status") == "resumed":
            lines.append((INFO, f"Step {index + 1} '{name}': {step.get('reason')}"))
            self._log(host, lines, thread=step.get("pid") or 0)
            return
        lines.append((INFO, f"Start executing an instruction. Instruction name: {name}. Instruction pointer: {index}. "
                            f"Group: {' / '.join(step.get('path') or []) or '(top)'}. Module: {step.get('module')}"))
        for cond in step.get("conditions") or []:
            lines.append((INFO, f"Evaluating the condition of the {cond['of']}: {cond['condition']}"))
            lines.extend((INFO, f"  {t}") for t in cond.get("trace") or [])
            lines.append((INFO, f"The condition of the {cond['of']} evaluated to {str(cond['holds']).lower()}"))
        for var, value in (step.get("variables") or {}).items():
            lines.append((INFO, f"Set variable {var}" + (" (deleted)" if value is None else f" = {value}")))
        for restart in step.get("restarts") or []:
            lines.append((WARNING, f"Restart ({restart.get('kind', 'requested')}, {restart.get('when', '')}): "
                                   f"{restart.get('reason', '')}; the host was back after "
                                   f"{restart.get('waited_seconds', '?')} s (boot time {restart.get('boot_time', '?')})"))
            self._host(host)["restarts"].append(restart)
        status = step.get("status")
        if status == "skipped":
            lines.append((INFO, f"Skipped '{name}': {step.get('reason')}"))
        else:
            if step.get("rc") is not None:
                lines.append((INFO if status == "succeeded" else ERROR,
                              f"Process completed with exit code {step['rc']}"))
            if status != "succeeded":
                lines.append((STATUS_TYPE.get(status, ERROR), f"Failed to run the action: {name}. {step.get('msg', '')} "
                                                              f"{step.get('reason', '')}".strip()))
            lines.append((STATUS_TYPE.get(status, INFO),
                          f"The action ({name}) ended: {status}; duration {step.get('duration', 0)} s"
                          + (" (check mode)" if step.get("check_mode") else "")))
        started = None
        try:
            started = datetime.datetime.fromisoformat(step["started"])
        except (KeyError, TypeError, ValueError):
            pass
        self._log(host, lines, thread=step.get("pid") or 0, first_at=started)

    def v2_runner_on_ok(self, result):
        self._result(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._result(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        if _action(result._task) == STEP_ACTION:
            host = result._host.get_name()
            self._log(host, [(ERROR, f"The host cannot be reached at '{result._task.get_name()}'; "
                                     "the run resumes from its checkpoint next time")])

    def v2_playbook_on_stats(self, stats):
        if not self.hosts:
            return
        stamp = self.started.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
        folder = os.path.join(self.log_dir, "runs")
        os.makedirs(folder, mode=0o700, exist_ok=True)
        report = {"started": self.started.isoformat(), "ended": datetime.datetime.now(datetime.UTC).isoformat(),
                  "hosts": self.hosts}
        with open(os.path.join(folder, f"{stamp}.json"), "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1, sort_keys=True, default=str)
        with open(os.path.join(folder, f"{stamp}.html"), "w", encoding="utf-8") as f:
            f.write(html_report(report))


CSS = """
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
.succeeded{background:#e3f6e3}.failed{background:#fbdada}.failed_continue{background:#fff1cc}
.skipped,.resumed{background:#eee;color:#666}.bar{height:12px;background:#4a7;display:inline-block;min-width:2px}
.bar.failed,.bar.failed_continue{background:#c44}pre{white-space:pre-wrap;margin:0;font-size:12px}
.badge{padding:2px 8px;border-radius:8px;font-weight:bold}
"""


def html_report(report: dict) -> str:
    """Self-contained: no script, no external file; every value is escaped."""
    e = html.escape
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Task sequence report</title>",
             f"<style>{CSS}</style></head><body>",
             f"<h1>Task sequence report</h1><p>Run started {e(report['started'])}, ended {e(report['ended'])}.</p>"]
    for host, data in sorted(report["hosts"].items()):
        summary = data.get("summary") or {}
        seq = data.get("sequence") or {}
        status = summary.get("status") or ("failed" if any(s.get("status") == "failed" for s in data["steps"])
                                           else "incomplete")
        longest = max([s.get("duration") or 0 for s in data["steps"]] + [0.001])
        parts.append(f"<section class='host' data-host='{e(host)}'><h2>{e(host)}: {e(seq.get('name', ''))} "
                     f"<span class='badge {e(status)}' data-status='{e(status)}'>{e(status)}</span></h2>")
        if seq.get("resumed"):
            parts.append(f"<p class='resumed-note'>Resumed at step {seq.get('first_step', 0) + 1}.</p>")
        if data.get("restarts"):
            parts.append(f"<p class='restarts'>Restarts: {len(data['restarts'])}</p>")
        parts.append("<table><thead><tr><th>#</th><th>Step</th><th>Group</th><th>Status</th><th>Exit code</th>"
                     "<th>Duration (s)</th><th>Timeline</th><th>Why / output</th></tr></thead><tbody>")
        for s in data["steps"]:
            st = s.get("status", "")
            width = int(200 * (s.get("duration") or 0) / longest)
            detail = s.get("reason") or ""
            if st in ("failed", "failed_continue"):
                detail = f"{s.get('msg', '')} {detail}".strip()
                out = (s.get("stdout") or "") + (s.get("stderr") or "")
                detail_html = e(detail) + (f"<pre class='output'>{e(out)}</pre>" if out else "")
            else:
                detail_html = e(detail)
            parts.append(f"<tr class='step {e(st)}' data-index='{s.get('index')}' data-status='{e(st)}'>"
                         f"<td>{int(s.get('index', 0)) + 1}</td><td class='name'>{e(s.get('name', ''))}</td>"
                         f"<td>{e(' / '.join(s.get('path') or []))}</td><td>{e(st)}</td>"
                         f"<td>{e(str(s.get('rc', '')) if s.get('rc') is not None else '')}</td>"
                         f"<td>{s.get('duration', 0)}</td><td><span class='bar {e(st)}' style='width:{width}px'></span>"
                         f"</td><td>{detail_html}</td></tr>")
        parts.append("</tbody></table></section>")
    parts.append("</body></html>")
    return "".join(parts)
