# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The task sequence variable environment, held as Ansible facts.

Internal to this collection: no compatibility promise.

One place for ConfigMgr's variable rules, used by every step:

* ``tsenv`` (fact): name -> value. Names keep their first spelling; lookups ignore case.
  Hidden values appear there only as the mask.
* ``tsenv_hidden`` (fact): name -> ciphertext of each hidden value (see ``_secrets``).
* Names: letters, digits, ``_`` and ``-``, 1-256 characters. A leading ``_`` means
  read-only: only the engine (the step plugins themselves) sets those.
* Values: at most 4000 characters; setting an empty value deletes the variable.
* ``%Name%`` in a step's string options expands from the environment; unknown names stay.
"""

from __future__ import annotations

import re
import typing as t

from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _secrets

FACT = "tsenv"
HIDDEN_FACT = "tsenv_hidden"
MAX_NAME = 256
MAX_VALUE = 4000
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_EXPAND_RE = re.compile(r"%([A-Za-z0-9_-]{1,256})%")

CURRENT_ACTION = "_SMSTSCurrentActionName"
LAST_ACTION = "_SMSTSLastActionName"
LAST_SUCCEEDED = "_SMSTSLastActionSucceeded"
LAST_RETCODE = "_SMSTSLastActionRetCode"


class TaskSequenceVariableError(AnsibleActionFail):
    """A variable name or value breaks ConfigMgr's rules."""


def check_name(name: t.Any, field: str = "name", *, engine: bool = False) -> str:
    """Validate a variable name; ``field`` names the option in the error."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise TaskSequenceVariableError(
            f"{field}: '{name}' is not a valid task sequence variable name; use 1-{MAX_NAME} "
            "letters, digits, '_' or '-' (for example OSDComputerName)."
        )
    if name.startswith("_") and not engine:
        raise TaskSequenceVariableError(
            f"{field}: '{name}' is read-only: names starting with '_' are set only by the "
            "task sequence engine. Choose a name that starts with a letter."
        )
    return name


def kind_of(value: t.Any) -> str:
    """The YAML kind of a value, as a user wrote it (Ansible tags its own subclasses)."""
    for kind, cls in (("bool", bool), ("int", int), ("float", float), ("str", str), ("list", list), ("dict", dict)):
        if isinstance(value, cls):
            return kind
    return type(value).__name__


def check_value(name: str, value: t.Any, field: str = "value") -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    if not isinstance(value, (str, int, float)):
        raise TaskSequenceVariableError(
            f"{field}: the value of '{name}' must be a string (got a {kind_of(value)}); "
            "task sequence variables hold text."
        )
    value = str(value)
    if len(value) > MAX_VALUE:
        raise TaskSequenceVariableError(
            f"{field}: the value of '{name}' has {len(value)} characters; ConfigMgr allows "
            f"at most {MAX_VALUE}. Shorten it or split it over several variables."
        )
    return value


class TaskSequenceEnvironment:
    """The variables of one host's running sequence, rebuilt from its facts each step."""

    def __init__(self, values: dict[str, str] | None = None, hidden: dict[str, str] | None = None):
        self._values: dict[str, str] = {}
        self._sealed: dict[str, str] = {}
        self._clear_hidden: dict[str, str] = {}
        self._index: dict[str, str] = {}
        self._expanded_hidden: set[str] = set()   # expansions that took in a hidden value
        for name, value in (values or {}).items():
            self._store(name, "" if value is None else str(value))
        for name, token in (hidden or {}).items():
            key = self._index.get(name.lower(), name)
            self._index[name.lower()] = key
            self._sealed[key] = token
            self._values.setdefault(key, _secrets.MASK)

    @classmethod
    def from_task_vars(cls, task_vars: dict) -> "TaskSequenceEnvironment":
        values = task_vars.get(FACT) or {}
        hidden = task_vars.get(HIDDEN_FACT) or {}
        if not isinstance(values, dict) or not isinstance(hidden, dict):
            raise TaskSequenceVariableError(
                f"the facts '{FACT}' and '{HIDDEN_FACT}' must be dictionaries; something else "
                "overwrote them. Remove that set_fact or clear the fact cache."
            )
        return cls(values, hidden)

    def _store(self, name: str, value: str) -> str:
        key = self._index.setdefault(name.lower(), name)
        self._values[key] = value
        return key

    def _key(self, name: str) -> str | None:
        return self._index.get(name.lower())

    def __contains__(self, name: str) -> bool:
        return self._key(name) is not None

    def is_hidden(self, name: str) -> bool:
        key = self._key(name)
        return key is not None and key in self._sealed

    def get(self, name: str, default: str | None = None) -> str | None:
        """The real value (hidden values decrypted), or ``default``."""
        key = self._key(name)
        if key is None:
            return default
        if key in self._sealed:
            if key not in self._clear_hidden:
                self._clear_hidden[key] = _secrets.unseal(key, self._sealed[key])
            return self._clear_hidden[key]
        return self._values[key]

    def set(self, name: str, value: t.Any, *, hidden: bool = False, engine: bool = False,
            field: str = "name") -> str | None:
        """Set (or, with an empty value, delete) a variable; returns the stored name."""
        check_name(name, field, engine=engine)
        # A field named by the caller (task_sequence_device_variables, ...) holds the value too.
        value = check_value(name, value, "value" if field == "name" else field)
        if value == "":
            self.delete(name)
            return None
        # A value that carries a hidden value is hidden too: otherwise the plain tsenv fact
        # would show the secret in clear.
        hidden = hidden or (not engine and (value in self._expanded_hidden
                                            or any(_secrets.contains(value, secret) for secret in self.secrets())))
        key = self._store(name, value)
        if hidden:
            self._sealed[key] = _secrets.seal(value)
            self._clear_hidden[key] = value
            self._values[key] = _secrets.MASK
        else:
            self._sealed.pop(key, None)
            self._clear_hidden.pop(key, None)
        return key

    def delete(self, name: str) -> None:
        key = self._index.pop(name.lower(), None)
        if key is not None:
            self._values.pop(key, None)
            self._sealed.pop(key, None)
            self._clear_hidden.pop(key, None)

    def names(self) -> list[str]:
        return list(self._values)

    def as_environment(self) -> dict[str, str]:
        """Every variable with its real value: the environment a step's process gets."""
        return {name: self.get(name) for name in self._values}

    def secrets(self) -> list[str]:
        """Clear values of hidden variables, for scrubbing results."""
        return [self.get(name) for name in self._sealed]

    def expand(self, text: t.Any) -> t.Any:
        """Replace ``%Name%`` by the variable's value; unknown names stay as written."""
        if not isinstance(text, str) or "%" not in text:
            return text

        took_hidden = False

        def repl(match: re.Match) -> str:
            nonlocal took_hidden
            value = self.get(match.group(1))
            took_hidden = took_hidden or (value is not None and self.is_hidden(match.group(1)))
            return match.group(0) if value is None else value

        expanded = _EXPAND_RE.sub(repl, text)
        if took_hidden:
            self._expanded_hidden.add(expanded)
        return expanded

    def begin_step(self, step_name: str) -> None:
        self.set(CURRENT_ACTION, step_name or "(unnamed step)", engine=True)

    def end_step(self, step_name: str, succeeded: bool, rc: int | None) -> None:
        self.set(LAST_ACTION, step_name or "(unnamed step)", engine=True)
        self.set(LAST_SUCCEEDED, "true" if succeeded else "false", engine=True)
        self.set(LAST_RETCODE, str(rc if rc is not None else (0 if succeeded else 1)), engine=True)

    def facts(self) -> dict[str, dict[str, str]]:
        return {FACT: dict(self._values), HIDDEN_FACT: dict(self._sealed)}
