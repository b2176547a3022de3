# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The importer's one error type.

Internal to this collection: no compatibility promise.
"""

from __future__ import annotations


class SequenceImportError(ValueError):
    """The export (or a definition) cannot be used; the message says where, what and what to do.

    ``file``, ``member`` (zip member), ``line`` and ``column`` are set where known.
    """

    def __init__(self, problem: str, *, file: str | None = None, member: str | None = None,
                 line: int | None = None, column: int | None = None, context: str | None = None,
                 fix: str | None = None):
        self.problem, self.file, self.member = problem, file, member
        self.line, self.column, self.context, self.fix = line, column, context, fix
        super().__init__(self._text())

    def _text(self) -> str:
        where = self.file or "<input>"
        if self.member:
            where += f":{self.member}"
        if self.context:
            where += f" ({self.context})"
        if self.line is not None:
            where += f", line {self.line}" + (f", column {self.column}" if self.column is not None else "")
        text = f"{where}: {self.problem}"
        if self.fix:
            text += f" {self.fix}"
        return text


class Location:
    """Where a document comes from, to name it in errors."""

    def __init__(self, file: str, member: str | None = None, context: str | None = None):
        self.file, self.member, self.context = file, member, context

    def inner(self, context: str) -> Location:
        return Location(self.file, self.member, context if not self.context else f"{self.context}, {context}")

    def error(self, problem: str, fix: str | None = None, line: int | None = None,
              column: int | None = None) -> SequenceImportError:
        return SequenceImportError(problem, file=self.file, member=self.member, context=self.context,
                                   line=line, column=column, fix=fix)

    def __str__(self) -> str:
        text = self.file + (f":{self.member}" if self.member else "")
        return text + (f" ({self.context})" if self.context else "")
