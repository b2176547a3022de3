"""Authentication and WinRM message encryption for the simulated host.

NTLM (raw or in SPNEGO) through pyspnego's acceptor, with [MS-WSMV] message encryption on
plain HTTP; Basic over HTTPS (or over HTTP only when the host allows unencrypted traffic, as
Windows' ``AllowUnencrypted`` does). Test fixture: never shipped.

pyspnego's NTLM acceptor reads its accounts from the file named by ``NTLM_USER_FILE``, a
process-wide setting: every simulated host in one process shares the same test accounts.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct

import spnego

BOUNDARY = b"--Encrypted Boundary"
PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
ENCRYPTED_CONTENT_TYPE = f'multipart/encrypted;protocol="{PROTOCOL}";boundary="Encrypted Boundary"'


def write_user_file(path: str, accounts: dict[str, str], computer_names: list[str]) -> None:
    """Make ``accounts`` known to pyspnego's NTLM acceptor (for every host name as domain)."""
    lines = []
    for user, password in accounts.items():
        lines.append(f":{user}:{password}")
        lines.extend(f"{name.upper()}:{user}:{password}" for name in computer_names)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    os.environ["NTLM_USER_FILE"] = path


class AuthError(Exception):
    """The client did not authenticate: answer 401 (with ``challenge`` when there is one)."""

    def __init__(self, challenge: str | None = None, reason: str = "", rejected: bool = True):
        super().__init__(reason)
        self.challenge = challenge
        self.rejected = rejected   # False for the first, credential-less request of a handshake


class ConnectionAuth:
    """Authentication state of one TCP connection (NTLM is connection-bound)."""

    def __init__(self, accounts, *, secure: bool, allow_unencrypted: bool):
        self._accounts = accounts
        self.secure = secure
        self.allow_unencrypted = allow_unencrypted
        self.context = None
        self.scheme = ""
        self.user = ""

    @property
    def complete(self) -> bool:
        return self.context is not None and self.context.complete

    def authenticate(self, header: str | None) -> None:
        """Process an Authorization header; raises AuthError when the client must (re)try."""
        if not header:
            if self.complete:
                return   # NTLM: later requests on the connection carry no header
            raise AuthError(None, "no credentials", rejected=False)
        scheme, _sep, token = header.partition(" ")
        scheme = scheme.strip()
        if scheme.lower() == "basic":
            if not (self.secure or self.allow_unencrypted):
                # Windows refuses Basic over HTTP while AllowUnencrypted is false.
                raise AuthError(None, "Basic over unencrypted HTTP is refused")
            try:
                user, _sep, password = base64.b64decode(token).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise AuthError(None, "bad Basic token") from None
            user = user.split("\\")[-1]
            if self._accounts().get(user) != password or not password:
                raise AuthError(None, "wrong user name or password")
            self.scheme, self.user = "basic", user
            return
        if scheme.lower() not in ("negotiate", "ntlm"):
            raise AuthError(None, f"unsupported scheme {scheme}")
        try:
            data = base64.b64decode(token.strip())
        except binascii.Error:
            raise AuthError(None, "bad token") from None
        if self.context is None or self.context.complete:
            self.context = spnego.server(protocol="negotiate")
        try:
            out = self.context.step(data)
        except spnego.exceptions.SpnegoError:
            self.context = None
            raise AuthError(None, "wrong user name or password") from None
        self.scheme = scheme
        if not self.context.complete:
            raise AuthError(f"{scheme} {base64.b64encode(out or b'').decode()}", "challenge")
        self.user = (self.context.client_principal or "").split("\\")[-1]

    def unwrap(self, body: bytes, content_type: str) -> tuple[bytes, bool]:
        """(plain SOAP, was_encrypted)."""
        if "multipart/encrypted" not in content_type.lower():
            if self.scheme.lower() in ("negotiate", "ntlm") and not (self.secure or self.allow_unencrypted) and body:
                raise AuthError(None, "unencrypted message on HTTP")
            return body, False
        if not self.complete:
            raise AuthError(None, "encrypted message before authentication")
        parts = [p for p in body.split(BOUNDARY + b"\r\n") if p]
        message = b""
        for i in range(0, len(parts) - 1, 2):
            header, payload = parts[i], parts[i + 1]
            length = int(header.split(b"Length=")[1].split(b"\r\n")[0])
            if payload.endswith(BOUNDARY + b"--\r\n"):
                payload = payload[: -len(BOUNDARY + b"--\r\n")]
            payload = payload.replace(b"\tContent-Type: application/octet-stream\r\n", b"", 1)
            sig_len = struct.unpack("<i", payload[:4])[0]
            signature, sealed = payload[4:4 + sig_len], payload[4 + sig_len:]
            try:
                plain = self.context.unwrap_winrm(signature, sealed)
            except spnego.exceptions.SpnegoError:
                raise AuthError(None, "message does not decrypt with this connection's context") from None
            if len(plain) != length:
                raise AuthError(None, "encrypted length mismatch")
            message += plain
        return message, True

    def wrap(self, message: bytes) -> bytes:
        result = self.context.wrap_winrm(message)
        stream = struct.pack("<i", len(result.header)) + result.header + result.data
        return (
            BOUNDARY + b"\r\n\tContent-Type: " + PROTOCOL.encode() + b"\r\n"
            b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=" + str(len(message)).encode()
            + b"\r\n" + BOUNDARY + b"\r\n\tContent-Type: application/octet-stream\r\n" + stream
            + BOUNDARY + b"--\r\n"
        )
