"""The HTML report of a role run, opened in headless Chromium: a screenshot is taken and the DOM checked.

CI installs Chromium with: apt-get update && apt-get install -y chromium
"""

from __future__ import annotations

import html.parser
import os
import shutil
import subprocess

import pytest

from tests.integration.test_role import FAIL5, mark, run_cases

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Rows(html.parser.HTMLParser):
    """The step rows and host badges of the DOM Chromium serialised."""

    def __init__(self):
        super().__init__()
        self.rows, self.badges, self.scripts = [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "step" in (a.get("class") or ""):
            self.rows.append(a)
        if tag == "span" and "badge" in (a.get("class") or ""):
            self.badges.append(a)
        if tag in ("script", "link", "img"):
            self.scripts += 1


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_html_report_in_headless_chromium(ansible, tmp_path):
    secret = "Rp-" + os.urandom(5).hex()
    definition = {"format_version": 1, "name": "reported", "steps": [
        {"name": "Hidden", "module": "set_task_sequence_variable", "options": {"name": "Pw", "value": secret, "hidden": True}},
        {"group": "Apps", "continue_on_error": True, "steps": [
            {"name": "Broken installer", "module": "run_command_line", "options": FAIL5},
            mark("NotReached")]},
        mark("Last")]}
    logs = tmp_path / "logs"
    run_cases(ansible, tmp_path, {"r": definition},
              env={"ANSIBLE_CALLBACKS_ENABLED": "tasksequence.windows.task_sequence_report",
                   "TASKSEQUENCE_WINDOWS_LOG_DIR": str(logs)})
    report = next((logs / "runs").glob("*.html"))
    assert secret not in report.read_text()
    shot = tmp_path / "report.png"
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + str(tmp_path / "chrome")]
    subprocess.run([*base, f"--screenshot={shot}", "--window-size=1200,800", report.as_uri()], check=True,
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000
    dom = subprocess.run([*base, "--dump-dom", report.as_uri()], check=True, capture_output=True, text=True,
                         timeout=120).stdout
    parsed = Rows()
    parsed.feed(dom)
    by_index = {int(r["data-index"]): r["data-status"] for r in parsed.rows}
    assert by_index == {0: "succeeded", 1: "failed_continue", 2: "skipped", 3: "succeeded"}
    assert [b["data-status"] for b in parsed.badges] == ["succeeded"]
    assert parsed.scripts == 0   # self-contained
    assert "which is not in success_codes" in dom   # the failure's own message is shown
