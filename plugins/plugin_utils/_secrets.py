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
import tempfile
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
    key = Fernet.generate_key()
    if not _publish_key(path, key):
        return _load(path)   # another fork made it first: every fork uses the same key
    return Fernet(key)


def _publish_key(path: str, key: bytes) -> bool:
    """Puts a new key at ``path`` whole or not at all; False when a key is already there. Forks
    starting together race to make the key: one written in place could be read empty by another
    ("not a valid key"), or left empty by a kill, so it is written aside (0600) and hard-linked
    in, which fails when the name exists."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tsk-")   # mode 0600
    try:
        written = 0
        while written < len(key):
            written += os.write(fd, key[written:])
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError as e:   # a full disk, a file system without hard links
        raise KeyFileError(
            f"the key file {path} for hidden task sequence values cannot be made ({e.strerror}); point "
            f"{KEY_FILE_ENV} at a file on a local disk, or make the key yourself there (one Fernet key, mode 600)"
        ) from None
    finally:
        if fd >= 0:
            os.close(fd)
        os.unlink(tmp)


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
