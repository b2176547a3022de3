"""win_get_url on the simulated host: no network; URLs resolve only from the state's ``web`` table."""

from __future__ import annotations

import base64
import hashlib
import ntpath
import urllib.parse

from tests.winsim.modules._base import Emulated

# win_get_url.ps1's $spec plus WebRequest.psm1's fragment (upstream.py): no authentication, proxy or
# method choice on the simulated network.
SPEC = Emulated("win_get_url", not_emulated=(
    "checksum_url", "url_method", "follow_redirects", "headers", "client_cert", "client_cert_password",
    "force_basic_auth", "url_username", "url_password", "use_default_credential", "proxy_url", "proxy_username",
    "proxy_password", "proxy_use_default_credential"))


# A URL on loopback is fetched for real: tests serve content from an HTTP server of their own on
# 127.0.0.1, which the simulated host (itself on loopback) reaches as a real host reaches its server.
LOOPBACK = ("127.0.0.1", "localhost")


def _loopback(mod, url: str, dest: str) -> dict:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as resp:   # noqa: S310 - http(s) on loopback only
            return {"status": resp.status, "reason": resp.reason,
                    "content_b64": base64.b64encode(resp.read()).decode()}
    except urllib.error.HTTPError as e:
        return {"status": e.code, "reason": e.reason}
    except OSError as e:
        # guess: .NET's text when nothing listens ("Unable to connect to the remote server")
        mod.fail_json(f"Error downloading '{url}' to '{dest}': Exception calling \"GetResponse\" with \"0\" "
                      f"argument(s): \"Unable to connect to the remote server\" ({e})")


def fetch(mod, url: str, dest: str) -> tuple[bytes, dict]:
    """(body, record) of a URL from the state's web table; fails as an unreachable address does."""
    rec = None
    for known, value in (mod.machine.state.get("web") or {}).items():
        if known.lower().rstrip("/") == url.lower().rstrip("/"):
            rec = value
    host = urllib.parse.urlsplit(url).hostname or url
    if rec is None and host in LOOPBACK:
        rec = _loopback(mod, url, dest)
    if rec is None:
        # guess: the text .NET gives when DNS has no answer (the simulated hosts have no network)
        mod.fail_json(f"Error downloading '{url}' to '{dest}': Exception calling \"GetResponse\" with "
                      f"\"0\" argument(s): \"The remote name could not be resolved: '{host}'\"")
    status = int(rec.get("status", 200))
    if status >= 400:
        mod.result["status_code"] = status
        mod.fail_json(f"Error downloading '{url}' to '{dest}': Exception calling \"GetResponse\" "
                      f"with \"0\" argument(s): \"The remote server returned an error: ({status}) "
                      f"{rec.get('reason', 'Not Found')}.\"")
    body = base64.b64decode(rec["content_b64"]) if "content_b64" in rec else str(rec.get("content", "")).encode()
    return body, rec


def download(mod, url: str, dest: str) -> None:
    """win_package's Get-UrlFile: the URL's body to a file (keeping its msi/program metadata)."""
    body, rec = fetch(mod, url, dest)
    extra = {k: rec[k] for k in ("msi", "program", "version") if k in rec}
    mod.machine.fs_write(dest, body, extra=extra)


def run(mod) -> None:
    p, m = mod.params, mod.machine
    url, dest = p["url"], p["dest"]
    algorithm = p["checksum_algorithm"]
    mod.result.update(elapsed=0, url=url)
    if m.fs_isdir(dest):
        parts = urllib.parse.urlsplit(url)
        leaf = parts.path.rstrip("/").rsplit("/", 1)[-1] if parts.path not in ("", "/") else ""
        dest = ntpath.join(dest, leaf or parts.hostname or "")
    elif dest.endswith(("\\", "/")):
        mod.fail_json(f"The destination path '{dest}' does not exist, or is not visible to the current user. Ensure "
                      "download destination folder exists (perhaps using win_file state=directory) before win_get_url "
                      "runs.")
    mod.result["dest"] = dest
    checksum = (p["checksum"] or "").strip().lower() or None
    dest_checksum = None
    force = p["force"]
    if m.fs_isfile(dest):
        dest_checksum = hashlib.new(algorithm, m.fs_read(dest)).hexdigest()
        if checksum and dest_checksum != checksum:
            force = True
    if dest_checksum and checksum and dest_checksum == checksum and not force:
        mod.result.update(checksum_dest=dest_checksum, size=len(m.fs_read(dest)))
    elif force or not m.fs_exists(dest):
        _download(mod, url, dest, checksum, dest_checksum, algorithm)
    else:
        # force=no: only when the server's Last-Modified is newer. guess: the web table's files never change
        mod.result.update(status_code=200, msg="OK")
    if "checksum_dest" not in mod.result and m.fs_isfile(dest):
        mod.result.update(checksum_dest=hashlib.new(algorithm, m.fs_read(dest)).hexdigest(), size=len(m.fs_read(dest)))


def _download(mod, url: str, dest: str, checksum, dest_checksum, algorithm) -> None:
    parent = ntpath.dirname(dest)
    if not mod.machine.fs_isdir(parent):
        mod.fail_json(f"The path '{parent}' does not exist for destination '{dest}', or is not visible to the current "
                      "user. Ensure download destination folder exists (perhaps using win_file state=directory) "
                      "before win_get_url runs.")
    body, rec = fetch(mod, url, dest)
    mod.result.update(status_code=int(rec.get("status", 200)), msg=rec.get("reason", "OK"))
    tmp_checksum = hashlib.new(algorithm, body).hexdigest()
    mod.result["checksum_src"] = tmp_checksum
    if checksum and checksum != tmp_checksum:
        mod.fail_json(f"The checksum for {url} did not match '{checksum}', it was '{tmp_checksum}'")
    if dest_checksum == tmp_checksum:
        mod.result.update(checksum_dest=dest_checksum, size=len(body))
        return
    if not mod.check_mode:
        extra = {k: rec[k] for k in ("msi", "program", "version") if k in rec}
        mod.machine.fs_write(dest, body, extra=extra)
    mod.result["changed"] = True
