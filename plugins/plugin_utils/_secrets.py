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
import typing as t

from ansible.errors import AnsibleActionFail

MASK = "********"
KEY_FILE_ENV = "TASKSEQUENCE_WINDOWS_KEY_FILE"


def _key_path() -> str:
    return os.environ.get(KEY_FILE_ENV) or os.path.expanduser("~/.ansible/tasksequence_windows.key")


def _fernet():
    # Imported here so plugins that never touch hidden values do not need cryptography.
    from cryptography.fernet import Fernet

    path = _key_path()
    try:
        with open(path, "rb") as f:
            return Fernet(f.read().strip())
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
    key = Fernet.generate_key()
    try:
        # O_EXCL: two forks racing to create the key must end up with the same one.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, "rb") as f:
            return Fernet(f.read().strip())
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


def scrub(data: t.Any, secrets: t.Iterable[str]) -> t.Any:
    """Return ``data`` with every occurrence of each secret replaced by the mask."""
    needles = sorted({s for s in secrets if s}, key=len, reverse=True)
    if not needles:
        return data
    return _scrub(data, needles)


def _scrub(data: t.Any, needles: list[str]) -> t.Any:
    if isinstance(data, str):
        for needle in needles:
            if needle in data:
                data = data.replace(needle, MASK)
        return data
    if isinstance(data, dict):
        return {k: _scrub(v, needles) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_scrub(v, needles) for v in data]
    return data
