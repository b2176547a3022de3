"""The controller's key for hidden values: made once, whole, the same for every fork."""

from __future__ import annotations

import multiprocessing
import os
import stat

import pytest

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _secrets


def _make_and_report(path: str, barrier, results) -> None:
    os.environ[_secrets.KEY_FILE_ENV] = path
    barrier.wait()
    try:
        results.put(_secrets.seal("probe") and open(path, "rb").read())
    except Exception as e:   # noqa: BLE001 - reported to the test, which fails on it
        results.put(f"{type(e).__name__}: {e}")


def test_forks_starting_together_share_one_whole_key(tmp_path):
    # Ansible forks one worker per host; the first hidden value of a run makes the key in each at once.
    ctx = multiprocessing.get_context("fork")
    for attempt in range(10):
        path = str(tmp_path / f"k{attempt}" / "controller.key")
        barrier, results = ctx.Barrier(8), ctx.Queue()
        procs = [ctx.Process(target=_make_and_report, args=(path, barrier, results)) for _i in range(8)]
        for p in procs:
            p.start()
        got = [results.get(timeout=60) for _p in procs]
        for p in procs:
            p.join()
        assert len(set(got)) == 1 and isinstance(got[0], bytes), got
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert sorted(os.listdir(os.path.dirname(path))) == ["controller.key"]   # nothing left aside


def test_a_key_cut_short_while_written_is_never_published(tmp_path, monkeypatch):
    # A full disk (or a kill) half-way: no key file is left behind to be read as "not a valid key"
    # by every later run; the next run makes a key as if none had been tried.
    path = str(tmp_path / "controller.key")
    real_write = os.write

    def half_then_fail(fd, data):
        real_write(fd, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_fail)
    with pytest.raises(_secrets.KeyFileError, match=r"cannot be made \(No space left on device\); point "
                                                    "TASKSEQUENCE_WINDOWS_KEY_FILE at a file on a local disk"):
        _secrets._publish_key(path, b"k" * 44)
    assert os.listdir(tmp_path) == []
    monkeypatch.setattr(os, "write", real_write)
    monkeypatch.setenv(_secrets.KEY_FILE_ENV, path)
    token = _secrets.seal("value")
    assert _secrets.unseal("V", token) == "value"


def test_publish_does_not_replace_a_key_already_there(tmp_path):
    path = str(tmp_path / "controller.key")
    assert _secrets._publish_key(path, b"first") is True
    assert _secrets._publish_key(path, b"second") is False
    assert open(path, "rb").read() == b"first"
