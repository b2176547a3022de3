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


def split_arguments(text: str) -> list[str]:
    """The arguments after the program, split by the C runtime's rules (CommandLineToArgvW).

    2n backslashes + quote: n backslashes, quote toggles; 2n+1 backslashes + quote: n
    backslashes and a literal quote; other backslashes are literal; inside quotes ``""`` is
    a literal quote (msvcrt 2008 and later).
    """
    args: list[str] = []
    current: list[str] = []
    in_arg = quoted = False
    i = 0
    while i < len(text):
        c = text[i]
        if c in " \t" and not quoted:
            if in_arg:
                args.append("".join(current))
                current, in_arg = [], False
            i += 1
            continue
        in_arg = True
        if c == "\\":
            count = len(text[i:]) - len(text[i:].lstrip("\\"))
            if text[i + count:i + count + 1] == '"':
                current.append("\\" * (count // 2))
                if count % 2:
                    current.append('"')
                    i += count + 1
                else:
                    i += count
            else:
                current.append("\\" * count)
                i += count
            continue
        if c == '"':
            if quoted and text[i + 1:i + 2] == '"':
                current.append('"')
                i += 2
                continue
            quoted = not quoted
            i += 1
            continue
        current.append(c)
        i += 1
    if in_arg:
        args.append("".join(current))
    return args


def is_bare_or_relative(program: str) -> bool:
    """True for setup.exe or bin\\setup.exe; False for C:\\x.exe, \\\\server\\x.exe, %WINDIR%\\x.exe."""
    return not re.match(r"(?i)^([a-z]:|\\|/|%)", program)


def wow64_program(program: str) -> str:
    """The 32-bit view of a System32 program path, as a 32-bit ConfigMgr process sees it."""
    return _SYSTEM32.sub(lambda m: m.group(1) + "SysWOW64\\", program)
