# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keeping hidden task sequence values out of every result, fact and log.

Internal to this collection: no compatibility promise.

Ansible prints a task's whole result (facts included) from ``-v`` on, so a hidden value
cannot live in a fact in clear. It is kept encrypted (Fernet) in the ``tsenv_hidden``
fact; the key lives only on the controller, in a file created with mode 0600
(``TASKSEQUENCE_WINDOWS_KEY_FILE`` or ``~/.ansible/tasksequence_windows.key``).
A fact cache therefore holds only ciphertext; a controller without the key (a new
execution environment) cannot read old hidden values and says so by name.
"""

from __future__ import annotations

import os
import re
import typing as t

from ansible.errors import AnsibleActionFail

MASK = "********"
KEY_FILE_ENV = "TASKSEQUENCE_WINDOWS_KEY_FILE"


class KeyFileError(AnsibleActionFail):
    """The controller's key file is unsafe or unusable: a setup error, not a step failure."""


def _key_path() -> str:
    return os.environ.get(KEY_FILE_ENV) or os.path.expanduser("~/.ansible/tasksequence_windows.key")


def _load(path: str):
    from cryptography.fernet import Fernet

    mode = os.stat(path).st_mode
    if mode & 0o077:
        raise KeyFileError(
            f"the key file {path} for hidden task sequence values can be read by other users "
            f"(mode {mode & 0o777:o}); run: chmod 600 {path}"
        )
    with open(path, "rb") as f:
        try:
            return Fernet(f.read().strip())
        except ValueError:
            raise KeyFileError(
                f"the key file {path} for hidden task sequence values is not a valid key (it must hold one "
                f"Fernet key). Restore it from a backup, or move it away to start with a new key "
                "(hidden values stored with the old key are then lost)."
            ) from None


def _fernet():
    # Imported here so plugins that never touch hidden values do not need cryptography.
    from cryptography.fernet import Fernet

    path = _key_path()
    try:
        return _load(path)
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
    key = Fernet.generate_key()
    try:
        # O_EXCL: two forks racing to create the key must end up with the same one.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _load(path)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return Fernet(key)


def seal(value: str) -> str:
    return _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def unseal(name: str, token: str) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError, AttributeError):
        raise AnsibleActionFail(
            f"hidden task sequence variable '{name}' cannot be decrypted on this controller "
            f"(its key file {_key_path()} is not the one that stored it). "
            f"Set the variable again, or point {KEY_FILE_ENV} at the original key file."
        ) from None


# A hidden value this short is masked only where it stands alone (not inside a word or a
# number): ConfigMgr hides a variable's value, not every matching substring of all output,
# and masking "1" everywhere would turn "Box-10" into "Box-********0".
SHORT_SECRET = 4


def scrub(data: t.Any, secrets: t.Iterable[str]) -> t.Any:
    """A copy of ``data`` for display, with each secret replaced by the mask.

    Never apply this to data that is stored or sent to the host: it is for what is shown.
    """
    needles = sorted({s for s in secrets if isinstance(s, str) and s}, key=len, reverse=True)
    if not needles:
        return data
    patterns = [_pattern(n) for n in needles]
    return _scrub(data, patterns)


def scrub_text(text: str, secrets: t.Iterable[str]) -> str:
    return scrub(text, secrets)


def contains(text: str, secret: str) -> bool:
    """Whether ``text`` shows ``secret`` (by the same rule as masking)."""
    return bool(secret) and _pattern(secret).search(text) is not None


def _pattern(needle: str) -> re.Pattern:
    if len(needle) >= SHORT_SECRET:
        return re.compile(re.escape(needle))
    return re.compile(r"(?<![\w.-])" + re.escape(needle) + r"(?![\w.-])")


def _scrub(data: t.Any, patterns: list) -> t.Any:
    if isinstance(data, str):
        for pattern in patterns:
            data = pattern.sub(MASK, data)
        return data
    if isinstance(data, dict):
        return {_scrub(k, patterns): _scrub(v, patterns) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_scrub(v, patterns) for v in data]
    return data
