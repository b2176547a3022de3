# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows command lines, read the way Windows reads them. Controller side, no host involved.

Internal to this collection: no compatibility promise.
"""

from __future__ import annotations

import re

_SYSTEM32 = re.compile(r"(?i)^((?:[a-z]:|%systemroot%|%windir%)\\windows\\|(?:%systemroot%|%windir%)\\)system32\\")


def split_program(command_line: str) -> tuple[str, str]:
    """(program, the rest of the line verbatim), as CreateProcess takes the program off a line.

    The first token is quoted or ends at white space; no backslash escapes apply to it
    (CommandLineToArgvW's rule for argument 0).
    """
    line = command_line.lstrip()
    if line.startswith('"'):
        end = line.find('"', 1)
        end = len(line) if end < 0 else end
        return line[1:end], line[end + 1:].lstrip()
    match = re.match(r"(\S+)\s*(.*)\Z", line, re.DOTALL)
    return (match.group(1), match.group(2)) if match else ("", "")


def wow64_program(program: str) -> str:
    """The 32-bit view of a System32 program path, as a 32-bit ConfigMgr process sees it."""
    return _SYSTEM32.sub(lambda m: m.group(1) + "SysWOW64\\", program)
