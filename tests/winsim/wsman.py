"""WS-Management shell messages: parsing requests, building responses and faults.

Only what WinRS clients (pywinrm, pypsrp, Ansible's winrm plugin) use of the
``.../windows/shell/cmd`` resource. Test fixture: never shipped.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import uuid
import xml.etree.ElementTree as ET

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
}
SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
ACTIONS = {
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create": "Create",
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete": "Delete",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command": "Command",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send": "Send",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive": "Receive",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal": "Signal",
}
RESPONSE_ACTIONS = {
    "Create": "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse",
    "Delete": "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse",
    "Command": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse",
    "Send": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SendResponse",
    "Receive": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse",
    "Signal": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse",
}
DONE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"
RUNNING = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running"

# WSManFault codes Windows uses, and that clients act on.
OPERATION_TIMEOUT = 2150858793   # Receive found nothing in time: clients poll again
SHELL_NOT_FOUND = 2150858843     # the shell is gone (e.g. after a restart)
INVALID_SELECTORS = 2150858813
ACTION_NOT_SUPPORTED = 2150858754
INTERNAL_ERROR = 2147500037      # E_FAIL: our injected 500s

_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$")


class WSManFault(Exception):
    """A fault Windows would answer with (HTTP 500 + s:Fault)."""

    def __init__(self, code: int, message: str, subcode: str = "w:InternalError", status: int = 500):
        super().__init__(message)
        self.code, self.message, self.subcode, self.status = code, message, subcode, status


@dataclasses.dataclass
class Request:
    action: str                     # short name: Create, Command, ...
    message_id: str
    resource_uri: str
    shell_id: str | None
    operation_timeout: float
    body: ET.Element
    options: dict[str, str]


def _q(prefix: str, tag: str) -> str:
    return f"{{{NS[prefix]}}}{tag}"


def parse_duration(text: str | None, default: float = 20.0) -> float:
    match = _DURATION.match((text or "").strip())
    if not match:
        return default
    h, m, s = match.groups()
    return int(h or 0) * 3600 + int(m or 0) * 60 + float(s or 0)


def parse_request(data: bytes) -> Request:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise WSManFault(2150858817, "The WS-Management service cannot process the request: DTDs are not accepted.",
                         "w:InvalidMessageInformationHeader", 400)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise WSManFault(2150858817, f"The request is not well-formed XML: {e}", "w:InvalidMessageInformationHeader",
                         400) from None
    header = root.find("s:Header", NS)
    body = root.find("s:Body", NS)
    if header is None or body is None:
        raise WSManFault(2150858817, "The SOAP envelope has no Header or Body.", "w:InvalidMessageInformationHeader", 400)
    action_uri = (header.findtext("a:Action", "", NS) or "").strip()
    action = ACTIONS.get(action_uri)
    if action is None:
        raise WSManFault(ACTION_NOT_SUPPORTED,
                         f"simulated host: the WS-Management action '{action_uri}' is not supported",
                         "w:ActionNotSupported")
    shell_id = None
    for sel in header.findall("w:SelectorSet/w:Selector", NS):
        if sel.get("Name") == "ShellId":
            shell_id = (sel.text or "").strip()
    options = {o.get("Name"): (o.text or "") for o in header.findall("w:OptionSet/w:Option", NS)}
    return Request(
        action=action,
        message_id=(header.findtext("a:MessageID", "", NS) or "").strip(),
        resource_uri=(header.findtext("w:ResourceURI", "", NS) or "").strip(),
        shell_id=shell_id,
        operation_timeout=parse_duration(header.findtext("w:OperationTimeout", None, NS)),
        body=body,
        options=options,
    )


def _envelope(action_uri: str, relates_to: str, body_xml: str, extra_header: str = "") -> bytes:
    ns = " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items())
    return (
        f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xml:lang="en-US" {ns}><s:Header>'
        f"<a:Action>{action_uri}</a:Action><a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        f"<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"<a:RelatesTo>{relates_to}</a:RelatesTo>{extra_header}</s:Header><s:Body>{body_xml}</s:Body></s:Envelope>"
    ).encode()


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def create_response(req: Request, shell_id: str, endpoint: str) -> bytes:
    body = (
        f"<x:ResourceCreated><a:Address>{_esc(endpoint)}</a:Address><a:ReferenceParameters>"
        f"<w:ResourceURI>{SHELL_URI}</w:ResourceURI><w:SelectorSet>"
        f'<w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet></a:ReferenceParameters>'
        f"</x:ResourceCreated>"
        f"<rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId><rsp:ResourceUri>{SHELL_URI}</rsp:ResourceUri>"
        f"<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>"
    )
    return _envelope(RESPONSE_ACTIONS["Create"], req.message_id, body)


def command_response(req: Request, command_id: str) -> bytes:
    body = f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"
    return _envelope(RESPONSE_ACTIONS["Command"], req.message_id, body)


def empty_response(req: Request) -> bytes:
    body = "<rsp:SignalResponse/>" if req.action == "Signal" else "<rsp:SendResponse/>" if req.action == "Send" else ""
    return _envelope(RESPONSE_ACTIONS[req.action], req.message_id, body)


def receive_response(req: Request, command_id: str, stdout: bytes, stderr: bytes, exit_code: int | None) -> bytes:
    parts = []
    for name, data in (("stdout", stdout), ("stderr", stderr)):
        if data:
            parts.append(f'<rsp:Stream Name="{name}" CommandId="{command_id}">{base64.b64encode(data).decode()}</rsp:Stream>')
        if exit_code is not None:
            parts.append(f'<rsp:Stream Name="{name}" CommandId="{command_id}" End="true"></rsp:Stream>')
    if exit_code is None:
        state = f'<rsp:CommandState CommandId="{command_id}" State="{RUNNING}"/>'
    else:
        state = (f'<rsp:CommandState CommandId="{command_id}" State="{DONE}">'
                 f"<rsp:ExitCode>{exit_code}</rsp:ExitCode></rsp:CommandState>")
    body = f'<rsp:ReceiveResponse>{"".join(parts)}{state}</rsp:ReceiveResponse>'
    return _envelope(RESPONSE_ACTIONS["Receive"], req.message_id, body)


def fault_response(fault: WSManFault, relates_to: str, machine: str) -> bytes:
    body = (
        f"<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>{fault.subcode}</s:Value></s:Subcode>"
        f'</s:Code><s:Reason><s:Text xml:lang="en-US">{_esc(fault.message)}</s:Text></s:Reason><s:Detail>'
        f'<f:WSManFault Code="{fault.code}" Machine="{_esc(machine)}"><f:Message>{_esc(fault.message)}</f:Message>'
        f"</f:WSManFault></s:Detail></s:Fault>"
    )
    return _envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to or "uuid:unknown", body)


def command_line(req: Request) -> str:
    """The command and its arguments, joined as WinRS does for CreateProcess."""
    cmd = req.body.find("rsp:CommandLine", NS)
    if cmd is None:
        raise WSManFault(2150858817, "Command request without rsp:CommandLine", "w:InvalidMessageInformationHeader", 400)
    text = (cmd.findtext("rsp:Command", "", NS) or "").strip()
    args = [a.text or "" for a in cmd.findall("rsp:Arguments", NS)]
    return " ".join([text, *args]).strip()


def send_streams(req: Request) -> list[tuple[str, bytes, bool]]:
    """(command_id, data, end) for each stdin stream of a Send."""
    out = []
    for stream in req.body.findall("rsp:Send/rsp:Stream", NS):
        data = base64.b64decode(stream.text or "")
        out.append((stream.get("CommandId") or "", data, (stream.get("End") or "").lower() == "true"))
    return out


def receive_command_id(req: Request) -> str:
    stream = req.body.find("rsp:Receive/rsp:DesiredStream", NS)
    return (stream.get("CommandId") if stream is not None else None) or ""


def signal_command_id(req: Request) -> tuple[str, str]:
    sig = req.body.find("rsp:Signal", NS)
    if sig is None:
        return "", ""
    return sig.get("CommandId") or "", (sig.findtext("rsp:Code", "", NS) or "").strip()
