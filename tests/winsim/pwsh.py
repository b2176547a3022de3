"""A small Windows PowerShell 5.1 interpreter for the simulated host (a test fixture, never shipped).

No PowerShell exists on this machine. Whatever PowerShell reaches the simulated host -- the
collection's own scripts (``plugins/plugin_utils/powershell/*.ps1``, executed from their real
text), users' scripts, raw commands -- is tokenized, parsed and evaluated here, for a subset of
the language and of Windows' cmdlets and .NET types:

* statements: pipelines, assignments (``= += -= *= /= %=``), ``if/elseif/else``, ``foreach``,
  ``for``, ``while``, ``do``, ``try/catch/finally``, ``throw``, ``return``, ``exit``,
  ``break``, ``continue``; ``[CmdletBinding()]`` + ``param()`` blocks with attributes and types;
* expressions: literals (strings with interpolation, here-strings, numbers with ``KB..PB``),
  ``@()``, ``@{}``, ``[ordered]``, ``[pscustomobject]``, casts, member access, indexing, method
  calls, static members, the PowerShell operators (case-insensitive by default, with its
  comparison and conversion rules, array-left filtering);
* commands: the cmdlets in ``CMDLETS``, scripts (``& path``, with the execution policy),
  script blocks (``[scriptblock]::Create``), splatting, native programs (``programs.py``),
  ``$ErrorActionPreference`` / ``-ErrorAction``, terminating and non-terminating errors, ``$?``.

Anything else -- a cmdlet, type, member, operator or statement it does not know -- is refused
by name as a terminating error, ``simulated host: unsupported PowerShell at line N: <what>``:
the simulated host never pretends to have run what it did not understand. Where behaviour is a
guess about Windows, the code says ``# guess:``.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime
import fnmatch
import functools
import json
import math
import ntpath
import re
import uuid

from tests.winsim.machine import ExecResult, FsError

SIGNATURE = "# SIG # Begin signature block"
NOT_RECOGNIZED = ("The term '{0}' is not recognized as the name of a cmdlet, function, script file, or operable "
                  "program. Check the spelling of the name, or if a path was included, verify that the path is "
                  "correct and try again.")


# errors and control flow ----------------------------------------------------------------------

class Unsupported(Exception):
    """What the simulated host does not implement: always a terminating refusal, named."""

    def __init__(self, what: str, line: int | None = None):
        super().__init__(what)
        self.what, self.line = what, line

    def __str__(self) -> str:
        return f"simulated host: unsupported PowerShell at line {self.line or '?'}: {self.what}"


class PSParseError(Exception):
    """A syntax error, as PowerShell's parser reports it (ParseException)."""

    def __init__(self, message: str, line: int, source: str = ""):
        super().__init__(message)
        self.message, self.line, self.source = message, line, source


class ExitSignal(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class ReturnSignal(Exception):
    pass


class BreakSignal(Exception):
    pass


class ContinueSignal(Exception):
    pass


# Exception types (full .NET names) and what they derive from, for catch [Type] and -is.
_EXC_BASE = {
    "System.SystemException": "System.Exception",
    "System.Management.Automation.RuntimeException": "System.SystemException",
    "System.Management.Automation.ActionPreferenceStopException": "System.Management.Automation.RuntimeException",
    "System.Management.Automation.SessionStateException": "System.Management.Automation.RuntimeException",
    "System.Management.Automation.ItemNotFoundException": "System.Management.Automation.SessionStateException",
    "System.Management.Automation.DriveNotFoundException": "System.Management.Automation.SessionStateException",
    "System.Management.Automation.CommandNotFoundException": "System.Management.Automation.RuntimeException",
    "System.Management.Automation.ParameterBindingException": "System.Management.Automation.RuntimeException",
    "System.Management.Automation.ParseException": "System.Management.Automation.RuntimeException",
    "System.Management.Automation.PSSecurityException": "System.Management.Automation.RuntimeException",
    "System.Management.Automation.MethodException": "System.Management.Automation.RuntimeException",
    "System.Management.Automation.MethodInvocationException": "System.Management.Automation.MethodException",
    "System.Management.Automation.PSInvalidCastException": "System.InvalidCastException",
    "System.Management.Automation.PSArgumentException": "System.ArgumentException",
    "System.Management.Automation.PSInvalidOperationException": "System.InvalidOperationException",
    "System.Management.Automation.ValidationMetadataException": "System.Management.Automation.RuntimeException",
    "Microsoft.PowerShell.Commands.WriteErrorException": "System.SystemException",
    "System.InvalidCastException": "System.SystemException",
    "System.ArgumentException": "System.SystemException",
    "System.ArgumentNullException": "System.ArgumentException",
    "System.ArgumentOutOfRangeException": "System.ArgumentException",
    "System.InvalidOperationException": "System.SystemException",
    "System.FormatException": "System.SystemException",
    "System.DivideByZeroException": "System.ArithmeticException",
    "System.ArithmeticException": "System.SystemException",
    "System.IndexOutOfRangeException": "System.SystemException",
    "System.IO.IOException": "System.SystemException",
    "System.IO.FileNotFoundException": "System.IO.IOException",
    "System.IO.DirectoryNotFoundException": "System.IO.IOException",
    "System.UnauthorizedAccessException": "System.SystemException",
    "System.NotSupportedException": "System.SystemException",
    "System.Collections.Generic.KeyNotFoundException": "System.SystemException",
    "Microsoft.Management.Infrastructure.CimException": "System.Exception",
    "System.Exception": "System.Object",
}


class PSExceptionObject:
    """A .NET exception as a script sees it ($_.Exception)."""

    def __init__(self, type_name: str, message: str, *, inner=None, hresult: int = -2146233087,
                 record: ErrorRecord | None = None):
        self.type_name, self.message, self.inner, self.hresult, self.record = type_name, message, inner, hresult, record

    def type_chain(self) -> list[str]:
        chain, name = [], self.type_name
        while name and name not in chain:
            chain.append(name)
            name = _EXC_BASE.get(name, "System.Exception" if name != "System.Exception" else "System.Object")
        return chain


class ErrorRecord:
    """System.Management.Automation.ErrorRecord."""

    def __init__(self, exception: PSExceptionObject, fqid: str, category: str = "NotSpecified", target=None, *,
                 reason: str | None = None, activity: str = "", target_name: str = "", target_type: str = "",
                 command: str | None = None, line: int | None = None, script: str | None = None,
                 line_text: str = "", details: str | None = None):
        self.exception, self.fqid, self.category, self.target = exception, fqid, category, target
        self.reason = reason or exception.type_name.rsplit(".", 1)[-1]
        self.activity, self.target_name, self.target_type = activity, target_name, target_type
        self.command, self.line, self.script, self.line_text, self.details = command, line, script, line_text, details
        if exception.record is None:
            exception.record = self

    def message(self) -> str:
        return self.details if self.details is not None else self.exception.message

    def __str__(self) -> str:
        return self.message()


CATEGORIES = {"NotSpecified": 0, "OpenError": 1, "CloseError": 2, "DeviceError": 3, "DeadlockDetected": 4,
              "InvalidArgument": 5, "InvalidData": 6, "InvalidOperation": 7, "InvalidResult": 8, "InvalidType": 9,
              "MetadataError": 10, "NotImplemented": 11, "NotInstalled": 12, "ObjectNotFound": 13,
              "OperationStopped": 14, "OperationTimeout": 15, "SyntaxError": 16, "ParserError": 17,
              "PermissionDenied": 18, "ResourceBusy": 19, "ResourceExists": 20, "ResourceUnavailable": 21,
              "ReadError": 22, "WriteError": 23, "FromStdErr": 24, "SecurityError": 25, "ProtocolError": 26,
              "ConnectionError": 27, "AuthenticationError": 28, "LimitsExceeded": 29, "QuotaExceeded": 30,
              "NotEnabled": 31}


class PSError(Exception):
    """An error being raised: ``terminating`` unwinds to the nearest try (or ends the script);
    otherwise it is statement-terminating (the statement stops, the script goes on) unless a try
    encloses it or $ErrorActionPreference is Stop."""

    def __init__(self, record: ErrorRecord, terminating: bool = False):
        super().__init__(record.message())
        self.record, self.terminating = record, terminating


def new_error(type_name: str, message: str, fqid: str, category: str = "NotSpecified", target=None, *,
              hresult: int = -2146233087, inner=None, **kw) -> ErrorRecord:
    return ErrorRecord(PSExceptionObject(type_name, message, hresult=hresult, inner=inner), fqid, category, target, **kw)


def runtime_error(message: str, fqid: str = "RuntimeException", category: str = "NotSpecified", target=None,
                  **kw) -> PSError:
    return PSError(new_error("System.Management.Automation.RuntimeException", message, fqid, category, target, **kw))


# values -----------------------------------------------------------------------------------------
# $null is None; [bool] bool; [int]/[long] int; [double] float; [string] str; object[] a Python list.

_MISSING = object()


class _Void:
    """AutomationNull: what a void method or an assignment writes to the pipeline (nothing)."""

    def __repr__(self) -> str:
        return "VOID"


VOID = _Void()


class GenericList(list):
    """System.Collections.Generic.List[T] (enumerated in the pipeline like an array)."""

    def __init__(self, items=(), element: str = "System.Object"):
        super().__init__(items)
        self.element = element


class PSDict:
    """Hashtable (@{}) or OrderedDictionary ([ordered]@{}): keys compare case-insensitively."""

    def __init__(self, items=None, ordered: bool = False):
        self.ordered = ordered
        self._d: dict = {}
        for k, v in (items or {}).items() if isinstance(items, dict) else (items or []):
            self[k] = v

    @staticmethod
    def _key(k):
        return k.lower() if isinstance(k, str) else k

    def __setitem__(self, k, v):
        nk = self._key(k)
        if nk in self._d:
            self._d[nk] = (self._d[nk][0], v)
        else:
            self._d[nk] = (k, v)

    def __getitem__(self, k):
        return self._d[self._key(k)][1]

    def get(self, k, default=None):
        hit = self._d.get(self._key(k))
        return default if hit is None else hit[1]

    def __contains__(self, k):
        return self._key(k) in self._d

    def remove(self, k):
        self._d.pop(self._key(k), None)

    def items(self):
        return list(self._d.values())

    def keys(self):
        return [k for k, _v in self._d.values()]

    def values(self):
        return [v for _k, v in self._d.values()]

    def __len__(self):
        return len(self._d)

    def type_name(self) -> str:
        return "System.Collections.Specialized.OrderedDictionary" if self.ordered else "System.Collections.Hashtable"


class PSObject:
    """PSCustomObject: ordered note properties, names case-insensitive."""

    def __init__(self, props=None, type_names: list[str] | None = None):
        self.props = PSDict(props or {}, ordered=True)
        self.type_names = type_names or ["System.Management.Automation.PSCustomObject", "System.Object"]


class SecureString:
    def __init__(self, text: str):
        self._text = text

    def __repr__(self) -> str:
        return "SecureString(...)"


class PSCredential:
    def __init__(self, user: str, password: SecureString):
        self.user, self.password = user, password


class ScriptBlock:
    def __init__(self, ast, text: str, source: str):
        self.ast, self.text, self.source = ast, text, source


class TypeRef:
    """A type literal ([string]); behaviour lives in the TYPES table."""

    def __init__(self, name: str, fullname: str, info: dict):
        self.name, self.fullname, self.info = name, fullname, info

    def __repr__(self) -> str:
        return f"[{self.fullname}]"


class PSDateTime:
    """System.DateTime; ``local``: Kind Local (the simulated hosts' time zone is UTC)."""

    def __init__(self, value: datetime.datetime, kind: str = "Local"):
        self.value = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
        self.kind = kind


class PathInfo:
    """What Get-Location returns."""

    def __init__(self, path: str):
        self.path = path


class PSRef:
    """[ref]$x: a box whose .Value a script block can set."""

    def __init__(self, value):
        self.value = value

    def ps_get(self, interp, name: str):
        if name.lower() == "value":
            return self.value
        raise Unsupported(f"the member {name} of a [ref]")

    def ps_set(self, interp, name: str, value) -> None:
        if name.lower() != "value":
            raise Unsupported(f"setting {name} on a [ref]")
        self.value = value


def is_enumerable(v) -> bool:
    """What the pipeline unrolls (arrays, lists; never strings or dictionaries)."""
    return isinstance(v, (list, tuple, bytes, bytearray))


def collect(items: list):
    """A captured pipeline's value: nothing -> $null, one -> it, more -> object[]."""
    items = [i for i in items if i is not VOID]
    if not items:
        return None
    return items[0] if len(items) == 1 else list(items)


# type names, strings, truth -----------------------------------------------------------------------

def type_name(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "System.Boolean"
    if isinstance(v, int):
        return "System.Int32" if -2**31 <= v < 2**31 else "System.Int64"
    if isinstance(v, float):
        return "System.Double"
    if isinstance(v, str):
        return "System.String"
    if isinstance(v, GenericList):
        return f"System.Collections.Generic.List`1[[{v.element}]]"
    if isinstance(v, (bytes, bytearray)):
        return "System.Byte[]"
    if isinstance(v, (list, tuple)):
        return "System.Object[]"
    if isinstance(v, PSDict):
        return v.type_name()
    if isinstance(v, PSObject):
        return v.type_names[0]
    if isinstance(v, ErrorRecord):
        return "System.Management.Automation.ErrorRecord"
    if isinstance(v, PSExceptionObject):
        return v.type_name
    if isinstance(v, ScriptBlock):
        return "System.Management.Automation.ScriptBlock"
    if isinstance(v, SecureString):
        return "System.Security.SecureString"
    if isinstance(v, PSCredential):
        return "System.Management.Automation.PSCredential"
    if isinstance(v, TypeRef):
        return "System.RuntimeType"
    if isinstance(v, PSDateTime):
        return "System.DateTime"
    if isinstance(v, PathInfo):
        return "System.Management.Automation.PathInfo"
    if isinstance(v, PSRef):
        return "System.Management.Automation.PSReference"
    name = getattr(v, "TYPE", None)
    if name:
        return name
    return type(v).__name__


def fmt_double(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "Infinity" if v > 0 else "-Infinity"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    text = f"{v:.15g}"
    if "e" in text:
        mant, _e, exp = text.partition("e")
        text = f"{mant}E{'+' if not exp.startswith('-') else '-'}{exp.lstrip('+-').zfill(2)}"
    return text


def to_str(v, ofs: str = " ") -> str:
    """PowerShell's conversion to [string] (as in "$v" and [string]$v)."""
    if v is None or v is VOID:
        return ""
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return fmt_double(v)
    if isinstance(v, str):
        return v
    if is_enumerable(v):
        return ofs.join(to_str(x, ofs) for x in v)
    if isinstance(v, PSObject):
        if v.type_names[0] != "System.Management.Automation.PSCustomObject":
            return v.type_names[0]
        return "@{" + "; ".join(f"{k}={to_str(x)}" for k, x in v.props.items()) + "}"
    if isinstance(v, PSDict):
        return v.type_name()
    if isinstance(v, ErrorRecord):
        return v.message()
    if isinstance(v, PSExceptionObject):
        return f"{v.type_name}: {v.message}"
    if isinstance(v, ScriptBlock):
        return v.text
    if isinstance(v, TypeRef):
        return v.fullname
    if isinstance(v, PSDateTime):
        # guess: en-US is the culture of the simulated hosts' PowerShell
        return f"{v.value.month}/{v.value.day}/{v.value.year} {v.value.strftime('%I:%M:%S %p').lstrip('0')}"
    if isinstance(v, PathInfo):
        return v.path
    if isinstance(v, SecureString):
        return "System.Security.SecureString"
    if isinstance(v, PSCredential):
        return "System.Management.Automation.PSCredential"
    method = getattr(v, "to_string", None)
    if method:
        return method()
    return type_name(v)


def to_bool(v) -> bool:
    if v is None or v is VOID:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, str):
        return v != ""
    if isinstance(v, (list, tuple, bytes, bytearray)):
        if len(v) == 0:
            return False
        return to_bool(v[0]) if len(v) == 1 else True
    return True


_NUM = re.compile(r"^\s*([+-]?)(0x[0-9a-f]+|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*$", re.IGNORECASE)


def parse_number(text: str):
    """A number in a string, as PowerShell converts it ('0x10', ' 1.5 ', '1e3'); None if it is not one."""
    m = _NUM.match(text)
    if not m:
        return None
    sign = -1 if m.group(1) == "-" else 1
    body = m.group(2).lower()
    if body.startswith("0x"):
        return sign * int(body, 16)
    if re.match(r"^\d+$", body):
        return sign * int(body)
    return sign * float(body)


def cast_error(value, target: str, reason: str | None = None) -> PSError:
    if reason:
        message = f'Cannot convert value "{to_str(value)}" to type "{target}". Error: "{reason}"'
        fqid = "InvalidCastFromStringToInteger" if isinstance(value, str) else "InvalidCastParseTargetInvocation"
    else:
        message = f'Cannot convert the "{to_str(value)}" value of type "{type_name(value)}" to type "{target}".'
        fqid = "ConvertToFinalInvalidCastException"
    return PSError(new_error("System.Management.Automation.PSInvalidCastException", message, fqid, "InvalidArgument"))


def to_number(v, target: str = "System.Int32"):
    """The numeric value PowerShell arithmetic converts an operand to."""
    if v is None:
        return 0
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        if v.strip() == "":
            return 0
        n = parse_number(v)
        if n is None:
            raise cast_error(v, target, "Input string was not in a correct format.")
        return n
    if isinstance(v, (list, tuple)) and len(v) == 1:
        return to_number(v[0], target)
    raise cast_error(v, target)


def bankers(v: float) -> int:
    return int(round(v))   # Python rounds half to even, as .NET's Convert.ToInt32 does


def to_int(v, bits: int = 32) -> int:
    target = "System.Int32" if bits == 32 else "System.Int64"
    n = to_number(v, target)
    if isinstance(n, float):
        n = bankers(n)
    if not -(2 ** (bits - 1)) <= n < 2 ** (bits - 1):
        raise cast_error(v, target, "Value was either too large or too small for an Int32." if bits == 32 else
                         "Value was either too large or too small for an Int64.")
    return n


def ci_equal(a: str, b: str) -> bool:
    return a.lower() == b.lower()


# the parser ---------------------------------------------------------------------------------------

class Node:
    """An AST node: ``kind`` names it, ``line`` is where it starts."""

    def __init__(self, kind: str, line: int, **fields):
        self.kind, self.line = kind, line
        self.__dict__.update(fields)

    def __repr__(self) -> str:
        return f"Node({self.kind}, line {self.line})"


KEYWORDS = {"if", "elseif", "else", "foreach", "for", "while", "do", "until", "try", "catch", "finally", "throw",
            "return", "exit", "break", "continue", "function", "filter", "workflow", "switch", "trap", "param",
            "begin", "process", "end", "dynamicparam", "class", "enum", "using", "data", "configuration",
            "inlinescript", "parallel", "sequence"}
UNSUPPORTED_KEYWORDS = {"function", "filter", "workflow", "switch", "trap", "class", "enum", "using", "data",
                        "configuration", "inlinescript", "parallel", "sequence", "begin", "process", "end",
                        "dynamicparam"}
COMPARISON = {"eq", "ne", "gt", "ge", "lt", "le", "like", "notlike", "match", "notmatch", "contains",
              "notcontains", "in", "notin", "replace", "split", "join", "is", "isnot", "as"}
CMP_OPS = COMPARISON | {"i" + o for o in COMPARISON - {"is", "isnot", "as", "join"}} | \
    {"c" + o for o in COMPARISON - {"is", "isnot", "as", "join"}}
BIT_OPS = {"band", "bor", "bxor", "shl", "shr"}
KNOWN_ATTRIBUTES = {"parameter", "cmdletbinding", "alias", "allownull", "allowemptystring", "allowemptycollection",
                    "validateset", "validatenotnull", "validatenotnullorempty", "outputtype"}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"(0x[0-9A-Fa-f]+|(?:\d+\.\d+|\d+\.(?!\.)|\.\d+|\d+)(?:[eE][+-]?\d+)?)([lLdD]?)"
                     r"((?i:kb|mb|gb|tb|pb)?)(?!\w)(?!\.[^.])")
_MULT = {"": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4, "pb": 1024**5}
_SCOPES = {"global", "script", "local", "private", "env", "variable", "using"}
_ARG_STOP = set(" \t\r\n;|)},&<>{(\"'$")


@functools.cache
def _cs(chars: str) -> frozenset:
    """A set of characters: ``"" in _cs("ab")`` is False (at the end of the text), unlike ``"" in "ab"``."""
    return frozenset(chars)


class Parser:
    def __init__(self, text: str, source: str = ""):
        self.t = text.lstrip("\ufeff")
        self.n = len(self.t)
        self.i = 0
        self.source = source
        self.no_comma = False
        self._nl = [k for k, c in enumerate(self.t) if c == "\n"]

    # positions and errors -------------------------------------------------------------------------

    def line(self, pos: int | None = None) -> int:
        return bisect.bisect_left(self._nl, self.i if pos is None else pos) + 1

    def error(self, message: str, pos: int | None = None) -> PSParseError:
        return PSParseError(message, self.line(pos), self.source)

    def refuse(self, what: str, pos: int | None = None) -> Unsupported:
        return Unsupported(what, self.line(pos))

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.t[j] if j < self.n else ""

    def at(self, s: str) -> bool:
        return self.t.startswith(s, self.i)

    def eof(self) -> bool:
        return self.i >= self.n

    def skip(self, nl: bool = False) -> None:
        """Whitespace, comments, line continuations (and newlines when ``nl``)."""
        t = self.t
        while self.i < self.n:
            c = t[self.i]
            if c in _cs(" \t\f\v\u00a0"):
                self.i += 1
            elif c == "`" and t[self.i + 1:self.i + 2] in ("\n", "\r"):
                self.i += 2 if t[self.i + 1:self.i + 3] != "\r\n" else 3
            elif c == "#":
                end = t.find("\n", self.i)
                comment = t[self.i:end if end >= 0 else self.n]
                if re.match(r"(?i)^#requires\s", comment):
                    raise self.refuse(f"{comment.strip()} (#Requires is not emulated)")
                self.i = self.n if end < 0 else end
            elif t.startswith("<#", self.i):
                end = t.find("#>", self.i + 2)
                if end < 0:
                    raise self.error("The string is missing the terminator: #>.")
                self.i = end + 2
            elif nl and c in _cs("\r\n"):
                self.i += 1
            else:
                break

    def word(self) -> str | None:
        m = _WORD.match(self.t, self.i)
        return m.group(0) if m else None

    def keyword(self) -> str | None:
        w = self.word()
        if w and w.lower() in KEYWORDS:
            return w.lower()
        return None

    def take_keyword(self, kw: str) -> bool:
        w = self.word()
        if w and w.lower() == kw:
            self.i += len(w)
            return True
        return False

    def expect(self, ch: str, what: str | None = None) -> None:
        if not self.at(ch):
            found = self.t[self.i:self.i + 12].split("\n")[0] or "end of input"
            raise self.error(what or f"Missing '{ch}' (found '{found}').")
        self.i += len(ch)

    # script blocks ----------------------------------------------------------------------------------

    def parse_script(self) -> Node:
        body = self.parse_scriptblock_body(None)
        return body

    def parse_scriptblock_body(self, closing: str | None) -> Node:
        start_line = self.line()
        self.skip(nl=True)
        attrs, param = [], None
        save = self.i
        while self.peek() == "[":
            attr = self._try_attribute()
            if attr is None:
                break
            attrs.append(attr)
            self.skip(nl=True)
        if self.keyword() == "param":
            self.i += len("param")
            self.skip(nl=True)
            param = self.parse_param_block(attrs)
        else:
            self.i = save
        kw = None
        self.skip(nl=True)
        kw = self.keyword()
        if kw in ("begin", "process", "end", "dynamicparam"):
            raise self.refuse(f"a '{kw}' block (begin/process/end blocks are not emulated)")
        body = self.parse_statements(closing)
        return Node("script", start_line, param=param, body=body)

    def _try_attribute(self) -> Node | None:
        """An attribute like [CmdletBinding(...)] before param(); None (position kept) if it is not one."""
        save = self.i
        self.i += 1
        m = re.compile(r"\s*([A-Za-z_][\w.]*)\s*").match(self.t, self.i)
        if not m:
            self.i = save
            return None
        name = m.group(1)
        self.i = m.end()
        args = None
        if self.peek() == "(":
            args = self.parse_attribute_args()
            self.skip()
        if self.peek() != "]":
            self.i = save
            return None
        self.i += 1
        node = Node("attr", self.line(save), name=name, args=args)
        # Only a real attribute (with arguments, or followed by param) counts at script level.
        probe = self.i
        self.skip(nl=True)
        follows = self.keyword() == "param" or self.peek() == "["
        self.i = probe
        if not follows:
            self.i = save
            return None
        return node

    def parse_attribute_args(self) -> list:
        """(name, expr or None, omitted) pairs; positional arguments have name None."""
        self.expect("(")
        args = []
        while True:
            self.skip(nl=True)
            if self.peek() == ")":
                self.i += 1
                return args
            m = re.compile(r"([A-Za-z_]\w*)\s*(=)?").match(self.t, self.i)
            nxt = self.t[m.end():m.end() + 1] if m else ""
            if m and m.group(2) and not self.t.startswith("==", m.start(2)):
                self.i = m.end()
                self.skip(nl=True)
                args.append((m.group(1), self.parse_unary_no_comma(), False))
            elif m and (nxt in (",", ")") or self.t[m.end():].lstrip(" \t\r\n")[:1] in (",", ")")):
                self.i = m.end()
                args.append((m.group(1), None, True))
            else:
                args.append((None, self.parse_unary_no_comma(), False))
            self.skip(nl=True)
            if self.peek() == ",":
                self.i += 1

    def parse_type_name(self) -> str:
        """After '[': the type name up to its matching ']' (List[object], string[] ...)."""
        depth, start = 0, self.i
        while self.i < self.n:
            c = self.t[self.i]
            if c == "[":
                depth += 1
            elif c == "]":
                if depth == 0:
                    name = self.t[start:self.i].strip()
                    self.i += 1
                    return name
                depth -= 1
            elif c in _cs("\r\n"):
                break
            self.i += 1
        raise self.error("Missing ] at end of type token.", start)

    def parse_param_block(self, attrs: list) -> Node:
        line = self.line()
        self.expect("(", "Missing '(' after 'param'.")
        params = []
        while True:
            self.skip(nl=True)
            if self.peek() == ")":
                self.i += 1
                break
            p_attrs, types = [], []
            while self.peek() == "[":
                self.i += 1
                pos = self.i
                m = re.compile(r"\s*([A-Za-z_][\w.]*)\s*\(").match(self.t, self.i)
                if m:
                    name = m.group(1)
                    self.i = m.end() - 1
                    args = self.parse_attribute_args()
                    self.skip()
                    self.expect("]")
                    if name.lower() not in KNOWN_ATTRIBUTES:
                        raise self.refuse(f"the parameter attribute [{name}(...)] is not emulated", pos)
                    p_attrs.append(Node("attr", self.line(pos), name=name, args=args))
                else:
                    tname = self.parse_type_name()
                    if tname.lower() in KNOWN_ATTRIBUTES:
                        p_attrs.append(Node("attr", self.line(pos), name=tname, args=[]))
                    else:
                        types.append(tname)
                self.skip(nl=True)
            if self.peek() != "$":
                raise self.error("Missing variable name in the parameter list.")
            var = self.parse_variable()
            self.skip(nl=True)
            default = None
            if self.peek() == "=":
                self.i += 1
                self.skip(nl=True)
                default = self.parse_unary_no_comma()
                self.skip(nl=True)
            params.append(Node("param", var.line, name=var.name, attrs=p_attrs, types=types, default=default))
            if self.peek() == ",":
                self.i += 1
            elif self.peek() != ")":
                raise self.error("Missing ')' in function parameter list.")
        return Node("paramblock", line, attrs=attrs, params=params)

    # statements -------------------------------------------------------------------------------------

    def parse_statements(self, closing: str | None) -> list:
        stmts = []
        while True:
            self.skip(nl=True)
            while self.peek() == ";":
                self.i += 1
                self.skip(nl=True)
            if self.eof():
                if closing:
                    raise self.error(f"Missing closing '{closing}' in statement block or type definition.")
                return stmts
            if closing and self.peek() == closing:
                return stmts
            if not closing and self.peek() in _cs(")}"):
                raise self.error(f"Unexpected token '{self.peek()}' in expression or statement.")
            stmts.append(self.parse_statement())
            self.skip()
            c = self.peek()
            if c and c not in _cs("\r\n;") and c != closing:
                raise self.error(f"Unexpected token '{self.t[self.i:].split()[0][:40]}' in expression or "
                                 "statement.")

    def parse_block(self) -> list:
        self.skip(nl=True)
        if self.peek() != "{":
            raise self.error("Missing statement block.")
        self.i += 1
        body = self.parse_statements("}")
        self.i += 1
        return body

    def parse_condition(self, keyword: str) -> Node:
        self.skip(nl=True)
        if self.peek() != "(":
            raise self.error(f"Missing '(' after '{keyword}' in {keyword} statement.")
        self.i += 1
        self.skip(nl=True)
        cond = self.parse_statement()
        self.skip(nl=True)
        self.expect(")", f"Missing closing ')' after expression in '{keyword}' statement.")
        return cond

    def parse_statement(self) -> Node:
        line, start = self.line(), self.i
        kw = self.keyword()
        if kw:
            after = self.t[self.i + len(kw):self.i + len(kw) + 1]
            if after in ("-",) and kw not in ("exit", "return", "throw"):
                kw = None   # ForEach-Object, Where-..., a command
        if kw in UNSUPPORTED_KEYWORDS:
            raise self.refuse(f"'{self.t[start:].splitlines()[0].strip()}' (the '{kw}' statement is not emulated)")
        if kw == "if":
            self.i += 2
            clauses = [(self.parse_condition("if"), self.parse_block())]
            else_block = None
            while True:
                save = self.i
                self.skip(nl=True)
                nxt = self.keyword()
                if nxt == "elseif":
                    self.i += 6
                    clauses.append((self.parse_condition("elseif"), self.parse_block()))
                elif nxt == "else":
                    self.i += 4
                    else_block = self.parse_block()
                    break
                else:
                    self.i = save
                    break
            return Node("if", line, clauses=clauses, else_block=else_block)
        if kw == "foreach":
            self.i += 7
            self.skip(nl=True)
            self.expect("(", "Missing opening '(' after keyword 'foreach'.")
            self.skip(nl=True)
            var = self.parse_variable()
            self.skip(nl=True)
            if not self.take_keyword("in"):
                raise self.error("Missing 'in' after variable in foreach loop.")
            self.skip(nl=True)
            iterable = self.parse_statement()
            self.skip(nl=True)
            self.expect(")", "Missing closing ')' in foreach statement.")
            return Node("foreach", line, var=var, iterable=iterable, body=self.parse_block())
        if kw == "for":
            self.i += 3
            self.skip(nl=True)
            self.expect("(")
            parts = []
            for sep in (";", ";", ")"):
                self.skip(nl=True)
                parts.append(None if self.peek() == sep else self.parse_statement())
                self.skip(nl=True)
                self.expect(sep)
            return Node("for", line, init=parts[0], cond=parts[1], step=parts[2], body=self.parse_block())
        if kw == "while":
            self.i += 5
            cond = self.parse_condition("while")
            return Node("while", line, cond=cond, body=self.parse_block(), do=False, until=False)
        if kw == "do":
            self.i += 2
            body = self.parse_block()
            self.skip(nl=True)
            which = self.keyword()
            if which not in ("while", "until"):
                raise self.error("Missing while or until keyword in do loop.")
            self.i += len(which)
            cond = self.parse_condition(which)
            return Node("while", line, cond=cond, body=body, do=True, until=which == "until")
        if kw == "try":
            self.i += 3
            body = self.parse_block()
            catches, final = [], None
            while True:
                save = self.i
                self.skip(nl=True)
                nxt = self.keyword()
                if nxt == "catch":
                    self.i += 5
                    types = []
                    while True:
                        self.skip(nl=True)
                        if self.peek() != "[":
                            break
                        self.i += 1
                        types.append(self.parse_type_name())
                        self.skip(nl=True)
                        if self.peek() == ",":
                            self.i += 1
                    catches.append((types, self.parse_block()))
                elif nxt == "finally":
                    self.i += 7
                    final = self.parse_block()
                    break
                else:
                    self.i = save
                    break
            if not catches and final is None:
                raise self.error("The Try statement is missing its Catch or Finally block.")
            return Node("try", line, body=body, catches=catches, final=final)
        if kw in ("throw", "return", "exit"):
            self.i += len(kw)
            self.skip()
            value = None
            if self.peek() and self.peek() not in _cs("\r\n;)}"):
                value = self.parse_statement() if kw != "exit" else self.parse_expression()
            return Node(kw, line, value=value, text=self._text(start))
        if kw in ("break", "continue"):
            self.i += len(kw)
            self.skip()
            if self.peek() and self.peek() not in _cs("\r\n;)}"):
                raise self.refuse(f"{kw} with a label")
            return Node(kw, line)
        if kw in ("param", "elseif", "else", "catch", "finally", "until", "in"):
            raise self.error(f"Unexpected token '{kw}' in expression or statement.")
        return self.parse_pipeline(line, start)

    def parse_pipeline(self, line: int, start: int) -> Node:
        first = self.parse_element(first=True)
        self.skip()
        # `$n++` / `$n --` as a statement (PowerShell allows the blank): an assignment that writes nothing.
        inc = re.compile(r"(\+\+|--)(?=[ \t]*(?:[\r\n;}]|$))").match(self.t, self.i)
        if first.kind == "expr_el" and inc and not first.redirs and first.expr.kind in ("var", "member", "index"):
            self.i = inc.end()
            return Node("assign", line, target=first.expr, op=inc.group(1), value=None, text=self._text(start))
        m = re.compile(r"(=|\+=|-=|\*=|/=|%=)(?!=)").match(self.t, self.i)
        if first.kind == "expr_el" and m and not first.redirs:
            target = first.expr
            # A method call is a valid target to PowerShell's parser (a COM parameterized property:
            # `$tsenv.Value('X') = 'Y'`); assign() refuses it by name when it runs.
            if target.kind not in ("var", "member", "index", "cast", "invoke"):
                raise self.error("The assignment expression is not valid. The input to an assignment operator must "
                                 "be an object that is able to accept assignments, such as a variable or a "
                                 "property.")
            self.i = m.end()
            self.skip(nl=True)
            value = self.parse_statement()
            return Node("assign", line, target=target, op=m.group(1), value=value, text=self._text(start))
        elements = [first]
        while self.peek() == "|" and self.peek(1) != "|":
            self.i += 1
            self.skip(nl=True)
            elements.append(self.parse_element(first=False))
            self.skip()
        if self.at("||") or self.at("&&"):
            raise self.error(f"The token '{self.t[self.i:self.i + 2]}' is not a valid statement separator in this "
                             "version.")
        return Node("pipeline", line, elements=elements, text=self._text(start))

    def _text(self, start: int) -> str:
        return self.t[start:self.i].strip().split("\n")[0].rstrip("\r")

    def parse_element(self, first: bool) -> Node:
        line, start = self.line(), self.i
        c = self.peek()
        call = None
        if c == "&":
            call = "&"
        elif c == "." and self.peek(1) in _cs(" \t'\"$({"):
            call = "."
        if call:
            self.i += 1
            self.skip()
            name = self.parse_command_name_expr()
            return self.parse_command_args(Node("command", line, call=call, name=name, args=[], redirs=[],
                                                text=""), start)
        expression_start = c in _cs("$'\"(@[{!,+") or c.isdigit() or (c == "-" and not self.at("--%")) or \
            (c == "." and self.peek(1).isdigit()) or c in _cs("\u2018\u2019\u201c\u201d")
        if expression_start:
            if not first:
                raise self.error("Expressions are only allowed as the first element of a pipeline.")
            expr = self.parse_expression()
            node = Node("expr_el", line, expr=expr, redirs=[])
            self.parse_redirections(node)
            return node
        name = self.read_bareword()
        if not name:
            raise self.error(f"Unexpected token '{c}' in expression or statement." if c else
                             "An empty pipe element is not allowed.")
        cmd = Node("command", line, call=None, name=Node("const", line, value=name), args=[], redirs=[], text="")
        return self.parse_command_args(cmd, start)

    def parse_command_name_expr(self) -> Node:
        c = self.peek()
        if c in _cs("$'\"({@"):
            return self.parse_postfix(self.parse_primary())
        name = self.read_bareword()
        if not name:
            raise self.error("Missing expression after '&' in pipeline element.")
        return Node("const", self.line(), value=name)

    def read_bareword(self) -> str:
        start = self.i
        while self.i < self.n and self.t[self.i] not in _cs(" \t\r\n;|)}(,&{'\"<>") and not (
                self.t[self.i] == "=" and self.i == start):
            self.i += 1
        return self.t[start:self.i]

    def parse_redirections(self, node: Node) -> None:
        while True:
            self.skip()
            m = re.compile(r"([1-6*]?)(>>?)(&[12])?").match(self.t, self.i)
            if not m:
                return
            stream = m.group(1) or "1"
            self.i = m.end()
            if m.group(3):
                node.redirs.append((stream, "merge", m.group(3)[1]))
                continue
            self.skip()
            target = self.parse_arg_value()
            node.redirs.append((stream, "append" if m.group(2) == ">>" else "file", target))

    def parse_command_args(self, cmd: Node, start: int) -> Node:
        while True:
            self.skip()
            c = self.peek()
            if not c or c in _cs("\r\n;|)}") or self.at("&&"):
                break
            if re.match(r"[1-6*]?>", self.t[self.i:self.i + 2]):
                self.parse_redirections(cmd)
                continue
            if c == "<":
                raise self.error("The '<' operator is reserved for future use.")
            if self.at("--%"):
                raise self.refuse("--% (the stop-parsing token is not emulated)")
            m = re.compile(r"-([A-Za-z_?][\w-]*)(:)?").match(self.t, self.i)
            if c == "-" and m:
                self.i = m.end()
                if m.group(2):
                    cmd.args.append(Node("param", self.line(), name=m.group(1), value=self.parse_arg_value(),
                                         colon=True))
                else:
                    cmd.args.append(Node("param", self.line(), name=m.group(1), value=None, colon=False))
                continue
            m = re.compile(r"@([A-Za-z_]\w*)").match(self.t, self.i)
            if m:
                self.i = m.end()
                cmd.args.append(Node("splat", self.line(), name=m.group(1)))
                continue
            cmd.args.append(Node("value", self.line(), value=self.parse_arg_value()))
        cmd.text = self.t[start:self.i].strip().split("\n")[0].rstrip("\r")
        return cmd

    def parse_arg_value(self) -> Node:
        line = self.line()
        items = [self.parse_arg_single()]
        while True:
            save = self.i
            self.skip()
            if self.peek() == ",":
                self.i += 1
                self.skip(nl=True)
                items.append(self.parse_arg_single())
            else:
                self.i = save
                break
        return items[0] if len(items) == 1 else Node("array", line, items=items)

    def parse_arg_single(self) -> Node:
        """One command argument: an expression, a bare word, or both run together."""
        line, pieces = self.line(), []
        while self.i < self.n:
            c = self.t[self.i]
            if c in _cs(" \t\r\n;|)},&<>") or (c == "`" and self.peek(1) in _cs("\r\n")):
                break
            if c in _cs("$'\"({") or (c == "@" and self.peek(1) in _cs("({'\"")):
                pieces.append(self.parse_postfix(self.parse_primary(), arg_mode=True))
                continue
            start = self.i
            while self.i < self.n and self.t[self.i] not in _ARG_STOP:
                if self.t[self.i] == "`" and self.i + 1 < self.n:
                    self.i += 2
                    continue
                self.i += 1
            if self.i == start:
                raise self.error(f"Unexpected token '{c}' in expression or statement.")
            word = re.sub(r"`(.)", r"\1", self.t[start:self.i])
            pieces.append(Node("bare", line, value=word))
        if not pieces:
            raise self.error("Missing argument.")
        if len(pieces) == 1:
            p = pieces[0]
            if p.kind == "bare":
                return Node("const", line, value=_bare_value(p.value))
            return p
        return Node("concat", line, parts=pieces)

    # expressions ------------------------------------------------------------------------------------

    def parse_expression(self) -> Node:
        return self.parse_logical()

    def _op(self, names) -> str | None:
        save = self.i
        self.skip()
        m = re.compile(r"-([A-Za-z]+)(?![\w-])").match(self.t, self.i)
        if m and m.group(1).lower() in names:
            self.i = m.end()
            self.skip(nl=True)
            return m.group(1).lower()
        self.i = save
        return None

    def parse_logical(self) -> Node:
        left = self.parse_comparison()
        while True:
            line = self.line()
            op = self._op({"and", "or", "xor"})
            if not op:
                return left
            left = Node("logical", line, op=op, left=left, right=self.parse_comparison())

    def parse_comparison(self) -> Node:
        left = self.parse_additive()
        while True:
            line = self.line()
            save = self.i
            self.skip()
            m = re.compile(r"-([A-Za-z]+)(?![\w-])").match(self.t, self.i)
            if m and m.group(1).lower() not in CMP_OPS | BIT_OPS | {"and", "or", "xor", "f"}:
                raise self.refuse(f"the operator -{m.group(1)} is not emulated")
            self.i = save
            op = self._op(CMP_OPS | BIT_OPS)
            if not op:
                return left
            left = Node("binary", line, op=op, left=left, right=self.parse_additive())

    def parse_additive(self) -> Node:
        left = self.parse_multiplicative()
        while True:
            save, line = self.i, self.line()
            self.skip()
            c, d = self.peek(), self.peek(1)
            if (c == "+" and d not in _cs("=+")) or (c == "-" and d not in _cs("=-") and not d.isalpha()) or \
                    c in _cs("\u2013\u2014"):
                self.i += 1
                self.skip(nl=True)
                left = Node("binary", line, op="+" if c == "+" else "-", left=left,
                            right=self.parse_multiplicative())
            else:
                self.i = save
                return left

    def parse_multiplicative(self) -> Node:
        left = self.parse_format()
        while True:
            save, line = self.i, self.line()
            self.skip()
            c, d = self.peek(), self.peek(1)
            if c in _cs("*/%") and d != "=":
                self.i += 1
                self.skip(nl=True)
                left = Node("binary", line, op=c, left=left, right=self.parse_format())
            else:
                self.i = save
                return left

    def parse_format(self) -> Node:
        left = self.parse_range()
        while True:
            line = self.line()
            if not self._op({"f"}):
                return left
            left = Node("binary", line, op="f", left=left, right=self.parse_range())

    def parse_range(self) -> Node:
        left = self.parse_not()
        save, line = self.i, self.line()
        self.skip()
        if self.at(".."):
            self.i += 2
            self.skip(nl=True)
            return Node("range", line, left=left, right=self.parse_not())
        self.i = save
        return left

    def parse_not(self) -> Node:
        line = self.line()
        if self.peek() == "!" and self.peek(1) != "=":
            self.i += 1
            self.skip(nl=True)
            return Node("unary", line, op="not", operand=self.parse_not())
        m = re.compile(r"-(not|bnot)(?![\w-])", re.IGNORECASE).match(self.t, self.i)
        if m:
            self.i = m.end()
            self.skip(nl=True)
            return Node("unary", line, op=m.group(1).lower(), operand=self.parse_not())
        return self.parse_comma()

    def parse_comma(self) -> Node:
        line = self.line()
        first = self.parse_unary()
        if self.no_comma:
            return first
        items = [first]
        while True:
            save = self.i
            self.skip()
            if self.peek() == ",":
                self.i += 1
                self.skip(nl=True)
                items.append(self.parse_unary())
            else:
                self.i = save
                break
        return first if len(items) == 1 else Node("array", line, items=items)

    def parse_unary(self) -> Node:
        line = self.line()
        c = self.peek()
        if c == ",":
            self.i += 1
            self.skip(nl=True)
            return Node("array", line, items=[self.parse_unary()])
        m = re.compile(r"-(split|join|isplit|csplit)(?![\w-])", re.IGNORECASE).match(self.t, self.i)
        if m:
            self.i = m.end()
            self.skip(nl=True)
            return Node("unary", line, op=m.group(1).lower(), operand=self.parse_unary())
        if self.at("++") or self.at("--"):
            raise self.refuse(f"the {self.t[self.i:self.i + 2]} operator is not emulated")
        if c in _cs("-+\u2013") and not self.peek(1).isalpha():
            if self.peek(1).isdigit() or (self.peek(1) == "." and self.peek(2).isdigit()):
                if c != "+":
                    self.i += 1
                    num = self.parse_postfix(self.parse_primary())
                    return Node("unary", line, op="neg", operand=num)
            self.i += 1
            self.skip()
            operand = self.parse_unary()
            return operand if c == "+" else Node("unary", line, op="neg", operand=operand)
        if c == "-" and self.peek(1).isalpha():
            m = re.compile(r"-([A-Za-z]+)").match(self.t, self.i)
            raise self.error(f"You must provide a value expression following the '-{m.group(1)}' operator."
                             if m.group(1).lower() in CMP_OPS else f"Unexpected token '-{m.group(1)}' in expression "
                                                                   "or statement.")
        if c == "[":
            save = self.i
            self.i += 1
            tname = self.parse_type_name()
            after = self.peek()
            if after == "[" or self.at("::"):
                self.i = save
                return self.parse_postfix(self.parse_primary())
            probe = self.i
            self.skip()
            nxt = self.peek()
            if nxt and (nxt in _cs("$'\"(@[{") or nxt.isdigit() or (nxt == "-" and (self.peek(1).isdigit() or
                                                                                    self.peek(1) in _cs("$("))) or
                        (nxt == "." and self.peek(1).isdigit())):
                operand = self.parse_unary()
                if tname.lower() in ("ordered", "pscustomobject") and operand.kind != "hash":
                    if tname.lower() == "ordered":
                        raise self.error("The ordered attribute can be specified only on a hash literal node.")
                return Node("cast", line, type=tname, operand=operand)
            self.i = probe
            return self.parse_postfix(Node("typelit", line, name=tname))
        return self.parse_postfix(self.parse_primary())

    def parse_postfix(self, expr: Node, arg_mode: bool = False) -> Node:
        while self.i < self.n:
            c = self.peek()
            line = self.line()
            if c == "." and self.peek(1) != "." and not (arg_mode and self.peek(1) in _cs(" \t\r\n")):
                nxt = self.peek(1)
                if not (nxt.isalpha() or nxt in _cs("_$('\"")):
                    return expr
                self.i += 1
                name = self._member_name()
                if self.peek() == "(":
                    expr = Node("invoke", line, obj=expr, name=name, args=self.parse_call_args(), static=False)
                else:
                    expr = Node("member", line, obj=expr, name=name, static=False)
            elif self.at("::"):
                self.i += 2
                name = self._member_name()
                if self.peek() == "(":
                    expr = Node("invoke", line, obj=expr, name=name, args=self.parse_call_args(), static=True)
                else:
                    expr = Node("member", line, obj=expr, name=name, static=True)
            elif self.at("++") or (self.at("--") and not self.peek(2).isdigit()):
                raise self.refuse(f"the {self.t[self.i:self.i + 2]} operator is not emulated")
            elif c == "[" and expr.kind != "typelit":
                self.i += 1
                self.skip(nl=True)
                index = self.nested(self.parse_statement)
                self.skip(nl=True)
                self.expect("]", "Array index expression is missing or not valid.")
                expr = Node("index", line, obj=expr, index=index)
            else:
                return expr
        return expr

    def _member_name(self) -> Node:
        c = self.peek()
        line = self.line()
        if c == "$":
            return self.parse_variable()
        if c == "(":
            return self.parse_primary()
        if c in _cs("'\""):
            return self.parse_primary()
        m = _IDENT.match(self.t, self.i)
        if not m:
            raise self.error("Missing property name after reference operator.")
        self.i = m.end()
        return Node("const", line, value=m.group(0))

    def parse_call_args(self) -> list:
        self.expect("(")
        args = []
        self.skip(nl=True)
        if self.peek() == ")":
            self.i += 1
            return args
        while True:
            self.skip(nl=True)
            args.append(self.parse_unary_no_comma())
            self.skip(nl=True)
            if self.peek() == ",":
                self.i += 1
                continue
            self.expect(")", "Missing closing ')' in method call.")
            return args

    def parse_unary_no_comma(self) -> Node:
        """A method or attribute argument, a parameter default: an expression without the comma operator."""
        saved, self.no_comma = self.no_comma, True
        try:
            return self.parse_logical()
        finally:
            self.no_comma = saved

    def nested(self, fn, *args):
        """Inside (), $(), @(), @{}, {} and [] the comma operator is back."""
        saved, self.no_comma = self.no_comma, False
        try:
            return fn(*args)
        finally:
            self.no_comma = saved

    def parse_variable(self) -> Node:
        line = self.line()
        self.expect("$")
        if self.peek() == "{":
            end = self.t.find("}", self.i)
            if end < 0:
                raise self.error("Missing '}' in variable reference.")
            raw = self.t[self.i + 1:end]
            self.i = end + 1
        elif self.peek() in _cs("?$^_") and not _IDENT.match(self.t, self.i + 1) or self.peek() in _cs("?$^"):
            raw = self.peek()
            self.i += 1
        else:
            m = re.compile(r"([A-Za-z_0-9]+)(?::([A-Za-z_0-9]+))?").match(self.t, self.i)
            if not m:
                raise self.error("Variable reference is not valid. '$' was not followed by a valid variable name "
                                 "character.")
            raw = m.group(0)
            self.i = m.end()
        scope, _sep, name = raw.rpartition(":") if ":" in raw else ("", "", raw)
        if scope and scope.lower() not in _SCOPES:
            raise self.refuse(f"${raw} (the drive-qualified variable {scope}: is not emulated)")
        if scope.lower() in ("variable", "using"):
            raise self.refuse(f"${raw} (the {scope}: scope is not emulated)")
        return Node("var", line, name=name, scope=scope.lower())

    def parse_primary(self) -> Node:
        line = self.line()
        c = self.peek()
        if c == "$":
            if self.peek(1) == "(":
                self.i += 2
                body = self.nested(self.parse_statements, ")")
                self.i += 1
                return Node("subexpr", line, body=body)
            return self.parse_variable()
        if c == "@":
            d = self.peek(1)
            if d == "(":
                self.i += 2
                body = self.nested(self.parse_statements, ")")
                self.i += 1
                return Node("arrayexpr", line, body=body)
            if d == "{":
                self.i += 2
                return self.nested(self.parse_hash, line)
            if d in _cs("'\""):
                return self.parse_here_string()
            raise self.error("Unrecognized token in source text.")
        if c in _cs("'\u2018\u2019"):
            return self.parse_verbatim()
        if c in _cs("\"\u201c\u201d"):
            return self.parse_expandable()
        if c.isdigit() or (c == "." and self.peek(1).isdigit()):
            return self.parse_number()
        if c == "(":
            self.i += 1
            self.skip(nl=True)
            if self.peek() == ")":
                raise self.error("An expression was expected after '('.")
            inner = self.nested(self.parse_statement)
            self.skip(nl=True)
            self.expect(")", "Missing closing ')' in expression.")
            return Node("paren", line, stmt=inner)
        if c == "{":
            start = self.i
            self.i += 1
            body = self.nested(self.parse_scriptblock_body, "}")
            text = self.t[start + 1:self.i]
            self.i += 1
            return Node("sblock", line, script=body, text=text)
        if c == "[":
            self.i += 1
            return Node("typelit", line, name=self.parse_type_name())
        if not c:
            raise self.error("An expression was expected.")
        word = self.word()
        if word and word.lower() in KEYWORDS:
            raise self.refuse(f"the '{word}' statement inside an expression is not emulated")
        raise self.error(f"Unexpected token '{(word or c)}' in expression or statement.")

    def parse_number(self) -> Node:
        line = self.line()
        m = _NUMBER.match(self.t, self.i)
        if not m:
            raise self.error(f"The numeric constant {self.t[self.i:].split()[0]} is not valid.")
        self.i = m.end()
        body, suffix, mult = m.group(1), m.group(2).lower(), _MULT[m.group(3).lower()]
        if suffix == "d":
            raise self.refuse(f"the decimal literal {m.group(0)} is not emulated")
        value = int(body, 16) if body.lower().startswith("0x") else (
            float(body) if re.search(r"[.eE]", body) else int(body))
        value = value * mult
        if isinstance(value, float) and mult > 1 and value == int(value):
            value = int(value)
        return Node("const", line, value=value)

    def parse_verbatim(self) -> Node:
        line = self.line()
        self.i += 1
        buf = []
        while True:
            if self.i >= self.n:
                raise self.error("The string is missing the terminator: '.", self.i - 1)
            c = self.t[self.i]
            if c in _cs("'\u2018\u2019"):
                if self.peek(1) in ("'", "\u2018", "\u2019"):
                    buf.append("'")
                    self.i += 2
                    continue
                self.i += 1
                return Node("const", line, value="".join(buf))
            buf.append(c)
            self.i += 1

    _ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}

    def parse_expandable(self) -> Node:
        line = self.line()
        self.i += 1
        parts: list = []
        buf: list = []
        while True:
            if self.i >= self.n:
                raise self.error('The string is missing the terminator: ".', self.i - 1)
            c = self.t[self.i]
            if c in _cs("\"\u201c\u201d"):
                if self.peek(1) in ('"', "\u201c", "\u201d"):
                    buf.append('"')
                    self.i += 2
                    continue
                self.i += 1
                break
            if c == "`" and self.i + 1 < self.n:
                buf.append(self._ESCAPES.get(self.t[self.i + 1], self.t[self.i + 1]))
                self.i += 2
                continue
            if c == "$" and self._expand_part(parts, buf):
                continue
            buf.append(c)
            self.i += 1
        if buf:
            parts.append("".join(buf))
        if all(isinstance(p, str) for p in parts):
            return Node("const", line, value="".join(parts))
        return Node("expand", line, parts=parts)

    def _expand_part(self, parts: list, buf: list) -> bool:
        """At a '$' inside an expandable string: a variable or $(...); False if it is a plain '$'."""
        nxt = self.peek(1)
        if nxt == "(":
            if buf:
                parts.append("".join(buf))
                buf.clear()
            line = self.line()
            self.i += 2
            body = self.nested(self.parse_statements, ")")
            self.i += 1
            parts.append(Node("subexpr", line, body=body))
            return True
        if nxt == "{" or nxt == "_" or nxt.isalnum() or nxt in _cs("?$^"):
            if buf:
                parts.append("".join(buf))
                buf.clear()
            parts.append(self.parse_variable())
            return True
        return False

    def parse_here_string(self) -> Node:
        line = self.line()
        quote = self.peek(1)
        self.i += 2
        m = re.compile(r"[ \t]*\r?\n").match(self.t, self.i)
        if not m:
            raise self.error("No characters are allowed after a here-string header but before the end of the line.")
        self.i = m.end()
        closing = re.compile(r"^" + re.escape(quote) + "@", re.M).search(self.t, self.i)
        if not closing:
            raise self.error(f"The string is missing the terminator: {quote}@.")
        body_end = closing.start()
        # The newline before the terminator is not part of the string.
        if body_end > self.i and self.t[body_end - 1] == "\n":
            body_end -= 2 if self.t[body_end - 2:body_end] == "\r\n" else 1
        after = closing.end()
        if quote == "'":
            value = self.t[self.i:max(body_end, self.i)]
            self.i = after
            return Node("const", line, value=value)
        parts: list = []
        buf: list = []
        while self.i < body_end:
            c = self.t[self.i]
            if c == "`" and self.i + 1 < body_end:
                buf.append(self._ESCAPES.get(self.t[self.i + 1], self.t[self.i + 1]))
                self.i += 2
                continue
            if c == "$" and self._expand_part(parts, buf):
                continue
            buf.append(c)
            self.i += 1
        self.i = after
        if buf:
            parts.append("".join(buf))
        if all(isinstance(p, str) for p in parts):
            return Node("const", line, value="".join(parts))
        return Node("expand", line, parts=parts)

    def parse_hash(self, line: int) -> Node:
        pairs = []
        while True:
            self.skip(nl=True)
            while self.peek() == ";":
                self.i += 1
                self.skip(nl=True)
            if self.peek() == "}":
                self.i += 1
                return Node("hash", line, pairs=pairs)
            if self.eof():
                raise self.error("Missing closing '}' in statement block or type definition.")
            kline = self.line()
            m = re.compile(r"[A-Za-z_][\w-]*").match(self.t, self.i)
            if m and self.peek() != "$":
                self.i = m.end()
                key = Node("const", kline, value=m.group(0))
            else:
                key = self.parse_unary()
            self.skip()
            self.expect("=", "Missing '=' operator after key in hash literal.")
            self.skip(nl=True)
            value = self.parse_statement()
            pairs.append((key, value))
            self.skip()
            if self.peek() and self.peek() not in _cs(";\r\n}"):
                raise self.error("Missing statement after '=' in hash literal." if not self.peek() else
                                 f"Unexpected token '{self.t[self.i:].split()[0][:40]}' in hash literal.")


def _bare_value(word: str):
    """A bare command argument: a number if it reads as one (1, 0x10, 2MB, -1), else text."""
    m = re.fullmatch(r"(-?)(0x[0-9A-Fa-f]+|\d+\.\d+|\d+)((?i:kb|mb|gb|tb|pb)?)", word)
    if not m:
        return word
    body = m.group(2)
    value = int(body, 16) if body.lower().startswith("0x") else (float(body) if "." in body else int(body))
    value *= _MULT[m.group(3).lower()]
    return -value if m.group(1) else value


def parse(text: str, source: str = "") -> Node:
    return Parser(text, source).parse_script()


# the interpreter ----------------------------------------------------------------------------------

class Cancelled(Exception):
    """The process was killed (terminate signal, timeout, shutdown)."""


class Scope:
    def __init__(self, parent: Scope | None, kind: str):
        self.parent, self.kind = parent, kind
        self.vars: dict = {}


class Frame:
    """A running script file or script block (for $PSScriptRoot, error positions)."""

    def __init__(self, path: str | None, scope: Scope):
        self.path, self.scope = path, scope


_PREFERENCES = {"erroractionpreference": "Continue", "warningpreference": "Continue",
                "verbosepreference": "SilentlyContinue", "debugpreference": "SilentlyContinue",
                "informationpreference": "SilentlyContinue", "progresspreference": "Continue",
                "confirmpreference": "High", "whatifpreference": False}
_ACTIONS = {"stop": "Stop", "continue": "Continue", "silentlycontinue": "SilentlyContinue", "ignore": "Ignore",
            "inquire": "Inquire", "suspend": "Suspend"}
# Automatic variables the simulated host does not provide: reading one is refused, not $null.
_REFUSED_VARIABLES = {"myinvocation", "host", "executioncontext", "input", "this", "stacktrace", "sender", "event",
                      "eventargs", "eventsubscriber", "foreach", "switch", "psdebugcontext", "psculture",
                      "psuiculture", "pssenderinfo", "pssessionoption", "psdefaultparametervalues", "psitem_",
                      "nestedpromptlevel", "consolefilename", "profile", "pshome", "shellid", "psemailserver",
                      "pssessionapplicationname", "pssessionconfigurationname", "maximumhistorycount", "lastexitcode_"}
_COMMON = {"erroraction": "ErrorAction", "ea": "ErrorAction", "warningaction": "WarningAction",
           "wa": "WarningAction", "informationaction": "InformationAction", "infa": "InformationAction",
           "verbose": "Verbose", "vb": "Verbose", "debug": "Debug", "db": "Debug", "errorvariable": "ErrorVariable",
           "ev": "ErrorVariable", "warningvariable": "WarningVariable", "wv": "WarningVariable",
           "informationvariable": "InformationVariable", "iv": "InformationVariable", "outvariable": "OutVariable",
           "ov": "OutVariable", "outbuffer": "OutBuffer", "ob": "OutBuffer", "pipelinevariable": "PipelineVariable",
           "pv": "PipelineVariable"}
_SHOULD = {"whatif": "WhatIf", "wi": "WhatIf", "confirm": "Confirm", "cf": "Confirm"}


class Streams:
    """Where a run's output goes: powershell.exe's console (stdout/stderr text), or, hosted as
    win_powershell runs a script, its streams (output objects, error records, host text...)."""

    def __init__(self, hosted: bool):
        self.hosted = hosted
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.output: list = []
        self.errors: list = []
        self.warning: list[str] = []
        self.verbose: list[str] = []
        self.debug: list[str] = []
        self.information: list[dict] = []
        self.host_out: list[str] = []
        self.host_err: list[str] = []

    def out_text(self, text: str) -> None:
        (self.host_out if self.hosted else self.stdout).append(text)

    def err_text(self, text: str) -> None:
        (self.host_err if self.hosted else self.stderr).append(text)


class OutDefault:
    """The end of a top-level pipeline: powershell.exe formats objects to its console; a hosted
    runspace keeps them as output objects."""

    def __init__(self, interp: Interpreter):
        self.interp = interp

    def append(self, value) -> None:
        if value is VOID:
            return
        if self.interp.hosted:
            self.interp.streams.output.append(value)
        else:
            for line in format_lines(value):
                self.interp.streams.stdout.append(line + "\r\n")


class Interpreter:
    def __init__(self, ctx, source: str = "script", *, hosted: bool = False, policy: str | None = None):
        self.ctx, self.source, self.hosted, self.policy = ctx, source, hosted, policy
        self.machine = ctx.machine
        self.streams = Streams(hosted)
        self.global_scope = Scope(None, "global")
        self.scope = self.global_scope
        self.frames: list[Frame] = [Frame(None, self.global_scope)]
        self.location = ctx.cwd
        self.process_cwd = ctx.cwd   # .NET's current directory: PowerShell's Set-Location does not move it
        self.qmark = True
        self.fail_stack: list[bool] = []
        self.try_depth = 0
        self.catch_stack: list[ErrorRecord] = []
        self.redirects: list[dict] = []
        self.error_list: list = []
        self.stdin_read = False
        self.line = 0
        self.clixml_errors = False
        self.stmt_text = ""
        self.out = OutDefault(self)
        for name, value in _PREFERENCES.items():
            self.global_scope.vars[name] = value

    # entry points -------------------------------------------------------------------------------------

    def result(self, code: int) -> ExecResult:
        s = self.streams
        return ExecResult("".join(s.stdout).encode("utf-8"), "".join(s.stderr).encode("utf-8"), code)

    def run(self, text: str, args: list | None = None, raw: bool = False, native_rc: bool = False) -> ExecResult:
        """Script text as powershell.exe -Command/-EncodedCommand runs it (``raw``): exit N, else 1 if a
        terminating error ended it or its last statement failed ($? false), else 0; ``native_rc``
        (ansible-core's preserve-rc suffix): $LASTEXITCODE when the last statement failed."""
        try:
            code = self.run_top(text)
            if code is None:
                code = 0
                if raw and not self.qmark:
                    lec = self.global_scope.vars.get("lastexitcode")
                    code = int(lec) if native_rc and isinstance(lec, int) and not isinstance(lec, bool) else 1
        except Cancelled:
            code = 1
        return self.result(code)

    def run_top(self, text: str) -> int | None:
        """Run text at global scope; the exit code if it ended through exit or a terminating error."""
        try:
            try:
                ast = parse(text, self.source)
            except PSParseError as e:
                raise PSError(parse_error_record(e)) from None
            if ast.param is not None:
                self.bind_params(ast.param, [], self.global_scope, ast)
            self.run_block(ast.body, self.out)
            return None
        except ExitSignal as e:
            return e.code
        except (ReturnSignal, BreakSignal, ContinueSignal):
            return None
        except PSError as e:
            self.report_error(e.record, uncaught=True)
            return 1
        except Unsupported as e:
            self.streams.err_text(f"{e}\r\n")
            return 1

    def read_stdin(self) -> bytes:
        """The process's standard input (once: a stream read to its end stays there)."""
        if self.stdin_read:
            return b""
        self.stdin_read = True
        return self.ctx.stdin or b""

    # variables ----------------------------------------------------------------------------------------

    def script_scope(self) -> Scope:
        scope = self.scope
        while scope.kind not in ("script", "global"):
            scope = scope.parent
        return scope

    def lookup(self, name: str):
        low = name.lower()
        scope = self.scope
        while scope is not None:
            if low in scope.vars:
                return True, scope.vars[low]
            scope = scope.parent
        return False, None

    def get_var(self, name: str, scope: str = ""):
        low = name.lower()
        if scope == "env":
            return self.ctx.getenv(name)
        if low == "true":
            return True
        if low == "false":
            return False
        if low == "null":
            return None
        if low == "?":
            return self.qmark
        if scope == "global":
            return self.global_scope.vars.get(low)
        if scope == "script":
            return self.script_scope().vars.get(low)
        if scope in ("local", "private"):
            return self.scope.vars.get(low)
        if low == "psitem":
            low = "_"
        found, value = self.lookup(low)
        if found:
            return value
        if low == "pwd":
            return PathInfo(self.location)
        if low == "error":
            return self.error_list
        if low == "home":
            return self.ctx.getenv("USERPROFILE")
        if low == "psscriptroot":
            path = self.current_script()
            return ntpath.dirname(path) if path else ""
        if low == "pscommandpath":
            return self.current_script() or ""
        if low == "pid":
            return 4242   # guess: any process id will do
        if low == "psedition":
            return "Desktop"
        if low == "psversiontable":
            version = str(self.machine.state["os"].get("powershell_version", "5.1.22621.4391"))
            return PSDict({"PSVersion": Version(version), "PSEdition": "Desktop",
                           "CLRVersion": Version("4.0.30319.42000"), "BuildVersion": Version(version),
                           "PSRemotingProtocolVersion": Version("2.3"),
                           "WSManStackVersion": Version("3.0"), "SerializationVersion": Version("1.1.0.1"),
                           "PSCompatibleVersions": [Version(v) for v in ("1.0", "2.0", "3.0", "4.0", "5.0", "5.1")]})
        if low in _REFUSED_VARIABLES:
            raise Unsupported(f"${name} (the automatic variable is not emulated)", self.line)
        return None

    def set_var(self, name: str, value, scope: str = "") -> None:
        low = name.lower()
        if scope == "env":
            self.ctx.setenv(name, None if value is None or to_str(value) == "" else to_str(value))
            return
        if low in ("true", "false", "null", "?"):
            if low == "null":
                return   # $null = ... discards
            raise runtime_error(f"Cannot overwrite variable {name} because it is read-only or constant.",
                                "VariableNotWritable", "WriteError", name)
        if low == "erroractionpreference" and value is not None:
            value = self.action_value(value, "ErrorActionPreference")
        target = {"global": self.global_scope, "script": self.script_scope()}.get(scope, self.scope)
        target.vars["_" if low == "psitem" else low] = value

    def action_value(self, value, what: str) -> str:
        text = to_str(value)
        hit = _ACTIONS.get(text.lower())
        if hit is None:
            raise cast_error(text, "System.Management.Automation.ActionPreference",
                             f'Unable to match the identifier name {text} to a valid enumerator name. Specify one '
                             'of the following enumerator names and try again:\r\nSilentlyContinue, Stop, Continue, '
                             'Inquire, Ignore, Suspend')
        if hit in ("Inquire", "Suspend"):
            raise Unsupported(f"{what} {hit} (not emulated)", self.line)
        return hit

    def pref(self, name: str) -> str:
        return to_str(self.get_var(name) or _PREFERENCES[name.lower()])

    def current_script(self) -> str | None:
        for frame in reversed(self.frames):
            if frame.path:
                return frame.path
        return None

    # statements ---------------------------------------------------------------------------------------

    def run_block(self, stmts: list, sink) -> None:
        for st in stmts:
            self.exec_stmt(st, sink)

    def exec_stmt(self, st: Node, sink) -> None:
        if self.ctx.cancel.is_set():
            raise Cancelled()
        self.line = st.line
        if getattr(st, "text", None):
            self.stmt_text = st.text
        try:
            getattr(self, "s_" + st.kind)(st, sink)
        except PSError as e:
            self._locate(e.record, st)
            if e.terminating or self.try_depth or self.pref("ErrorActionPreference") == "Stop":
                e.terminating = True
                raise
            # A statement-terminating error: reported, and the script goes on.
            self.report_error(e.record)
            self.qmark = False
        except Unsupported as e:
            if e.line is None:
                e.line = st.line
            raise

    def _locate(self, record: ErrorRecord, st: Node) -> None:
        if record.line is None:
            record.line, record.script = st.line, self.current_script()
            record.line_text = getattr(st, "text", "") or record.line_text

    def stmt_value(self, st: Node):
        """The value of a statement used as an expression (assignment right side, condition, parens)."""
        if st.kind == "pipeline" and len(st.elements) == 1 and st.elements[0].kind == "expr_el" and \
                not st.elements[0].redirs:
            value = self.eval(st.elements[0].expr)
            self.qmark = True
            return value
        if st.kind == "assign":
            self.s_assign(st, None)
            return self.eval(st.target) if st.target.kind != "cast" else self.eval(st.target.operand)
        out: list = []
        getattr(self, "s_" + st.kind)(st, out)
        return collect(out)

    def s_pipeline(self, st: Node, sink) -> None:
        self.fail_stack.append(False)
        failed = True
        try:
            items = None
            for index, el in enumerate(st.elements):
                last = index == len(st.elements) - 1
                out = sink if last else []
                with self.redirected(el, out):
                    if el.kind == "expr_el":
                        value = self.eval(el.expr)
                        self.emit(value, out)
                    else:
                        self.invoke(el, items, out)
                items = out
            failed = self.fail_stack[-1]
        finally:
            self.fail_stack.pop()
        self.qmark = not failed

    def emit(self, value, sink) -> None:
        if value is VOID:
            return
        if is_enumerable(value):
            for item in value:
                sink.append(item)
        else:
            sink.append(value)

    def fail(self) -> None:
        if self.fail_stack:
            self.fail_stack[-1] = True

    def s_assign(self, st: Node, sink) -> None:
        if st.op in ("++", "--"):
            self.assign(st.target, binary_op(self, st.op[0], self.eval(st.target), 1))
            self.qmark = True
            return
        value = self.stmt_value(st.value)
        if st.op != "=":
            value = binary_op(self, st.op[0], self.eval(st.target), value)
        self.assign(st.target, value)
        self.qmark = True

    def assign(self, target: Node, value) -> None:
        if target.kind == "cast":
            value = convert(self, value, target.type)
            target = target.operand
        if target.kind == "var":
            self.set_var(target.name, value, target.scope)
        elif target.kind == "member":
            obj = self.eval(target.obj)
            name = self.member_name(target.name)
            if target.static:
                raise Unsupported(f"assigning the static member ::{name}", self.line)
            set_member(self, obj, name, value)
        elif target.kind == "index":
            obj = self.eval(target.obj)
            key = self.stmt_value(target.index)
            set_index(self, obj, key, value)
        elif target.kind == "invoke":
            raise Unsupported(f"assigning the parameterized property .{self.member_name(target.name)}(...)",
                              self.line)
        else:
            raise Unsupported(f"assignment to a {target.kind}", self.line)

    def s_expr_el(self, st: Node, sink) -> None:   # pragma: no cover - elements run inside s_pipeline
        self.emit(self.eval(st.expr), sink)

    def s_if(self, st: Node, sink) -> None:
        for cond, block in st.clauses:
            if to_bool(self.stmt_value(cond)):
                self.run_block(block, sink)
                return
        if st.else_block is not None:
            self.run_block(st.else_block, sink)

    def _loop_body(self, body: list, sink) -> bool:
        """Run a loop body; False when it ended with break."""
        try:
            self.run_block(body, sink)
        except BreakSignal:
            return False
        except ContinueSignal:
            pass
        return True

    def s_foreach(self, st: Node, sink) -> None:
        value = self.stmt_value(st.iterable)
        items = [] if value is None else (list(value) if is_enumerable(value) else [value])
        for item in items:
            self.set_var(st.var.name, item, st.var.scope)
            if not self._loop_body(st.body, sink):
                break

    def s_for(self, st: Node, sink) -> None:
        if st.init is not None:
            self.exec_stmt(st.init, [])
        while st.cond is None or to_bool(self.stmt_value(st.cond)):
            if not self._loop_body(st.body, sink):
                break
            if st.step is not None:
                self.exec_stmt(st.step, [])

    def s_while(self, st: Node, sink) -> None:
        first = True
        while True:
            if not (st.do and first):
                hit = to_bool(self.stmt_value(st.cond))
                if hit == st.until:
                    break
            first = False
            if not self._loop_body(st.body, sink):
                break

    def s_break(self, st: Node, sink) -> None:
        raise BreakSignal()

    def s_continue(self, st: Node, sink) -> None:
        raise ContinueSignal()

    def s_return(self, st: Node, sink) -> None:
        if st.value is not None:
            self.emit(self.stmt_value(st.value), sink)
        raise ReturnSignal()

    def s_exit(self, st: Node, sink) -> None:
        code = 0 if st.value is None else self.eval(st.value)
        raise ExitSignal(to_int(code) if code is not None else 0)

    def s_throw(self, st: Node, sink) -> None:
        if st.value is None:
            if self.catch_stack:
                raise PSError(self.catch_stack[-1], terminating=True)
            raise PSError(new_error("System.Management.Automation.RuntimeException", "ScriptHalted", "ScriptHalted",
                                    "OperationStopped"), terminating=True)
        value = self.stmt_value(st.value)
        if isinstance(value, ErrorRecord):
            record = value
        elif isinstance(value, PSExceptionObject):
            record = value.record or ErrorRecord(value, value.message, "OperationStopped", None)
        else:
            text = to_str(value)
            record = new_error("System.Management.Automation.RuntimeException", text, text, "OperationStopped",
                               value)
        raise PSError(record, terminating=True)

    def s_try(self, st: Node, sink) -> None:
        try:
            self.try_depth += 1
            try:
                self.run_block(st.body, sink)
            finally:
                self.try_depth -= 1
        except PSError as e:
            handler = self._catch_for(st, e.record)
            if handler is None:
                raise
            saved = self.scope.vars.get("_", _MISSING)
            self.scope.vars["_"] = e.record
            self.catch_stack.append(e.record)
            try:
                self.run_block(handler, sink)
            finally:
                self.catch_stack.pop()
                if saved is _MISSING:
                    self.scope.vars.pop("_", None)
                else:
                    self.scope.vars["_"] = saved
        finally:
            if st.final is not None:
                self.run_block(st.final, sink)

    def _catch_for(self, st: Node, record: ErrorRecord):
        chain = [t.lower() for t in record.exception.type_chain()]
        for types, block in st.catches:
            if not types:
                return block
            for tname in types:
                ref = resolve_type(self, tname)
                if ref.fullname.lower() in chain:
                    return block
        return None

    # redirection ----------------------------------------------------------------------------------------

    def redirected(self, el: Node, out):
        interp = self

        class _Redirect:
            def __enter__(self_inner):  # pylint: disable=no-self-argument
                self_inner.active = bool(el.redirs)
                if not el.redirs:
                    return
                spec: dict = {"out": out, "files": []}
                for stream, how, target in el.redirs:
                    if how == "merge":
                        if target != "1" or stream not in ("2", "3", "4", "5", "6", "*"):
                            raise Unsupported(f"the redirection {stream}>&{target}", interp.line)
                        spec[stream] = "merge"
                        continue
                    path = interp.eval(target)
                    if path is None:
                        spec[stream] = "null"
                    else:
                        if stream != "1":
                            raise Unsupported(f"the redirection {stream}> to a file", interp.line)
                        spec["file"] = (interp.fs_path(to_str(path)), how == "append")
                        spec["1"] = "file"
                interp.redirects.append(spec)
                self_inner.spec = spec
                if spec.get("1") in ("null", "file") or spec.get("*") == "null":
                    self_inner.buffer = []
                    return self_inner.buffer

            def __exit__(self_inner, *exc):  # pylint: disable=no-self-argument
                if not self_inner.active:
                    return False
                interp.redirects.pop()
                spec = self_inner.spec
                if spec.get("1") == "file" and exc[0] is None:
                    path, append = spec["file"]
                    text = "".join(line + "\r\n" for item in self_inner.buffer for line in format_lines(item))
                    out_file(interp, path, text, "unicode", append)
                return False

        return _Redirect()

    def stream_redirect(self, stream: str) -> str | None:
        for spec in reversed(self.redirects):
            how = spec.get(stream) or spec.get("*")
            if how:
                return how
        return None

    # errors -----------------------------------------------------------------------------------------------

    def report_error(self, record: ErrorRecord, uncaught: bool = False) -> None:
        """An error record reaches the error stream (or where a redirection sends it)."""
        if not uncaught:
            for spec in reversed(self.redirects):
                how = spec.get("2") or spec.get("*")
                if how == "null":
                    return
                if how == "merge":
                    spec["out"].append(record)
                    return
        if self.hosted:
            self.streams.errors.append(record)
        elif self.clixml_errors:
            # ConsoleHost.ErrorFormat: non-interactive, stderr redirected and the command given as
            # -EncodedCommand: the error stream is written as CLIXML (what Ansible's _parse_clixml reads).
            if not any(s.startswith("#< CLIXML") for s in self.streams.stderr):
                self.streams.stderr.append("#< CLIXML\r\n")
            nodes = "".join(f'<S S="Error">{_clixml_text(line)}_x000D__x000A_</S>'
                            for line in format_error(record).rstrip("\r\n ").split("\r\n"))
            self.streams.stderr.append(f'<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/'
                                       f'2004/04">{nodes}</Objs>')
        else:
            self.streams.stderr.append(format_error(record))

    def write_error(self, record: ErrorRecord, action: str | None = None) -> None:
        """A non-terminating error, under -ErrorAction or $ErrorActionPreference."""
        if record.line is None:
            record.line, record.script = self.line, self.current_script()
        self.fail()
        pref = action or self.pref("ErrorActionPreference")
        if pref == "Stop":
            raise PSError(record, terminating=True)
        if pref != "Ignore":
            self.error_list.insert(0, record)
        if pref == "Continue":
            self.report_error(record)

    def message_stream(self, kind: str, text: str, action: str | None = None) -> None:
        """Write-Warning/-Verbose/-Debug: shown (and recorded) when the preference says so."""
        pref = action or self.pref(f"{kind}Preference")
        if pref == "Stop":
            raise PSError(new_error("System.Management.Automation.ActionPreferenceStopException",
                                    f'The running command stopped because the preference variable "{kind}Preference"'
                                    f" or common parameter is set to Stop: {text}", "ActionPreferenceStop",
                                    "OperationStopped"), terminating=True)
        if pref not in ("Continue", "Inquire"):
            return
        if self.hosted:
            getattr(self.streams, kind.lower()).append(text)
        else:
            self.streams.stdout.append(f"{kind.upper()}: {text}\r\n")

    def host_write(self, text: str, newline: bool = True, source: str = "Write-Host") -> None:
        self.streams.out_text(text + ("\r\n" if newline else ""))
        if self.hosted and source == "Write-Host":
            self.streams.information.append({"message_data": text, "source": "Write-Host",
                                             "time_generated": datetime.datetime.now(datetime.UTC).strftime(
                                                 "%Y-%m-%dT%H:%M:%S.%f0Z"), "tags": ["PSHOST"]})

    # expressions ----------------------------------------------------------------------------------------

    def eval(self, node: Node):
        return getattr(self, "e_" + node.kind)(node)

    def e_const(self, node):
        return node.value

    def e_var(self, node):
        return self.get_var(node.name, node.scope)

    def e_expand(self, node):
        ofs = self.get_var("OFS")
        ofs = " " if ofs is None else to_str(ofs)
        return "".join(p if isinstance(p, str) else to_str(self.eval(p), ofs) for p in node.parts)

    def e_concat(self, node):
        return "".join(p.value if p.kind == "bare" else to_str(self.eval(p)) for p in node.parts)

    def e_paren(self, node):
        return self.stmt_value(node.stmt)

    def e_subexpr(self, node):
        out: list = []
        self.run_block(node.body, out)
        return collect(out)

    def e_arrayexpr(self, node):
        out: list = []
        self.run_block(node.body, out)
        return [x for x in out if x is not VOID]

    def e_hash(self, node):
        d = PSDict()
        for key_node, value_node in node.pairs:
            key = self.eval(key_node)
            if key in d:
                raise PSError(new_error("System.Management.Automation.ParseException",
                                        f"Duplicate keys '{to_str(key)}' are not allowed in hash literals.",
                                        "DuplicateKeyInHashLiteral", "ParserError"))
            d[key] = self.stmt_value(value_node)
        return d

    def e_sblock(self, node):
        return ScriptBlock(node.script, node.text, self.current_script() or self.source)

    def e_typelit(self, node):
        return resolve_type(self, node.name)

    def e_cast(self, node):
        tname = node.type.lower()
        if node.operand.kind == "hash" and tname in ("ordered", "pscustomobject", "psobject"):
            d = self.e_hash(node.operand)
            if tname == "ordered":
                d.ordered = True
                return d
            return PSObject(d.items())
        value = self.eval(node.operand)
        if tname == "void":
            return VOID
        return convert(self, value, node.type)

    def member_name(self, node: Node) -> str:
        return node.value if node.kind == "const" else to_str(self.eval(node))

    def e_member(self, node):
        obj = self.eval(node.obj)
        name = self.member_name(node.name)
        if node.static:
            if not isinstance(obj, TypeRef):
                raise Unsupported(f"::{name} on a {type_name(obj)}", self.line)
            return static_member(self, obj, name)
        return get_member(self, obj, name)

    def e_invoke(self, node):
        obj = self.eval(node.obj)
        name = self.member_name(node.name)
        args = [self.eval(a) for a in node.args]
        if node.static:
            if not isinstance(obj, TypeRef):
                raise Unsupported(f"::{name}() on a {type_name(obj)}", self.line)
            return call_static(self, obj, name, args)
        return call_method(self, obj, name, args)

    def e_index(self, node):
        obj = self.eval(node.obj)
        key = self.stmt_value(node.index)
        return get_index(self, obj, key)

    def e_unary(self, node):
        value = self.eval(node.operand)
        op = node.op
        if op == "not":
            return not to_bool(value)
        if op == "neg":
            n = to_number(value)
            return -n
        if op == "bnot":
            return ~to_int(value, 64 if isinstance(value, int) and not -2**31 <= value < 2**31 else 32)
        if op in ("split", "isplit", "csplit"):
            items = value if is_enumerable(value) else [value]
            return [w for item in items for w in to_str(item).split()]
        if op == "join":
            items = value if is_enumerable(value) else [value]
            return "".join(to_str(x) for x in items)
        raise Unsupported(f"the unary operator -{op}", self.line)   # pragma: no cover

    def e_binary(self, node):
        return binary_op(self, node.op, self.eval(node.left), self.eval(node.right))

    def e_logical(self, node):
        left = to_bool(self.eval(node.left))
        if node.op == "and":
            return left and to_bool(self.eval(node.right))
        if node.op == "or":
            return left or to_bool(self.eval(node.right))
        return left != to_bool(self.eval(node.right))

    def e_array(self, node):
        return [self.eval(item) for item in node.items]

    def e_range(self, node):
        a, b = to_int(self.eval(node.left)), to_int(self.eval(node.right))
        if abs(b - a) > 1_000_000:
            raise Unsupported(f"a range of {abs(b - a) + 1} numbers", self.line)
        return list(range(a, b + 1)) if a <= b else list(range(a, b - 1, -1))

    def e_bare(self, node):
        return node.value

    # commands -----------------------------------------------------------------------------------------

    def eval_args(self, nodes: list) -> list:
        """Command arguments, evaluated: ('name', name, value, has_value) or ('pos', value)."""
        args = []
        for a in nodes:
            if a.kind == "param":
                if a.colon:
                    args.append(("name", a.name, self.eval(a.value), True))
                else:
                    args.append(("name", a.name, None, False))
            elif a.kind == "splat":
                value = self.get_var(a.name)
                if isinstance(value, PSDict):
                    args += [("name", to_str(k), v, True) for k, v in value.items()]
                elif is_enumerable(value):
                    args += [("pos", v) for v in value]
                elif value is not None:
                    args.append(("pos", value))
            else:
                args.append(("pos", self.eval(a.value)))
        return args

    def invoke(self, el: Node, input_items, sink) -> None:
        if el.call:
            target = self.eval(el.name) if el.name.kind != "const" else el.name.value
        else:
            target = el.name.value
        args = self.eval_args(el.args)
        if isinstance(target, ScriptBlock):
            self.call_scriptblock(target, args, sink, dot=el.call == ".", input_items=input_items)
            return
        if isinstance(target, PathInfo):
            target = target.path
        if not isinstance(target, str):
            raise Unsupported(f"calling a {type_name(target)} with '&'", el.line)
        kind, what = self.resolve_command(target, el)
        if kind == "cmdlet":
            self.call_cmdlet(what, args, input_items, sink, el)
        elif kind == "script":
            if el.call == ".":
                raise Unsupported(f"dot-sourcing the script {target}", el.line)
            self.call_script(what, args, sink, input_items=input_items)
        else:
            self.call_native(what[0], what[1], target, args, input_items, sink)

    def resolve_command(self, name: str, el: Node):
        from tests.winsim import programs

        low = name.lower()
        alias = ALIASES.get(low)
        if alias:
            low = alias
        if low in CMDLETS:
            return "cmdlet", CMDLETS[low]
        if alias or re.fullmatch(r"[A-Za-z]+-[A-Za-z0-9]+", name):
            raise Unsupported(f"{self.stmt_text or el.text} (the command {name} is not emulated)", el.line)
        has_dir = "\\" in name or "/" in name or re.match(r"^[A-Za-z]:", name)
        ext = ntpath.splitext(name)[1].lower()
        if ext == ".ps1":
            if not has_dir:
                raise self.not_found(name)
            path = self.fs_path(name)
            if not self.machine.fs_isfile(path):
                raise self.not_found(name)
            return "script", path
        child = self.child_ctx()
        exts = tuple(e.lower() for e in (self.ctx.getenv("PATHEXT") or ".COM;.EXE;.BAT;.CMD").split(";") if e)
        try:
            if has_dir:
                child.cwd = self.location
                path, rec = programs.resolve(child, name, extensions=exts if not ext else None)
            else:
                # PowerShell looks on PATH only, never in the current location.
                folders = [d for d in (self.ctx.getenv("PATH") or "").split(";") if d.strip()]
                path, rec = programs.resolve(child, name, extensions=exts if not ext else None, folders=folders)
        except programs.ProgramNotFound:
            raise self.not_found(name) from None
        if path.lower().endswith(".ps1"):
            return "script", path
        return "native", (path, rec)

    def not_found(self, name: str) -> PSError:
        return PSError(new_error("System.Management.Automation.CommandNotFoundException", NOT_RECOGNIZED.format(name),
                                 "CommandNotFoundException", "ObjectNotFound", name, target_name=name,
                                 target_type="String", command=name))

    def child_ctx(self, **changes):
        ctx = self.ctx.child(**changes)
        ctx.cwd = self.location if not self.location.lower().startswith(("hklm:", "hkcu:")) else self.ctx.cwd
        if self.stdin_read:
            ctx.stdin = b""
        return ctx

    def fs_path(self, path: str) -> str:
        """A file system path as PowerShell resolves it (against its location, not the process's)."""
        path = re.sub(r"(?i)^microsoft\.powershell\.core\\filesystem::", "", path)
        ctx = self.ctx.child()
        ctx.cwd = self.location
        return ctx.abspath(path)

    def net_path(self, path: str) -> str:
        """A path as .NET resolves it (against the process's current directory)."""
        ctx = self.ctx.child()
        ctx.cwd = self.process_cwd
        return ctx.abspath(path)

    # scripts and script blocks --------------------------------------------------------------------------------

    def policy_check(self, path: str, text: str) -> None:
        effective = (self.policy or self.ctx.getenv("PSExecutionPolicyPreference") or
                     self.machine.state["os"].get("execution_policy") or "RemoteSigned").lower()
        link = "see about_Execution_Policies at https:/go.microsoft.com/fwlink/?LinkID=135170."
        message = None
        if effective == "restricted":
            message = f"File {path} cannot be loaded because running scripts is disabled on this system. For more " \
                      f"information, {link}"
        elif effective == "allsigned" and SIGNATURE not in text:
            # guess: a signature block counts as a valid signature; the simulated host checks no certificates
            message = f"File {path} cannot be loaded. The file {path} is not digitally signed. You cannot run this " \
                      f"script on the current system. For more information about running scripts and setting " \
                      f"execution policy, {link}"
        if message:
            raise PSError(new_error("System.Management.Automation.PSSecurityException", message, "UnauthorizedAccess",
                                    "SecurityError", target_name=path))

    def read_script(self, path: str) -> str:
        try:
            data = self.ctx.read(path)
        except FsError:
            raise self.not_found(path) from None
        if data.startswith(b"\xff\xfe"):
            return data[2:].decode("utf-16-le", "replace")
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8", "replace")
        # guess: a script without a BOM is read in the ANSI code page (Windows-1252), as 5.1 does
        return data.decode("cp1252", "replace")

    def call_script(self, path: str, args: list, sink, input_items=None) -> None:
        text = self.read_script(path)
        self.policy_check(path, text)
        try:
            ast = parse(text, path)
        except PSParseError as e:
            raise PSError(parse_error_record(e)) from None
        scope = Scope(self.scope, "script")
        saved_scope = self.scope
        self.frames.append(Frame(path, scope))
        self.scope = scope
        try:
            self.bind_params(ast.param, args, scope, ast, name=ntpath.basename(path))
            self.run_block(ast.body, sink)
        except ExitSignal as e:
            # guess: as DlrScriptCommandProcessor does, a script's exit sets $LASTEXITCODE and, when it
            # is not 0, fails the pipeline that called it ($? false); a normal end leaves $? true even
            # when a native program it ran last failed.
            self.global_scope.vars["lastexitcode"] = e.code
            if e.code != 0:
                self.fail()
        except (ReturnSignal, BreakSignal, ContinueSignal):
            pass
        finally:
            self.scope = saved_scope
            self.frames.pop()

    def call_scriptblock(self, sb: ScriptBlock, args: list, sink, dot: bool = False, input_items=None,
                         underscore=_MISSING) -> None:
        if input_items:
            raise Unsupported("piping input to a script block ($input) is not emulated", self.line)
        scope = self.scope if dot else Scope(self.scope, "local")
        saved_scope = self.scope
        self.scope = scope
        self.frames.append(Frame(None, scope))
        saved_underscore = scope.vars.get("_", _MISSING)
        if underscore is not _MISSING:
            scope.vars["_"] = underscore
        try:
            self.bind_params(sb.ast.param, args, scope, sb.ast, name="<ScriptBlock>")
            self.run_block(sb.ast.body, sink)
        except ReturnSignal:
            pass
        finally:
            if underscore is not _MISSING:
                if saved_underscore is _MISSING:
                    scope.vars.pop("_", None)
                else:
                    scope.vars["_"] = saved_underscore
            self.frames.pop()
            self.scope = saved_scope

    def bind_params(self, block: Node | None, args: list, scope: Scope, ast: Node, name: str = "") -> None:
        """Bind arguments to a param() block (or to $args), as PowerShell's parameter binder does."""
        params = block.params if block else []
        attrs = {a.name.lower(): a for a in (block.attrs if block else [])}
        advanced = "cmdletbinding" in attrs or any(a.name.lower() == "parameter" for p in params for a in p.attrs)
        should = False
        if "cmdletbinding" in attrs:
            for arg_name, value, omitted in attrs["cmdletbinding"].args or []:
                if arg_name and arg_name.lower() == "supportsshouldprocess":
                    should = omitted or to_bool(self.eval(value))
                elif arg_name and arg_name.lower() not in ("defaultparametersetname", "positionalbinding",
                                                           "confirmimpact", "helpuri"):
                    raise Unsupported(f"[CmdletBinding({arg_name})]", block.line)
        infos = []
        for p in params:
            info = {"name": p.name, "node": p, "types": p.types, "mandatory": False, "position": None, "aliases": [],
                    "allow_null": False, "allow_empty_string": False, "allow_empty": False, "set": None,
                    "not_empty": False}
            for a in p.attrs:
                low = a.name.lower()
                if low == "parameter":
                    for arg_name, value, omitted in a.args or []:
                        key = (arg_name or "").lower()
                        if key == "mandatory":
                            info["mandatory"] = omitted or to_bool(self.eval(value))
                        elif key == "position":
                            info["position"] = to_int(self.eval(value))
                        elif key in ("valuefrompipeline", "valuefrompipelinebypropertyname", "parametersetname",
                                     "helpmessage", "valuefromremainingarguments", "dontshow"):
                            if key == "valuefromremainingarguments" and (omitted or to_bool(self.eval(value))):
                                raise Unsupported("ValueFromRemainingArguments", p.line)
                        else:
                            raise Unsupported(f"[Parameter({arg_name})]", p.line)
                elif low == "alias":
                    info["aliases"] += [to_str(x) for _n, v, _o in a.args for x in _flat(self.eval(v))]
                elif low == "allownull":
                    info["allow_null"] = True
                elif low == "allowemptystring":
                    info["allow_empty_string"] = True
                elif low == "allowemptycollection":
                    info["allow_empty"] = True
                elif low == "validateset":
                    info["set"] = [to_str(x) for _n, v, _o in a.args if _n is None for x in _flat(self.eval(v))]
                elif low in ("validatenotnullorempty", "validatenotnull"):
                    info["not_empty"] = True
            info["switch"] = any(t.lower() in ("switch", "system.management.automation.switchparameter")
                                 for t in p.types)
            infos.append(info)
        explicit = [i for i in infos if i["position"] is not None]
        positional = sorted(explicit, key=lambda i: i["position"]) if explicit else \
            [i for i in infos if not i["switch"]]
        bound: dict = {}
        common: dict = {}
        invocation = name or "<ScriptBlock>"

        def binding_error(message: str, fqid: str, category: str = "InvalidArgument") -> PSError:
            return PSError(new_error("System.Management.Automation.ParameterBindingException", message,
                                     f"{fqid},{invocation}", category, command=invocation))

        # Named arguments first, then the positional ones (as PowerShell's binder does); in a simple
        # script an unknown name and any value left over go to $args, in their order.
        leftovers: list = []   # (index, value)
        positional_args: list = []
        i = 0
        while i < len(args):
            a = args[i]
            if a[0] != "name":
                positional_args.append((i, a[1]))
                i += 1
                continue
            pname, low = a[1], a[1].lower()
            matches = [x for x in infos if x["name"].lower() == low or low in (y.lower() for y in x["aliases"])]
            if not matches:
                matches = [x for x in infos if x["name"].lower().startswith(low)]
            if advanced and not matches and (low in _COMMON or (should and low in _SHOULD) or
                                             any(c.startswith(low) for c in list(_COMMON) + list(_SHOULD))):
                cname = _COMMON.get(low) or _SHOULD.get(low) or next(
                    v for k, v in list(_COMMON.items()) + list(_SHOULD.items()) if k.startswith(low))
                if cname in ("Verbose", "Debug", "WhatIf", "Confirm"):
                    common[cname] = to_bool(a[2]) if a[3] else True
                elif a[3]:
                    common[cname] = a[2]
                elif i + 1 < len(args) and args[i + 1][0] == "pos":
                    i += 1
                    common[cname] = args[i][1]
                else:
                    raise binding_error(f"Missing an argument for parameter '{cname}'. Specify a parameter of type "
                                        "'System.Object' and try again.", "MissingArgument")
                i += 1
                continue
            if len(matches) > 1:
                raise binding_error(f"Parameter cannot be processed because the parameter name '{pname}' is "
                                    "ambiguous. Possible matches include: "
                                    + " ".join(f"-{x['name']}" for x in matches) + ".", "AmbiguousParameter")
            if not matches:
                if advanced:
                    raise binding_error(f"A parameter cannot be found that matches parameter name '{pname}'.",
                                        "NamedParameterNotFound")
                leftovers.append((i, f"-{pname}" + (":" if a[3] else "")))
                if a[3]:
                    leftovers.append((i + 0.5, a[2]))
                i += 1
                continue
            info = matches[0]
            if info["switch"]:
                value = a[2] if a[3] else True
            elif a[3]:
                value = a[2]
            else:
                if i + 1 >= len(args) or args[i + 1][0] != "pos":
                    tname = info["types"][0] if info["types"] else "System.Object"
                    raise binding_error(f"Missing an argument for parameter '{info['name']}'. Specify a parameter "
                                        f"of type '{_type_full(tname)}' and try again.", "MissingArgument")
                i += 1
                value = args[i][1]
            if info["name"].lower() in bound:
                raise binding_error(f"Cannot bind parameter because parameter '{info['name']}' is specified more "
                                    "than once. To provide multiple values to parameters that can accept "
                                    "multiple values, use the array syntax. For example, \"-parameter "
                                    "value1,value2,value3\".", "ParameterAlreadyBound")
            bound[info["name"].lower()] = (info, value)
            i += 1
        for index, value in positional_args:
            slot = next((x for x in positional if x["name"].lower() not in bound), None)
            if slot is None:
                if advanced:
                    raise binding_error(f"A positional parameter cannot be found that accepts argument "
                                        f"'{to_str(value)}'.", "PositionalParameterNotFound")
                leftovers.append((index, value))
            else:
                bound[slot["name"].lower()] = (slot, value)
        extra = [value for _index, value in sorted(leftovers, key=lambda x: x[0])]
        missing = [x["name"] for x in infos if x["mandatory"] and x["name"].lower() not in bound]
        if missing:
            raise binding_error("Cannot process command because of one or more missing mandatory parameters: "
                                + " ".join(missing) + ".", "MissingMandatoryParameter")
        # Values, conversions and validation; then defaults, in declaration order, in the new scope.
        bound_dict = PSDict()
        for info in infos:
            low = info["name"].lower()
            if low in bound:
                value = self.convert_param(bound[low][1], info, invocation)
                self._validate(info, value, binding_error)
                scope.vars[low] = value
                bound_dict[info["name"]] = value
        saved = self.scope
        self.scope = scope
        try:
            for info in infos:
                low = info["name"].lower()
                if low in bound:
                    continue
                node = info["node"]
                if node.default is not None:
                    scope.vars[low] = self.convert_param(self.eval(node.default), info, invocation, default=True)
                elif info["switch"]:
                    scope.vars[low] = False
                else:
                    scope.vars[low] = self.convert_param(None, info, invocation, default=True)
        finally:
            self.scope = saved
        scope.vars["args"] = extra
        scope.vars["psboundparameters"] = bound_dict
        if advanced:
            for cname, value in common.items():
                if cname == "ErrorAction":
                    scope.vars["erroractionpreference"] = self.action_value(value, "ErrorAction")
                elif cname == "WarningAction":
                    scope.vars["warningpreference"] = self.action_value(value, "WarningAction")
                elif cname == "InformationAction":
                    scope.vars["informationpreference"] = self.action_value(value, "InformationAction")
                elif cname == "Verbose":
                    scope.vars["verbosepreference"] = "Continue" if value else "SilentlyContinue"
                elif cname == "Debug":
                    scope.vars["debugpreference"] = "Continue" if value else "SilentlyContinue"
                elif cname == "WhatIf":
                    scope.vars["whatifpreference"] = bool(value)
                elif cname == "Confirm":
                    pass   # nothing prompts on the simulated host
                else:
                    raise Unsupported(f"the common parameter -{cname}", self.line)
            scope.vars["pscmdlet"] = PSCmdletObject(self, should)

    def _validate(self, info: dict, value, binding_error) -> None:
        name = info["name"]
        if info["mandatory"] or info["not_empty"]:
            if value is None and not info["allow_null"]:
                raise binding_error(f"Cannot bind argument to parameter '{name}' because it is null.",
                                    "ParameterArgumentValidationErrorNullNotAllowed", "InvalidData")
            if value == "" and not info["allow_empty_string"]:
                raise binding_error(f"Cannot bind argument to parameter '{name}' because it is an empty string.",
                                    "ParameterArgumentValidationErrorEmptyStringNotAllowed", "InvalidData")
            if isinstance(value, list) and not value and not info["allow_empty"]:
                raise binding_error(f"Cannot bind argument to parameter '{name}' because it is an empty array.",
                                    "ParameterArgumentValidationErrorEmptyArrayNotAllowed", "InvalidData")
        if info["set"] is not None and value is not None:
            for item in _flat(value):
                if to_str(item).lower() not in (s.lower() for s in info["set"]):
                    raise binding_error(f"Cannot validate argument on parameter '{name}'. The argument "
                                        f"\"{to_str(item)}\" does not belong to the set \"{','.join(info['set'])}\" "
                                        "specified by the ValidateSet attribute. Supply an argument that is in the "
                                        "set and then try the command again.", "ParameterArgumentValidationError",
                                        "InvalidData")

    def convert_param(self, value, info: dict, invocation: str, default: bool = False):
        types = [t for t in info["types"] if t.lower() not in ("switch", "system.management.automation.switchparameter")]
        if info["switch"]:
            if isinstance(value, (bool, int)) or value is None:
                return bool(value)
            if isinstance(value, SwitchValue):
                return value.value
            raise PSError(new_error("System.Management.Automation.ParameterBindingException",
                                    f"Cannot process argument transformation on parameter '{info['name']}'. Cannot "
                                    f"convert the \"{to_str(value)}\" value of type \"{type_name(value)}\" to type "
                                    "\"System.Management.Automation.SwitchParameter\".",
                                    f"ParameterArgumentTransformationError,{invocation}", "InvalidData"))
        if not types:
            return value
        tname = types[-1]
        if value is None and default:
            low = tname.lower()
            return {"string": "", "system.string": "", "int": 0, "int32": 0, "system.int32": 0, "long": 0,
                    "int64": 0, "bool": False, "system.boolean": False, "boolean": False, "double": 0.0}.get(low)
        try:
            if tname.lower() in ("bool", "boolean", "system.boolean") and not isinstance(value, (bool, int, float)) \
                    and not (isinstance(value, SwitchValue)):
                raise cast_error(value, "System.Boolean")
            return convert(self, value, tname)
        except PSError as e:
            message = e.record.message()
            if tname.lower() in ("bool", "boolean", "system.boolean"):
                message = (f'Cannot convert value "{type_name(value)}" to type "System.Boolean". Boolean parameters '
                           "accept only Boolean values and numbers, such as $True, $False, 1 or 0.")
            raise PSError(new_error("System.Management.Automation.ParameterBindingException",
                                    f"Cannot process argument transformation on parameter '{info['name']}'. {message}",
                                    f"ParameterArgumentTransformationError,{invocation}", "InvalidData")) from None

    # cmdlets --------------------------------------------------------------------------------------------

    def call_cmdlet(self, spec: Cmdlet, args: list, input_items, sink, el: Node) -> None:
        call = CmdletCall(self, spec, sink, el)
        call.bind(args)
        if input_items is not None and not spec.pipeline:
            if input_items:
                raise PSError(new_error("System.Management.Automation.ParameterBindingException",
                                        "The input object cannot be bound to any parameters for the command either "
                                        "because the command does not take pipeline input or the input and its "
                                        "properties do not match any of the parameters that take pipeline input.",
                                        f"InputObjectNotBound,{spec.fqid}", "InvalidArgument"))
        call.input = input_items
        saved = {}
        try:
            for pref, value in call.preferences.items():
                saved[pref] = self.scope.vars.get(pref, _MISSING)
                self.scope.vars[pref] = value
            spec.fn(self, call)
        finally:
            for pref, old in saved.items():
                if old is _MISSING:
                    self.scope.vars.pop(pref, None)
                else:
                    self.scope.vars[pref] = old

    # native programs -----------------------------------------------------------------------------------------

    def call_native(self, path: str, rec: dict, name: str, args: list, input_items, sink) -> None:
        from tests.winsim import programs

        words = []
        for a in args:
            if a[0] == "name":
                words.append(f"-{a[1]}" + (":" + to_str(a[2]) if a[3] else ""))
            else:
                for v in (a[1] if is_enumerable(a[1]) else [a[1]]):
                    words.append(to_str(v))
        # guess: Windows PowerShell 5.1 quotes an argument that has whitespace and escapes nothing
        line = " ".join(f'"{w}"' if (re.search(r"\s", w) and not (w.startswith('"') and w.endswith('"'))) or w == ""
                        else w for w in words)
        stdin = None
        if input_items:
            stdin = "".join(to_str(x) + "\r\n" for x in input_items).encode("utf-8")
        child = self.child_ctx(**({"stdin": stdin} if stdin is not None else {}))
        try:
            res = programs.run_file(child, path, rec, line)
        except programs.ProgramNotFound as e:
            raise PSError(new_error("System.Management.Automation.ApplicationFailedException",
                                    f"Program '{ntpath.basename(path)}' failed to run: {e}", "NativeCommandFailed",
                                    "ResourceUnavailable", name)) from None
        if self.ctx.cancel.is_set():
            raise Cancelled()
        # guess: the console code page of the simulated hosts' WinRM shells is UTF-8 (Ansible asks for 65001)
        text = res.stdout.decode("utf-8", "replace")
        for out_line in _lines(text):
            sink.append(out_line)
        err = res.stderr.decode("utf-8", "replace")
        if err:
            if self.stream_redirect("2"):
                first = True
                for err_line in _lines(err):
                    record = new_error("System.Management.Automation.RemoteException", err_line,
                                       "NativeCommandError" if first else "NativeCommandErrorMessage", "NotSpecified",
                                       err_line, command=name)
                    first = False
                    self.write_error(record)
            else:
                self.streams.err_text(err)
        self.global_scope.vars["lastexitcode"] = res.rc
        if res.rc != 0:
            self.fail()


def _clixml_text(text: str) -> str:
    text = text.replace("_x", "_x005F_x").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"[\x00-\x1f]", lambda m: f"_x{ord(m.group(0)):04X}_", text)


def _flat(value) -> list:
    if value is None:
        return []
    return list(value) if is_enumerable(value) else [value]


def _lines(text: str) -> list[str]:
    lines = re.split(r"\r?\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _type_full(tname: str) -> str:
    info = TYPES.get(tname.lower())
    return info[0] if info else tname


def parse_error_record(e: PSParseError) -> ErrorRecord:
    where = f"At {e.source}:{e.line} char:1" if e.source and not e.source.startswith("<") else f"At line:{e.line} char:1"
    return new_error("System.Management.Automation.ParseException", f"{where}\r\n{e.message}",
                     "ParseException" if e.source else "ParseException", "ParserError", line=e.line, script=e.source)


# operators --------------------------------------------------------------------------------------------

def _like_regex(pattern: str) -> re.Pattern:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "`" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise runtime_error(f"The specified wildcard character pattern is not valid: {pattern}",
                                    "RuntimeException", "InvalidArgument")
            out.append("[" + pattern[i + 1:end].replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def dotnet_regex(pattern: str, case: bool) -> re.Pattern:
    """A .NET regular expression in Python's dialect (named groups, \\z)."""
    py = re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", pattern).replace(r"\z", r"\Z")
    try:
        return re.compile(py, 0 if case else re.IGNORECASE)
    except re.error as e:
        raise PSError(new_error("System.ArgumentException", f'parsing "{pattern}" - {e}.',
                                "InvalidRegularExpression", "InvalidOperation", pattern)) from None


def _replacement(text: str) -> str:
    """A .NET replacement string ($1, ${name}, $$, $0) for Python's re.sub."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            out.append("\\\\")
        elif c == "$" and i + 1 < len(text):
            m = re.compile(r"\$(\d+|\{([A-Za-z_]\w*|\d+)\}|\$|&)").match(text, i)
            if m:
                tok = m.group(1)
                out.append("$" if tok == "$" else "\\g<0>" if tok == "&" else f"\\g<{m.group(2) or tok}>")
                i = m.end()
                continue
            out.append("$")
        else:
            out.append(c)
        i += 1
    return "".join(out)


def compare_eq(a, b, case: bool = False) -> bool:
    """LanguagePrimitives.Equals as the -eq operator uses it: the right side converted to the left's type."""
    if a is None:
        return b is None
    if b is None:
        return False
    if isinstance(a, bool):
        return a == to_bool(b)
    if isinstance(a, (int, float)):
        if isinstance(b, (int, float)):
            return a == b
        if isinstance(b, str):
            n = parse_number(b) if b.strip() else 0
            return n is not None and a == n
        return False
    if isinstance(a, str):
        text = to_str(b)
        return a == text if case else a.lower() == text.lower()
    if isinstance(a, PSDateTime) and isinstance(b, PSDateTime):
        return a.value == b.value
    eq = getattr(a, "ps_equals", None)
    if eq:
        return eq(b)
    return a is b


def compare_order(interp, a, b, op: str, case: bool = False) -> bool:
    if isinstance(a, str) or (a is None and isinstance(b, str)):
        x, y = to_str(a), to_str(b)
        if not case:
            x, y = x.lower(), y.lower()
    elif isinstance(a, (int, float)) or a is None:
        x = a if a is not None else None
        if b is None:
            y = None
        elif isinstance(b, (bool, int, float)):
            y = b
        else:
            y = to_number(b, type_name(a) if a is not None else "System.Int32")
        if x is None or y is None:
            # $null sorts before everything
            return {"gt": x is not None and y is None, "ge": y is None, "lt": x is None and y is not None,
                    "le": x is None}[op]
    elif isinstance(a, PSDateTime) and isinstance(b, PSDateTime):
        x, y = a.value, b.value
    elif isinstance(a, Version):
        x, y = a.parts, (b if isinstance(b, Version) else Version(to_str(b))).parts
    else:
        raise runtime_error(f'Cannot compare "{to_str(a)}" because it is not IComparable.', "NotIcomparable",
                            "InvalidOperation", a)
    return {"gt": x > y, "ge": x >= y, "lt": x < y, "le": x <= y}[op]


def _scalar_compare(interp, op: str, a, b, case: bool) -> bool:
    if op == "eq":
        return compare_eq(a, b, case)
    if op == "ne":
        return not compare_eq(a, b, case)
    if op in ("gt", "ge", "lt", "le"):
        return compare_order(interp, a, b, op, case)
    if op in ("like", "notlike"):
        rx = _like_regex(to_str(b) if case else to_str(b).lower())
        hit = rx.match(to_str(a) if case else to_str(a).lower()) is not None
        return hit if op == "like" else not hit
    if op in ("match", "notmatch"):
        m = dotnet_regex(to_str(b), case).search(to_str(a))
        return (m is not None) if op == "match" else m is None
    raise Unsupported(f"the operator -{op}", interp.line)   # pragma: no cover


def binary_op(interp, op: str, a, b):
    case = False
    base = op
    if op not in COMPARISON and op[:1] in ("c", "i") and op[1:] in COMPARISON:
        case, base = op[0] == "c", op[1:]
    if base in ("eq", "ne", "gt", "ge", "lt", "le", "like", "notlike", "match", "notmatch"):
        if is_enumerable(a):
            # Array on the left: the elements for which the comparison holds.
            return [x for x in a if _scalar_compare(interp, base, x, b, case)]
        if base in ("match", "notmatch"):
            m = dotnet_regex(to_str(b), case).search(to_str(a))
            if m:
                matches = PSDict()
                matches[0] = m.group(0)
                for k, v in enumerate(m.groups(), start=1):
                    if v is not None:
                        matches[k] = v
                for k, v in m.groupdict().items():
                    if v is not None:
                        matches[k] = v
                interp.set_var("Matches", matches)
            return (m is not None) if base == "match" else m is None
        return _scalar_compare(interp, base, a, b, case)
    if base in ("contains", "notcontains"):
        items = list(a) if is_enumerable(a) else [a]
        hit = any(compare_eq(x, b, case) for x in items)
        return hit if base == "contains" else not hit
    if base in ("in", "notin"):
        items = list(b) if is_enumerable(b) else [b]
        hit = any(compare_eq(x, a, case) for x in items)
        return hit if base == "in" else not hit
    if base == "replace":
        pattern, repl = (b[0], b[1] if len(b) > 1 else "") if is_enumerable(b) else (b, "")
        if is_enumerable(b) and len(b) > 2:
            raise runtime_error("The -replace operator allows only two elements to follow it, not "
                                f"{len(b)}.", "BadReplaceArgument", "InvalidOperation")
        rx = dotnet_regex(to_str(pattern), case)
        items = list(a) if is_enumerable(a) else [a]
        out = [rx.sub(_replacement(to_str(repl)), to_str(x)) for x in items]
        return out if is_enumerable(a) else out[0]
    if base == "split":
        pattern, limit = (b[0], to_int(b[1]) if len(b) > 1 else 0) if is_enumerable(b) else (b, 0)
        rx = dotnet_regex(to_str(pattern), case)
        out = []
        for x in (list(a) if is_enumerable(a) else [a]):
            out += rx.split(to_str(x), maxsplit=max(limit - 1, 0)) if limit != 1 else [to_str(x)]
        return out
    if base == "join":
        items = list(a) if is_enumerable(a) else [a]
        return to_str(b).join(to_str(x) for x in items)
    if base in ("is", "isnot"):
        if not isinstance(b, TypeRef):
            b = resolve_type(interp, to_str(b))
        hit = is_instance(a, b)
        return hit if base == "is" else not hit
    if base == "as":
        if not isinstance(b, TypeRef):
            b = resolve_type(interp, to_str(b))
        try:
            return convert(interp, a, b.fullname)
        except PSError:
            return None
    if op == "f":
        return format_string(interp, to_str(a), list(b) if is_enumerable(b) else [b])
    if op in ("band", "bor", "bxor", "shl", "shr"):
        x, y = to_int(a, 64), to_int(b, 64)
        return {"band": x & y, "bor": x | y, "bxor": x ^ y, "shl": x << y, "shr": x >> y}[op]
    if op == "+":
        return add(interp, a, b)
    if op in ("-", "*", "/", "%"):
        return arith(interp, op, a, b)
    raise Unsupported(f"the operator -{op}", interp.line)


def _int_or_double(n):
    if isinstance(n, int) and not isinstance(n, bool) and not -2**63 <= n < 2**63:
        return float(n)
    return n


def add(interp, a, b):
    if a is None:
        return b
    if is_enumerable(a):
        return list(a) + (list(b) if is_enumerable(b) else [b])
    if isinstance(a, str):
        return a + to_str(b)
    if isinstance(a, PSDict):
        if not isinstance(b, PSDict):
            raise runtime_error("A hash table can only be added to another hash table.", "AddHashTableToNonHashTable",
                                "InvalidOperation")
        out = PSDict(a.items(), ordered=a.ordered)
        for k, v in b.items():
            if k in out:
                raise PSError(new_error("System.ArgumentException", f"Item has already been added. Key in dictionary: "
                                        f"'{to_str(k)}'  Key being added: '{to_str(k)}'", "System.ArgumentException",
                                        "InvalidOperation"))
            out[k] = v
        return out
    if isinstance(a, (bool, int, float)):
        return _int_or_double(to_number(a) + to_number(b, type_name(a)))
    raise _no_op(interp, a, "op_Addition")


def _no_op(interp, a, method: str) -> PSError:
    return runtime_error(f"Method invocation failed because [{type_name(a)}] does not contain a method named "
                         f"'{method}'.", "MethodNotFound", "InvalidOperation", a)


def arith(interp, op: str, a, b):
    if op == "*" and isinstance(a, str):
        return a * to_int(b)
    if op == "*" and is_enumerable(a):
        return list(a) * to_int(b)
    if a is not None and not isinstance(a, (bool, int, float, str)):
        raise _no_op(interp, a, {"-": "op_Subtraction", "*": "op_Multiply", "/": "op_Division", "%": "op_Modulus"}[op])
    x, y = to_number(a), to_number(b)
    if op == "-":
        return _int_or_double(x - y)
    if op == "*":
        return _int_or_double(x * y)
    if y == 0:
        raise PSError(new_error("System.Management.Automation.RuntimeException", "Attempted to divide by zero.",
                                "RuntimeException", "NotSpecified"))
    if op == "/":
        if isinstance(x, int) and isinstance(y, int) and x % y == 0:
            return x // y
        return x / y
    result = abs(x) % abs(y)   # .NET's remainder takes the sign of the dividend
    return result if x >= 0 else -result


# -f and String.Format -----------------------------------------------------------------------------------

_FORMAT_ERROR = "Input string was not in a correct format."


def format_string(interp, fmt: str, args: list) -> str:
    try:
        return dotnet_format(fmt, args)
    except ValueError as e:
        raise PSError(new_error("System.Management.Automation.RuntimeException",
                                f"Error formatting a string: {e}.", "FormatError", "InvalidOperation", fmt)) from None


def dotnet_format(fmt: str, args: list) -> str:
    """.NET composite formatting: {index[,alignment][:format]}, braces doubled to escape them; a lone
    brace is a FormatException, as String.Format throws."""
    out, i, n = [], 0, len(fmt)
    while i < n:
        c = fmt[i]
        if c == "{":
            if i + 1 < n and fmt[i + 1] == "{":
                out.append("{")
                i += 2
                continue
            m = re.compile(r"\{\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?(?::([^{}]*))?\}").match(fmt, i)
            if not m:
                raise ValueError(_FORMAT_ERROR)
            index = int(m.group(1))
            if index >= len(args):
                raise ValueError("Index (zero based) must be greater than or equal to zero and less than the size of "
                                 "the argument list")
            text = format_value(args[index], m.group(3))
            width = int(m.group(2) or 0)
            text = text.rjust(width) if width > 0 else text.ljust(-width)
            out.append(text)
            i = m.end()
            continue
        if c == "}":
            if i + 1 < n and fmt[i + 1] == "}":
                out.append("}")
                i += 2
                continue
            raise ValueError(_FORMAT_ERROR)
        out.append(c)
        i += 1
    return "".join(out)


def format_value(value, spec: str | None) -> str:
    if not spec:
        return to_str(value)
    if isinstance(value, PSDateTime):
        return format_datetime(value, spec)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        m = re.fullmatch(r"([DdNnFfXxPp])(\d*)", spec)
        if m:
            kind, digits = m.group(1), m.group(2)
            if kind in "Dd":
                return f"{int(value):0{int(digits or 0)}d}"
            if kind in "Xx":
                return format(int(value), f"0{int(digits or 0)}{'X' if kind == 'X' else 'x'}")
            if kind in "Ff":
                return f"{value:.{int(digits or 2)}f}"
            if kind in "Nn":
                return f"{value:,.{int(digits or 2)}f}"
            return f"{value * 100:,.{int(digits or 2)}f} %"
        m = re.fullmatch(r"(#,##)?0+(\.0+)?", spec)
        if m:
            decimals = len(m.group(2) or ".") - 1
            whole = len(spec.split(".")[0].replace("#,##", ""))
            text = f"{value:{',' if m.group(1) else ''}.{decimals}f}"
            head, _sep, tail = text.partition(".")
            head = head.zfill(whole) if not m.group(1) else head
            return head + ("." + tail if tail else "")
    raise Unsupported(f"the format string '{spec}' for a {type_name(value)}")


def format_datetime(value: PSDateTime, spec: str) -> str:
    v = value.value
    if spec == "o":
        frac = f"{v.microsecond:06d}0"
        base = v.strftime("%Y-%m-%dT%H:%M:%S") + "." + frac
        if value.kind == "Utc":
            return base + "Z"
        if value.kind == "Unspecified":
            return base
        return base + "+00:00"   # guess: the simulated hosts' time zone is UTC
    if spec == "u":
        return v.strftime("%Y-%m-%d %H:%M:%SZ")
    if spec == "s":
        return v.strftime("%Y-%m-%dT%H:%M:%S")
    tokens = [("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S"), ("fff", None),
              ("tt", "%p"), ("hh", "%I")]
    out, i = [], 0
    while i < len(spec):
        for token, code in tokens:
            if spec.startswith(token, i):
                out.append(f"{v.microsecond // 1000:03d}" if code is None else v.strftime(code))
                i += len(token)
                break
        else:
            c = spec[i]
            if c.isalpha():
                raise Unsupported(f"the date format '{spec}'")
            out.append(c)
            i += 1
    return "".join(out)


# conversion ----------------------------------------------------------------------------------------------

def convert(interp, value, tname: str):
    """A cast or a typed parameter: [type]value."""
    ref = resolve_type(interp, tname)
    conv = ref.info.get("convert")
    if ref.fullname.endswith("[]"):
        element = ref.fullname[:-2]
        if value is None:
            return None
        items = list(value) if is_enumerable(value) else [value]
        if element == "System.Byte":
            return bytes(to_int(x) & 0xFF if isinstance(x, int) else to_int(x) for x in items)
        return [convert(interp, x, element) for x in items]
    if conv is None:
        if is_instance(value, ref):
            return value
        raise cast_error(value, ref.fullname)
    return conv(interp, value)


def is_instance(value, ref: TypeRef) -> bool:
    check = ref.info.get("is")
    if check is not None:
        return check(value)
    if value is None:
        return False
    full = ref.fullname
    if isinstance(value, PSExceptionObject):
        return full.lower() in (t.lower() for t in value.type_chain())
    if full == "System.Object":
        return True
    return type_name(value) == full


# members ------------------------------------------------------------------------------------------------

class PSPropertyInfo:
    TYPE = "System.Management.Automation.PSNoteProperty"

    def __init__(self, name: str, value, member_type: str = "NoteProperty"):
        self.name, self.value, self.member_type = name, value, member_type

    def ps_get(self, interp, name: str):
        low = name.lower()
        if low == "name":
            return self.name
        if low == "value":
            return self.value
        if low == "membertype":
            return self.member_type
        if low == "typenameofvalue":
            return type_name(self.value)
        if low == "isgettable":
            return True
        raise Unsupported(f"the member {name} of a PSPropertyInfo")

    def to_string(self) -> str:
        return f"{type_name(self.value).rsplit('.', 1)[-1]} {self.name}={to_str(self.value)}"


class PSObjectView:
    """$x.PSObject: the extended type system's view of an object."""
    TYPE = "System.Management.Automation.PSObject"

    def __init__(self, obj):
        self.obj = obj

    def ps_get(self, interp, name: str):
        low = name.lower()
        if low == "properties":
            return property_infos(self.obj)
        if low == "baseobject":
            return self.obj
        if low == "typenames":
            return type_names(self.obj)
        raise Unsupported(f"$x.PSObject.{name}")


def type_names(obj) -> list[str]:
    if isinstance(obj, PSObject):
        return list(obj.type_names)
    names = getattr(obj, "type_names", None)
    if callable(names):
        return names()
    return [type_name(obj), "System.Object"]


def property_infos(obj) -> list:
    """$x.PSObject.Properties."""
    if isinstance(obj, PSObject):
        return [PSPropertyInfo(k, v) for k, v in obj.props.items()]
    if isinstance(obj, PSDict):
        return [PSPropertyInfo(n, v, "Property") for n, v in
                (("IsReadOnly", False), ("IsFixedSize", False), ("IsSynchronized", False), ("Keys", obj.keys()),
                 ("Values", obj.values()), ("SyncRoot", obj), ("Count", len(obj)))]
    props = getattr(obj, "ps_properties", None)
    if props:
        return [PSPropertyInfo(k, v, "Property") for k, v in props().items()]
    if isinstance(obj, str):
        return [PSPropertyInfo("Length", len(obj), "Property")]
    raise Unsupported(f"the properties of a {type_name(obj)}")


def get_member(interp, obj, name: str):
    low = name.lower()
    if obj is None or obj is VOID:
        return None
    if low == "psobject":
        return PSObjectView(obj)
    if isinstance(obj, PSDict):
        if name in obj:
            return obj[name]
        if low == "count":
            return len(obj)
        if low == "keys":
            return obj.keys()
        if low == "values":
            return obj.values()
        return None
    if isinstance(obj, PSObject):
        return obj.props.get(name)
    if isinstance(obj, str):
        return len(obj) if low == "length" else None
    if is_enumerable(obj):
        if low in ("count", "length"):
            return len(obj)
        if low == "longlength":
            return len(obj)
        # Member enumeration: the member of each element.
        out: list = []
        for item in obj:
            value = get_member(interp, item, name)
            if value is not None:
                interp.emit(value, out)
        return collect(out)
    if isinstance(obj, (bool, int, float)):
        return None
    getter = getattr(obj, "ps_get", None)
    if getter is None:
        getter = _GETTERS.get(type(obj))
        if getter is None:
            raise Unsupported(f"the member {name} of a {type_name(obj)}", interp.line)
        return getter(interp, obj, name)
    return getter(interp, name)


def set_member(interp, obj, name: str, value) -> None:
    if isinstance(obj, PSDict):
        obj[name] = value
        return
    if isinstance(obj, PSObject):
        if name not in obj.props:
            raise runtime_error(f"The property '{name}' cannot be found on this object. Verify that the property "
                                "exists and can be set.", "PropertyAssignmentException", "InvalidOperation")
        obj.props[name] = value
        return
    if obj is None:
        raise runtime_error(f"The property '{name}' cannot be found on this object. Verify that the property exists "
                            "and can be set.", "PropertyNotFound", "InvalidOperation")
    setter = getattr(obj, "ps_set", None)
    if setter is None:
        raise Unsupported(f"setting {name} on a {type_name(obj)}", interp.line)
    setter(interp, name, value)


def get_index(interp, obj, key):
    if obj is None:
        raise runtime_error("Cannot index into a null array.", "NullArray", "InvalidOperation")
    if isinstance(obj, PSDict):
        if is_enumerable(key):
            return [obj.get(k) for k in key]
        return obj.get(key)
    if isinstance(obj, (str, list, tuple, bytes, bytearray)):
        if is_enumerable(key):
            out = []
            for k in key:
                v = get_index(interp, obj, k)
                if v is not None:
                    out.append(v)
            return out
        i = to_int(key)
        if -len(obj) <= i < len(obj):
            return obj[i]
        return None
    if isinstance(obj, PSObject):
        raise runtime_error("Unable to index into an object of type System.Management.Automation.PSObject.",
                            "CannotIndex", "InvalidOperation")
    indexer = getattr(obj, "ps_index", None)
    if indexer is None:
        raise runtime_error(f"Unable to index into an object of type {type_name(obj)}.", "CannotIndex",
                            "InvalidOperation")
    return indexer(interp, key)


def set_index(interp, obj, key, value) -> None:
    if isinstance(obj, PSDict):
        obj[key] = value
        return
    if isinstance(obj, list):
        i = to_int(key)
        if not -len(obj) <= i < len(obj):
            raise PSError(new_error("System.IndexOutOfRangeException", "Index was outside the bounds of the array.",
                                    "System.IndexOutOfRangeException", "OperationStopped"))
        obj[i] = value
        return
    if obj is None:
        raise runtime_error("Cannot index into a null array.", "NullArray", "InvalidOperation")
    raise Unsupported(f"assigning an index of a {type_name(obj)}", interp.line)


def _dotnet_call(name: str, args: list, fn):
    """A .NET method: what it throws becomes PowerShell's MethodInvocationException."""
    try:
        return fn()
    except DotNetError as e:
        raise PSError(new_error("System.Management.Automation.MethodInvocationException",
                                f'Exception calling "{name}" with "{len(args)}" argument(s): "{e.message}"',
                                e.fqid, "NotSpecified", inner=PSExceptionObject(e.type_name, e.message))) from None


class DotNetError(Exception):
    def __init__(self, type_name: str, message: str, fqid: str | None = None):
        super().__init__(message)
        self.type_name, self.message = type_name, message
        self.fqid = fqid or type_name.rsplit(".", 1)[-1]


def _ci(s: str, case: bool) -> str:
    return s if case else s.lower()


def call_method(interp, obj, name: str, args: list):
    low = name.lower()
    if obj is None or obj is VOID:
        raise runtime_error("You cannot call a method on a null-valued expression.", "InvokeMethodOnNull",
                            "InvalidOperation")
    if low == "gettype" and not args:
        return type_of(interp, obj)
    if low == "tostring" and not args and not hasattr(obj, "ps_call"):
        return to_str(obj)
    if low == "equals" and len(args) == 1 and not hasattr(obj, "ps_call"):
        return compare_eq(obj, args[0], case=True) if not isinstance(obj, str) else obj == to_str(args[0])
    if isinstance(obj, str):
        return _dotnet_call(name, args, lambda: string_method(obj, low, name, args))
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        if low == "tostring" and len(args) == 1:
            return _dotnet_call(name, args, lambda: format_value(obj, to_str(args[0])))
        if low == "compareto" and len(args) == 1:
            other = to_number(args[0])
            return (obj > other) - (obj < other)
    if isinstance(obj, PSDict):
        return _dotnet_call(name, args, lambda: dict_method(interp, obj, low, name, args))
    if isinstance(obj, GenericList):
        return _dotnet_call(name, args, lambda: list_method(interp, obj, low, name, args))
    if isinstance(obj, (list, tuple, bytes)):
        if low == "contains" and len(args) == 1:
            return any(compare_eq(x, args[0], case=True) for x in obj)
        if low == "indexof" and len(args) == 1:
            return next((i for i, x in enumerate(obj) if compare_eq(x, args[0], case=True)), -1)
        if low == "clone" and not args:
            return list(obj) if not isinstance(obj, bytes) else bytes(obj)
        # Method enumeration: the method of each element (PowerShell 3+).
        out: list = []
        for item in obj:
            interp.emit(call_method(interp, item, name, args), out)
        return collect(out)
    caller = getattr(obj, "ps_call", None)
    if caller is not None:
        return _dotnet_call(name, args, lambda: caller(interp, name, args))
    if isinstance(obj, PSDateTime):
        return _dotnet_call(name, args, lambda: datetime_method(obj, low, name, args))
    if isinstance(obj, PSCredential):
        if low == "getnetworkcredential" and not args:
            return PSObject({"UserName": obj.user, "Password": obj.password._text, "Domain": ""},
                            ["System.Net.NetworkCredential", "System.Object"])
    if isinstance(obj, PSObject) and low in ("tostring",):
        return to_str(obj)
    if isinstance(obj, ErrorRecord) and low == "tostring":
        return obj.message()
    if isinstance(obj, ScriptBlock) and low in ("invoke", "invokereturnasis"):
        out = []
        interp.call_scriptblock(obj, [("pos", a) for a in args], out)
        return collect(out) if low == "invokereturnasis" else list(out)
    raise Unsupported(f"the method {type_name(obj)}.{name}()", interp.line)


def string_method(s: str, low: str, name: str, args: list):
    a = [to_str(x) if isinstance(x, (str, int, float)) else x for x in args]
    n = len(args)
    if low == "tostring":
        return s
    if low in ("tolower", "tolowerinvariant") and n == 0:
        return s.lower()
    if low in ("toupper", "toupperinvariant") and n == 0:
        return s.upper()
    if low in ("trim", "trimstart", "trimend"):
        chars = "".join(to_str(x) for x in _flat(args[0])) if n else None
        if chars is None:
            chars = " \t\r\n\v\f\u00a0\u2028\u2029"
        return {"trim": s.strip, "trimstart": s.lstrip, "trimend": s.rstrip}[low](chars)
    if low == "contains" and n == 1:
        return a[0] in s
    if low == "startswith" and n in (1, 2):
        ignore = n == 2 and to_str(args[1]).lower() in ("ordinalignorecase", "currentcultureignorecase",
                                                        "invariantcultureignorecase", "true")
        return s.lower().startswith(a[0].lower()) if ignore else s.startswith(a[0])
    if low == "endswith" and n in (1, 2):
        ignore = n == 2 and to_str(args[1]).lower() in ("ordinalignorecase", "currentcultureignorecase",
                                                        "invariantcultureignorecase", "true")
        return s.lower().endswith(a[0].lower()) if ignore else s.endswith(a[0])
    if low == "replace" and n == 2:
        if a[0] == "":
            raise DotNetError("System.ArgumentException", "String cannot be of zero length.\r\nParameter name: oldValue")
        return s.replace(a[0], to_str(args[1]))
    if low == "split" and n >= 1:
        seps = [to_str(x) for x in _flat(args[0])]
        chars = [c for sep in seps for c in sep] if all(len(x) == 1 for x in seps) or not isinstance(
            args[0], list) else seps
        if isinstance(args[0], str) and len(args[0]) > 1:
            chars = list(args[0])   # String.Split(char[]) as PowerShell picks it for a string argument
        pattern = "|".join(re.escape(c) for c in chars) if chars else r"\s"
        parts = re.split(pattern, s)
        if n == 2 and "removeemptyentries" in to_str(args[1]).lower():
            parts = [p for p in parts if p]
        return parts
    if low == "substring" and n in (1, 2):
        start = to_int(args[0])
        length = to_int(args[1]) if n == 2 else len(s) - start
        if start < 0 or start > len(s) or length < 0 or start + length > len(s):
            raise DotNetError("System.ArgumentOutOfRangeException",
                              "Index and length must refer to a location within the string.\r\nParameter name: length")
        return s[start:start + length]
    if low in ("indexof", "lastindexof") and n == 1:
        return s.find(a[0]) if low == "indexof" else s.rfind(a[0])
    if low in ("padleft", "padright") and n in (1, 2):
        fill = to_str(args[1])[:1] if n == 2 else " "
        width = to_int(args[0])
        return s.rjust(width, fill) if low == "padleft" else s.ljust(width, fill)
    if low == "insert" and n == 2:
        i = to_int(args[0])
        return s[:i] + to_str(args[1]) + s[i:]
    if low == "remove" and n in (1, 2):
        i = to_int(args[0])
        return s[:i] + (s[i + to_int(args[1]):] if n == 2 else "")
    if low == "equals" and n == 1:
        return s == to_str(args[0])
    if low == "tochararray" and n == 0:
        return list(s)
    if low == "normalize" and n == 0:
        return s
    raise Unsupported(f"the method String.{name}() with {n} argument(s)")


def dict_method(interp, d: PSDict, low: str, name: str, args: list):
    n = len(args)
    if low == "add" and n == 2:
        if args[0] in d:
            raise DotNetError("System.ArgumentException", f"Item has already been added. Key in dictionary: "
                              f"'{to_str(args[0])}'  Key being added: '{to_str(args[0])}'")
        if args[0] is None:
            raise DotNetError("System.ArgumentNullException", "Key cannot be null.\r\nParameter name: key")
        d[args[0]] = args[1]
        return VOID
    if low in ("containskey", "contains") and n == 1:
        return args[0] in d
    if low == "containsvalue" and n == 1:
        return any(compare_eq(v, args[0], case=True) for v in d.values())
    if low == "remove" and n == 1:
        d.remove(args[0])
        return VOID
    if low == "clear" and n == 0:
        for k in d.keys():
            d.remove(k)
        return VOID
    if low == "clone" and n == 0:
        return PSDict(d.items(), ordered=d.ordered)
    if low == "getenumerator" and n == 0:
        return [DictEntry(k, v) for k, v in d.items()]
    if low == "tostring" and n == 0:
        return d.type_name()
    raise Unsupported(f"the method {d.type_name()}.{name}() with {n} argument(s)")


class DictEntry:
    TYPE = "System.Collections.DictionaryEntry"

    def __init__(self, key, value):
        self.key, self.value = key, value

    def ps_get(self, interp, name: str):
        low = name.lower()
        if low in ("key", "name"):
            return self.key
        if low == "value":
            return self.value
        raise Unsupported(f"the member {name} of a DictionaryEntry")

    def ps_properties(self) -> dict:
        return {"Name": self.key, "Key": self.key, "Value": self.value}


def list_method(interp, lst: GenericList, low: str, name: str, args: list):
    n = len(args)
    if low == "add" and n == 1:
        lst.append(args[0])
        return VOID
    if low == "addrange" and n == 1:
        lst.extend(_flat(args[0]))
        return VOID
    if low == "contains" and n == 1:
        return any(compare_eq(x, args[0], case=True) for x in lst)
    if low == "remove" and n == 1:
        for i, x in enumerate(lst):
            if compare_eq(x, args[0], case=True):
                del lst[i]
                return True
        return False
    if low == "removeat" and n == 1:
        del lst[to_int(args[0])]
        return VOID
    if low == "insert" and n == 2:
        lst.insert(to_int(args[0]), args[1])
        return VOID
    if low == "clear" and n == 0:
        lst.clear()
        return VOID
    if low == "toarray" and n == 0:
        return list(lst)
    if low == "indexof" and n == 1:
        return next((i for i, x in enumerate(lst) if compare_eq(x, args[0], case=True)), -1)
    raise Unsupported(f"the method List.{name}() with {n} argument(s)")


def datetime_method(v: PSDateTime, low: str, name: str, args: list):
    if low == "tostring":
        return format_datetime(v, to_str(args[0])) if args else to_str(v)
    if low == "tofiletime" and not args:
        return int(v.value.timestamp() * 10_000_000) + 116_444_736_000_000_000
    if low == "tofiletimeutc" and not args:
        return int(v.value.timestamp() * 10_000_000) + 116_444_736_000_000_000
    if low == "touniversaltime" and not args:
        return PSDateTime(v.value, "Utc")
    if low == "tolocaltime" and not args:
        return PSDateTime(v.value, "Local")
    if low in ("addseconds", "addminutes", "addhours", "adddays") and len(args) == 1:
        unit = {"addseconds": "seconds", "addminutes": "minutes", "addhours": "hours", "adddays": "days"}[low]
        return PSDateTime(v.value + datetime.timedelta(**{unit: float(to_number(args[0]))}), v.kind)
    raise Unsupported(f"the method DateTime.{name}()")


def _datetime_get(interp, v: PSDateTime, name: str):
    low = name.lower()
    d = v.value
    simple = {"year": d.year, "month": d.month, "day": d.day, "hour": d.hour, "minute": d.minute,
              "second": d.second, "millisecond": d.microsecond // 1000, "kind": v.kind,
              "dayofweek": d.strftime("%A"), "dayofyear": d.timetuple().tm_yday,
              "ticks": int((d - datetime.datetime(1, 1, 1, tzinfo=datetime.UTC)).total_seconds() * 10_000_000)}
    if low in simple:
        return simple[low]
    if low == "date":
        return PSDateTime(d.replace(hour=0, minute=0, second=0, microsecond=0), v.kind)
    raise Unsupported(f"the member DateTime.{name}")


def _error_get(interp, r: ErrorRecord, name: str):
    low = name.lower()
    if low == "exception":
        return r.exception
    if low == "fullyqualifiederrorid":
        return r.fqid
    if low == "targetobject":
        return r.target
    if low == "categoryinfo":
        return CategoryInfo(r)
    if low == "errordetails":
        return None if r.details is None else PSObject({"Message": r.details, "RecommendedAction": ""},
                                                       ["System.Management.Automation.ErrorDetails"])
    if low == "scriptstacktrace":
        return f"at <ScriptBlock>, {r.script or '<No file>'}: line {r.line or 1}"
    if low == "pipelineiterationinfo":
        return []
    raise Unsupported(f"the member ErrorRecord.{name}")


class CategoryInfo:
    TYPE = "System.Management.Automation.ErrorCategoryInfo"

    def __init__(self, r: ErrorRecord):
        self.r = r

    def ps_get(self, interp, name: str):
        r, low = self.r, name.lower()
        values = {"category": r.category, "activity": r.activity or (r.command or ""), "reason": r.reason,
                  "targetname": r.target_name or ("" if r.target is None else to_str(r.target)),
                  "targettype": r.target_type or ("" if r.target is None else type_name(r.target).rsplit(".", 1)[-1])}
        if low in values:
            return values[low]
        raise Unsupported(f"the member ErrorCategoryInfo.{name}")

    def to_string(self) -> str:
        return f"{self.r.category}: ({self.ps_get(None, 'targetname')}:{self.ps_get(None, 'targettype')}) " \
               f"[{self.ps_get(None, 'activity')}], {self.r.reason}"


def _exception_get(interp, e: PSExceptionObject, name: str):
    low = name.lower()
    if low == "message":
        return e.message
    if low == "innerexception":
        return e.inner
    if low == "hresult":
        return e.hresult
    if low in ("source", "helplink", "stacktrace", "targetsite"):
        return None
    if low == "errorrecord" and "System.Management.Automation.RuntimeException" in e.type_chain():
        return e.record
    if low == "data":
        return PSDict()
    raise Unsupported(f"the member {e.type_name}.{name}")


_GETTERS = {PSDateTime: _datetime_get, ErrorRecord: _error_get, PSExceptionObject: _exception_get,
            PathInfo: lambda interp, p, name: p.path if name.lower() in ("path", "providerpath") else (
                "FileSystem" if name.lower() == "provider" else _refuse_member(p, name)),
            SecureString: lambda interp, s, name: len(s._text) if name.lower() == "length" else _refuse_member(s, name),
            PSCredential: lambda interp, c, name: c.user if name.lower() == "username" else (
                c.password if name.lower() == "password" else _refuse_member(c, name)),
            ScriptBlock: lambda interp, s, name: _refuse_member(s, name),
            TypeRef: lambda interp, t, name: {"name": t.name, "fullname": t.fullname,
                                              "isvaluetype": t.info.get("value_type", False)}.get(
                name.lower(), _MISSING) if name.lower() in ("name", "fullname", "isvaluetype") else
            _refuse_member(t, name),
            PSRef: lambda interp, r, name: r.value if name.lower() == "value" else _refuse_member(r, name)}


def _refuse_member(obj, name: str):
    raise Unsupported(f"the member {name} of a {type_name(obj)}")


# .NET objects --------------------------------------------------------------------------------------------

class Version:
    TYPE = "System.Version"

    def __init__(self, text: str):
        try:
            self.parts = tuple(int(x) for x in str(text).split("."))
        except ValueError:
            raise DotNetError("System.FormatException", _FORMAT_ERROR) from None
        if not 2 <= len(self.parts) <= 4:
            raise DotNetError("System.ArgumentException", "Version string portion was too short or too long.")

    def to_string(self) -> str:
        return ".".join(str(p) for p in self.parts)

    def ps_get(self, interp, name: str):
        names = ["major", "minor", "build", "revision"]
        if name.lower() in names:
            i = names.index(name.lower())
            return self.parts[i] if i < len(self.parts) else -1
        raise Unsupported(f"the member Version.{name}")

    def ps_equals(self, other) -> bool:
        return isinstance(other, Version) and other.parts == self.parts or to_str(other) == self.to_string()


class GuidValue:
    TYPE = "System.Guid"

    def __init__(self, value: uuid.UUID):
        self.value = value

    def to_string(self) -> str:
        return str(self.value)

    def ps_call(self, interp, name: str, args: list):
        low = name.lower()
        if low == "tostring":
            fmt = to_str(args[0]) if args else "D"
            if fmt.upper() in ("", "D"):
                return str(self.value)
            if fmt.upper() == "N":
                return self.value.hex
            if fmt.upper() == "B":
                return "{" + str(self.value) + "}"
            raise DotNetError("System.FormatException", "Format String can be only \"D\", \"d\", \"N\", \"n\", "
                              "\"P\", \"p\", \"B\", \"b\", \"X\" or \"x\".")
        if low == "equals" and len(args) == 1:
            return self.ps_equals(args[0])
        raise Unsupported(f"the method Guid.{name}()")

    def ps_get(self, interp, name: str):
        raise Unsupported(f"the member Guid.{name}")

    def ps_equals(self, other) -> bool:
        return to_str(other).lower().strip("{}") == str(self.value)


class MemoryStream:
    TYPE = "System.IO.MemoryStream"

    def __init__(self, data: bytes = b""):
        self.data = bytearray(data)

    def ps_get(self, interp, name: str):
        low = name.lower()
        if low == "length":
            return len(self.data)
        if low in ("canread", "canwrite", "canseek"):
            return True
        raise Unsupported(f"the member MemoryStream.{name}")

    def ps_call(self, interp, name: str, args: list):
        low = name.lower()
        if low == "toarray" and not args:
            return bytes(self.data)
        if low == "write" and len(args) == 3:
            data = bytes(args[0])
            self.data += data[to_int(args[1]):to_int(args[1]) + to_int(args[2])]
            return VOID
        if low in ("dispose", "close", "flush") and not args:
            return VOID
        if low == "copyto" and len(args) == 1 and isinstance(args[0], MemoryStream):
            args[0].data += self.data
            return VOID
        raise Unsupported(f"the method MemoryStream.{name}() with {len(args)} argument(s)")


class StdinStream:
    """[Console]::OpenStandardInput(): the process's standard input, as bytes. powershell.exe drains
    stdin into $input first only when the command text uses $input (ConsoleHost's
    AstSearcher.IsUsingDollarInput); $input is not emulated, so a script here reads the stream."""
    TYPE = "System.IO.__ConsoleStream"

    def ps_get(self, interp, name: str):
        low = name.lower()
        if low in ("canread",):
            return True
        raise Unsupported(f"the member of the console stream {name}")

    def ps_call(self, interp, name: str, args: list):
        low = name.lower()
        if low == "copyto" and len(args) == 1 and isinstance(args[0], MemoryStream):
            args[0].data += interp.read_stdin()
            return VOID
        if low in ("dispose", "close", "flush") and not args:
            return VOID
        raise Unsupported(f"the method {name}() of the console input stream")


class ConsoleWriter:
    """[Console]::Out / [Console]::Error."""
    TYPE = "System.IO.TextWriter+SyncTextWriter"

    def __init__(self, err: bool):
        self.err = err

    def ps_call(self, interp, name: str, args: list):
        low = name.lower()
        if low in ("writeline", "write") and len(args) <= 1:
            text = (to_str(args[0]) if args else "") + ("\r\n" if low == "writeline" else "")
            if self.err:
                interp.streams.err_text(text)
            else:
                interp.streams.out_text(text)
            return VOID
        if low in ("flush", "dispose") and not args:
            return VOID
        raise Unsupported(f"the method [Console]::{'Error' if self.err else 'Out'}.{name}()")

    def ps_get(self, interp, name: str):
        raise Unsupported(f"the member [Console]::{'Error' if self.err else 'Out'}.{name}")


class TextEncoding:
    """System.Text.Encoding and its kinds."""

    CODECS = {"utf-8": "utf-8", "utf-16": "utf-16-le", "us-ascii": "ascii", "utf-16BE": "utf-16-be",
              "utf-32": "utf-32-le", "Windows-1252": "cp1252"}
    BOMS = {"utf-8": b"\xef\xbb\xbf", "utf-16": b"\xff\xfe", "utf-16BE": b"\xfe\xff", "utf-32": b"\xff\xfe\x00\x00"}
    TYPES = {"utf-8": "System.Text.UTF8Encoding", "utf-16": "System.Text.UnicodeEncoding",
             "us-ascii": "System.Text.ASCIIEncoding", "utf-16BE": "System.Text.UnicodeEncoding",
             "utf-32": "System.Text.UTF32Encoding", "Windows-1252": "System.Text.SBCSCodePageEncoding"}

    def __init__(self, web_name: str, bom: bool = True):
        self.web_name, self.bom = web_name, bom
        self.TYPE = self.TYPES[web_name]

    @property
    def codec(self) -> str:
        return self.CODECS[self.web_name]

    def preamble(self) -> bytes:
        return self.BOMS.get(self.web_name, b"") if self.bom else b""

    def ps_get(self, interp, name: str):
        low = name.lower()
        if low in ("webname", "bodyname", "headername"):
            return self.web_name
        if low == "codepage":
            return {"utf-8": 65001, "utf-16": 1200, "us-ascii": 20127, "utf-16BE": 1201, "utf-32": 12000,
                    "Windows-1252": 1252}[self.web_name]
        if low == "encodingname":
            return {"utf-8": "Unicode (UTF-8)", "utf-16": "Unicode", "us-ascii": "US-ASCII"}.get(self.web_name,
                                                                                                 self.web_name)
        raise Unsupported(f"the member {self.TYPE}.{name}")

    def ps_call(self, interp, name: str, args: list):
        low = name.lower()
        if low == "getstring" and len(args) in (1, 3):
            data = bytes(args[0] or b"")
            if len(args) == 3:
                data = data[to_int(args[1]):to_int(args[1]) + to_int(args[2])]
            # Encoding.GetString keeps a byte order mark as U+FEFF; it decodes bad bytes as U+FFFD.
            return data.decode(self.codec, "replace")
        if low == "getbytes" and len(args) == 1:
            return to_str(args[0]).encode(self.codec, "replace")
        if low == "getpreamble" and not args:
            return self.preamble()
        raise Unsupported(f"the method {self.TYPE}.{name}()")


class PSCmdletObject:
    """$PSCmdlet of an advanced script."""
    TYPE = "System.Management.Automation.PSScriptCmdlet"

    def __init__(self, interp, should: bool):
        self.interp, self.should = interp, should

    def ps_get(self, interp, name: str):
        if name.lower() == "parametersetname":
            return "__AllParameterSets"
        raise Unsupported(f"$PSCmdlet.{name}")

    def ps_call(self, interp, name: str, args: list):
        low = name.lower()
        if low == "shouldprocess" and 1 <= len(args) <= 2:
            if not self.should:
                raise Unsupported("$PSCmdlet.ShouldProcess() in a script without SupportsShouldProcess")
            if to_bool(interp.get_var("WhatIfPreference")):
                action = to_str(args[1]) if len(args) == 2 else "<script>"
                interp.host_write(f'What if: Performing the operation "{action}" on target "{to_str(args[0])}".',
                                  source="WhatIf")
                return False
            return True
        if low == "throwterminatingerror" and len(args) == 1 and isinstance(args[0], ErrorRecord):
            raise PSError(args[0], terminating=True)
        if low == "writeerror" and len(args) == 1 and isinstance(args[0], ErrorRecord):
            interp.write_error(args[0])
            return VOID
        raise Unsupported(f"$PSCmdlet.{name}()")


class SwitchValue:
    def __init__(self, value: bool):
        self.value = value


class CimInstance:
    """A CIM instance from the WMI layer (wmi.py)."""
    TYPE = "Microsoft.Management.Infrastructure.CimInstance"

    def __init__(self, namespace: str, class_name: str, props: dict):
        self.namespace, self.class_name = namespace, class_name
        self.props = PSDict(props, ordered=True)

    def type_names(self) -> list[str]:
        ns = self.namespace.replace("\\", "/")
        return [f"Microsoft.Management.Infrastructure.CimInstance#{ns}/{self.class_name}",
                f"Microsoft.Management.Infrastructure.CimInstance#{self.class_name}",
                "Microsoft.Management.Infrastructure.CimInstance", "System.Object"]

    def _value(self, value):
        if isinstance(value, datetime.datetime):
            return PSDateTime(value, "Local")
        if isinstance(value, list):
            return list(value)
        return value

    def ps_get(self, interp, name: str):
        if name in self.props:
            return self._value(self.props[name])
        if name.lower() == "pscomputername":
            return None
        raise Unsupported(f"the property {self.class_name}.{name} (the simulated WMI class does not have it)")

    def ps_properties(self) -> dict:
        out = {k: self._value(v) for k, v in self.props.items()}
        # guess: what Convert-OutputObject sees of a CimInstance besides its class's properties
        out.update(PSComputerName=None, CimClass=f"{self.namespace.replace(chr(92), '/')}:{self.class_name}",
                   CimInstanceProperties=", ".join(self.props.keys()),
                   CimSystemProperties="Microsoft.Management.Infrastructure.CimSystemProperties")
        return out

    def ps_call(self, interp, name: str, args: list):
        if name.lower() == "tostring" and not args:
            return self.to_string()
        raise Unsupported(f"the method {self.class_name}.{name}() (CIM methods are not emulated)")

    def to_string(self) -> str:
        return self.class_name


class RegistryItem:
    """What Get-Item / New-Item return for a registry key."""
    TYPE = "Microsoft.Win32.RegistryKey"

    def __init__(self, path: str, rec: dict):
        self.path, self.rec = path, rec

    def ps_get(self, interp, name: str):
        low = name.lower()
        if low == "name":
            return self.rec["path"]
        if low == "pschildname":
            return self.rec["path"].rsplit("\\", 1)[-1]
        if low == "property":
            return list(self.rec["values"].keys())
        if low == "pspath":
            return f"Microsoft.PowerShell.Core\\Registry::{self.rec['path']}"
        if low == "valuecount":
            return len(self.rec["values"])
        raise Unsupported(f"the member RegistryKey.{name}")

    # RegistryKey.GetValueKind: the RegistryValueKind name of a value's type (as [string] shows it).
    _KINDS = {"REG_SZ": "String", "REG_EXPAND_SZ": "ExpandString", "REG_BINARY": "Binary", "REG_DWORD": "DWord",
              "REG_MULTI_SZ": "MultiString", "REG_QWORD": "QWord", "REG_NONE": "None"}

    def ps_call(self, interp, name: str, args: list):
        low = name.lower()
        if low == "tostring" and not args:
            return self.to_string()
        if low == "getvaluekind" and len(args) == 1:
            found = {k.lower(): v for k, v in self.rec["values"].items()}.get(to_str(args[0]).lower())
            if found is None:
                raise DotNetError("System.IO.IOException", "The specified registry key does not exist.")
            return self._KINDS.get(found["type"], "Unknown")
        raise Unsupported(f"the method RegistryKey.{name}()")

    def to_string(self) -> str:
        return self.rec["path"]


class FsItem:
    """What Get-Item / New-Item return for a file or directory."""

    def __init__(self, path: str, rec: dict):
        self.path, self.rec = path, rec
        self.TYPE = "System.IO.DirectoryInfo" if rec["type"] == "directory" else "System.IO.FileInfo"

    def ps_get(self, interp, name: str):
        low = name.lower()
        values = {"fullname": self.path, "name": ntpath.basename(self.path.rstrip("\\")) or self.path,
                  "pschildname": ntpath.basename(self.path.rstrip("\\")),
                  "pspath": f"Microsoft.PowerShell.Core\\FileSystem::{self.path}",
                  "psiscontainer": self.rec["type"] == "directory", "exists": True,
                  "extension": ntpath.splitext(self.path)[1]}
        if low in values:
            return values[low]
        if low == "length" and self.rec["type"] == "file":
            return int(self.rec.get("size", 0))
        if low in ("directoryname", "parent"):
            return ntpath.dirname(self.path)
        if low in ("lastwritetime", "creationtime"):
            key = "mtime" if low == "lastwritetime" else "ctime"
            return PSDateTime(datetime.datetime.fromtimestamp(self.rec.get(key, 0), datetime.UTC), "Local")
        raise Unsupported(f"the member {self.TYPE}.{name}")

    def to_string(self) -> str:
        return self.path


# types ------------------------------------------------------------------------------------------------------

def _conv_string(interp, v):
    if v is None:
        return ""
    ofs = interp.get_var("OFS") if interp else None
    return to_str(v, " " if ofs is None else to_str(ofs))


def _conv_bool(interp, v):
    return to_bool(v)


def _conv_double(interp, v):
    n = to_number(v, "System.Double")
    return float(n)


def _conv_char(interp, v):
    if isinstance(v, str) and len(v) == 1:
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        return chr(v)
    raise cast_error(v, "System.Char", "String must be exactly one character long.")


def _conv_byte(interp, v):
    n = to_int(v)
    if not 0 <= n <= 255:
        raise cast_error(v, "System.Byte", "Value was either too large or too small for an unsigned byte.")
    return n


def _conv_unsigned(bits: int):
    def conv(interp, v):
        n = to_int(v, 64)
        if not 0 <= n < 2 ** bits:
            raise cast_error(v, f"System.UInt{bits}", f"Value was either too large or too small for a UInt{bits}.")
        return n
    return conv


def _conv_hashtable(interp, v):
    if isinstance(v, PSDict):
        return v if not v.ordered else PSDict(v.items())
    raise cast_error(v, "System.Collections.Hashtable")


def _conv_scriptblock(interp, v):
    if isinstance(v, ScriptBlock):
        return v
    raise cast_error(v, "System.Management.Automation.ScriptBlock")


def _conv_datetime(interp, v):
    if isinstance(v, PSDateTime):
        return v
    if isinstance(v, str):
        text = v.strip()
        for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y"):
            try:
                return PSDateTime(datetime.datetime.strptime(text.rstrip("Z"), fmt),
                                  "Utc" if text.endswith("Z") else "Unspecified")
            except ValueError:
                continue
        raise cast_error(v, "System.DateTime", "String was not recognized as a valid DateTime.")
    raise cast_error(v, "System.DateTime")


def _conv_guid(interp, v):
    if isinstance(v, GuidValue):
        return v
    try:
        return GuidValue(uuid.UUID(to_str(v)))
    except ValueError:
        raise cast_error(v, "System.Guid", "Guid should contain 32 digits with 4 dashes "
                                           "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).") from None


def _conv_version(interp, v):
    if isinstance(v, Version):
        return v
    try:
        return Version(to_str(v))
    except DotNetError as e:
        raise cast_error(v, "System.Version", e.message) from None


def _conv_list(interp, v):
    return GenericList([] if v is None else (list(v) if is_enumerable(v) else [v]))


def _conv_securestring(interp, v):
    if isinstance(v, SecureString) or v is None:
        return v
    raise cast_error(v, "System.Security.SecureString")


def _conv_ref(interp, v):
    return v if isinstance(v, PSRef) else PSRef(v)


def _conv_pscustomobject(interp, v):
    return v


def _is_value(*kinds):
    return lambda v: isinstance(v, kinds) and not (bool not in kinds and isinstance(v, bool))


def _new_object(interp, args):
    if args:
        raise DotNetError("System.Management.Automation.MethodException", "Cannot find an overload for \"new\" and "
                          f"the argument count: \"{len(args)}\".")
    return PSObject()


def _new_list(interp, args):
    if len(args) > 1:
        raise Unsupported("List[T]::new() with more than one argument")
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        return GenericList()
    return GenericList(_flat(args[0]) if args else [])


def _new_memory_stream(interp, args):
    if not args:
        return MemoryStream()
    if len(args) == 1 and isinstance(args[0], (bytes, bytearray, list)):
        return MemoryStream(bytes(args[0]))
    raise Unsupported("MemoryStream::new() with these arguments")


def _new_utf8(interp, args):
    if len(args) > 2:
        raise Unsupported("UTF8Encoding::new() with more than two arguments")
    return TextEncoding("utf-8", bom=to_bool(args[0]) if args else False)


def _new_exception(fullname: str):
    def new(interp, args):
        message = to_str(args[0]) if args else f"Exception of type '{fullname}' was thrown."
        inner = args[1] if len(args) > 1 and isinstance(args[1], PSExceptionObject) else None
        return PSExceptionObject(fullname, message, inner=inner)
    return new


def _new_credential(interp, args):
    if len(args) != 2 or not isinstance(args[1], SecureString):
        raise DotNetError("System.Management.Automation.MethodException",
                          f'Cannot find an overload for "PSCredential" and the argument count: "{len(args)}".')
    return PSCredential(to_str(args[0]), args[1])


def _new_error_record(interp, args):
    if len(args) != 4 or not isinstance(args[0], PSExceptionObject):
        raise Unsupported("ErrorRecord::new() with these arguments")
    return ErrorRecord(args[0], to_str(args[1]), to_str(args[2]) if not isinstance(args[2], int) else "NotSpecified",
                       args[3])


def _temp_path(interp, args):
    # .NET's GetTempPath: %TMP%, then %TEMP%, then %USERPROFILE%, with a trailing backslash.
    base = interp.ctx.getenv("TMP") or interp.ctx.getenv("TEMP") or interp.ctx.getenv("USERPROFILE") or "C:\\Windows"
    return base.rstrip("\\") + "\\"


def _fs_call(fn):
    def wrapper(interp, args):
        try:
            return fn(interp, args)
        except FsError as e:
            text = str(e)
            kind = "System.IO.DirectoryNotFoundException" if "part of the path" in text else (
                "System.UnauthorizedAccessException" if "denied" in text else (
                    "System.IO.FileNotFoundException" if "Could not find file" in text else "System.IO.IOException"))
            raise DotNetError(kind, text) from None
    return wrapper


@_fs_call
def _write_all_text(interp, args):
    if len(args) not in (2, 3):
        raise Unsupported(f"[System.IO.File]::WriteAllText() with {len(args)} arguments")
    path = interp.net_path(to_str(args[0]))
    encoding = args[2] if len(args) == 3 else TextEncoding("utf-8", bom=False)
    if not isinstance(encoding, TextEncoding):
        raise Unsupported(f"[System.IO.File]::WriteAllText() with a {type_name(encoding)} encoding")
    text = "" if args[1] is None else to_str(args[1])
    interp.ctx.check_access(path)
    interp.machine.fs_write(path, encoding.preamble() + text.encode(encoding.codec, "replace"))
    return VOID


@_fs_call
def _read_all_text(interp, args):
    path = interp.net_path(to_str(args[0]))
    data = interp.ctx.read(path)
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(codec, "replace")
    encoding = args[1] if len(args) > 1 else TextEncoding("utf-8")
    return data.decode(encoding.codec, "replace")


@_fs_call
def _read_all_bytes(interp, args):
    return bytes(interp.ctx.read(interp.net_path(to_str(args[0]))))


@_fs_call
def _write_all_bytes(interp, args):
    path = interp.net_path(to_str(args[0]))
    interp.ctx.check_access(path)
    interp.machine.fs_write(path, bytes(args[1] or b""))
    return VOID


@_fs_call
def _file_delete(interp, args):
    path = interp.net_path(to_str(args[0]))
    if interp.machine.fs_isdir(path):
        raise FsError(f"Access to the path '{path}' is denied.")
    interp.machine.fs_remove(path)
    return VOID


def _scriptblock_create(interp, args):
    text = to_str(args[0]) if args else ""
    try:
        ast = parse(text, "")
    except PSParseError as e:
        raise DotNetError("System.Management.Automation.ParseException",
                          f"At line:{e.line} char:1\r\n+ {text.splitlines()[e.line - 1] if text else ''}\r\n"
                          f"{e.message}", "ParseException") from None
    return ScriptBlock(ast, text, "")


def _string_join(interp, args):
    if len(args) < 2:
        raise Unsupported("[string]::Join() with fewer than two arguments")
    items = _flat(args[1]) if len(args) == 2 else args[1:]
    return to_str(args[0]).join(to_str(x) for x in items)


def _expand_env(interp, text: str) -> str:
    def repl(m):
        value = interp.ctx.getenv(m.group(1))
        return m.group(0) if value is None else value
    return re.sub(r"%([^%]+)%", repl, text)


def _env_get(interp, args):
    if len(args) == 2 and to_str(args[1]).lower() != "process":
        raise Unsupported(f"[Environment]::GetEnvironmentVariable(name, '{to_str(args[1])}')")
    return interp.ctx.getenv(to_str(args[0]))


def _env_set(interp, args):
    if len(args) == 3 and to_str(args[2]).lower() != "process":
        raise Unsupported(f"[Environment]::SetEnvironmentVariable(name, value, '{to_str(args[2])}')")
    interp.ctx.setenv(to_str(args[0]), None if args[1] is None or args[1] == "" else to_str(args[1]))
    return VOID


def _math(fn):
    return lambda interp, args: fn(*[to_number(a, "System.Double") for a in args])


def _round(*a):
    if len(a) == 1:
        return float(round(a[0]))
    return round(a[0], int(a[1]))


def _parse_int(bits: int):
    def parse_fn(interp, args):
        text = to_str(args[0]).strip()
        if not re.fullmatch(r"[+-]?\d+", text):
            raise DotNetError("System.FormatException", _FORMAT_ERROR)
        n = int(text)
        if not -(2 ** (bits - 1)) <= n < 2 ** (bits - 1):
            raise DotNetError("System.OverflowException", f"Value was either too large or too small for an "
                                                          f"Int{bits}.")
        return n
    return parse_fn


_EXCEPTION_TYPES = [name for name in _EXC_BASE if name != "System.Object"] + ["System.Exception"]


def _exception_entries() -> dict:
    entries = {}
    for full in _EXCEPTION_TYPES:
        info = {"new": _new_exception(full)}
        entries[full.lower()] = (full, info)
        short = full.rsplit(".", 1)[-1].lower()
        entries.setdefault(short, (full, info))
        if full.startswith("System."):
            entries.setdefault(full[len("System."):].lower(), (full, info))
    return entries


TYPES: dict = {
    **_exception_entries(),
    "object": ("System.Object", {"is": lambda v: v is not None and v is not VOID, "convert": lambda i, v: v}),
    "psobject": ("System.Management.Automation.PSObject", {"is": lambda v: v is not None,
                                                           "convert": lambda i, v: v, "new": _new_object}),
    "pscustomobject": ("System.Management.Automation.PSCustomObject", {
        "is": lambda v: isinstance(v, PSObject), "convert": _conv_pscustomobject}),
    "string": ("System.String", {"is": lambda v: isinstance(v, str), "convert": _conv_string}),
    "char": ("System.Char", {"is": lambda v: False, "convert": _conv_char, "value_type": True}),
    "int": ("System.Int32", {"is": lambda v: isinstance(v, int) and not isinstance(v, bool) and -2**31 <= v < 2**31,
                             "convert": lambda i, v: to_int(v), "value_type": True}),
    "long": ("System.Int64", {"is": lambda v: isinstance(v, int) and not isinstance(v, bool) and not
                              -2**31 <= v < 2**31, "convert": lambda i, v: to_int(v, 64), "value_type": True}),
    "int16": ("System.Int16", {"is": lambda v: False, "convert": lambda i, v: to_int(v), "value_type": True}),
    "uint16": ("System.UInt16", {"is": lambda v: False, "convert": _conv_unsigned(16), "value_type": True}),
    "uint32": ("System.UInt32", {"is": lambda v: False, "convert": _conv_unsigned(32), "value_type": True}),
    "uint64": ("System.UInt64", {"is": lambda v: False, "convert": _conv_unsigned(64), "value_type": True}),
    "byte": ("System.Byte", {"is": lambda v: False, "convert": _conv_byte, "value_type": True}),
    "double": ("System.Double", {"is": lambda v: isinstance(v, float), "convert": _conv_double, "value_type": True}),
    "bool": ("System.Boolean", {"is": lambda v: isinstance(v, bool), "convert": _conv_bool, "value_type": True}),
    "switch": ("System.Management.Automation.SwitchParameter", {"is": lambda v: False, "convert": _conv_bool,
                                                                "value_type": True}),
    "array": ("System.Array", {"is": lambda v: isinstance(v, (list, tuple, bytes)) and not isinstance(v, GenericList),
                               "convert": lambda i, v: None if v is None else (list(v) if is_enumerable(v) else [v])}),
    "hashtable": ("System.Collections.Hashtable", {"is": lambda v: isinstance(v, PSDict) and not v.ordered,
                                                   "convert": _conv_hashtable}),
    "ordered": ("System.Collections.Specialized.OrderedDictionary", {
        "is": lambda v: isinstance(v, PSDict) and v.ordered}),
    "collections.specialized.ordereddictionary": ("System.Collections.Specialized.OrderedDictionary", {
        "is": lambda v: isinstance(v, PSDict) and v.ordered}),
    "collections.idictionary": ("System.Collections.IDictionary", {"is": lambda v: isinstance(v, PSDict)}),
    "collections.ilist": ("System.Collections.IList", {"is": lambda v: isinstance(v, (list, tuple, bytes))}),
    "collections.ienumerable": ("System.Collections.IEnumerable", {
        "is": lambda v: isinstance(v, (list, tuple, bytes, str, PSDict))}),
    "scriptblock": ("System.Management.Automation.ScriptBlock", {"is": lambda v: isinstance(v, ScriptBlock),
                                                                 "convert": _conv_scriptblock,
                                                                 "statics": {"create": _scriptblock_create}}),
    "securestring": ("System.Security.SecureString", {"is": lambda v: isinstance(v, SecureString),
                                                      "convert": _conv_securestring}),
    "security.securestring": ("System.Security.SecureString", {"is": lambda v: isinstance(v, SecureString),
                                                               "convert": _conv_securestring}),
    "pscredential": ("System.Management.Automation.PSCredential", {"is": lambda v: isinstance(v, PSCredential),
                                                                   "new": _new_credential}),
    "management.automation.pscredential": ("System.Management.Automation.PSCredential", {
        "is": lambda v: isinstance(v, PSCredential), "new": _new_credential}),
    "datetime": ("System.DateTime", {"is": lambda v: isinstance(v, PSDateTime), "convert": _conv_datetime,
                                     "value_type": True, "props": {
                                         "now": lambda i: PSDateTime(datetime.datetime.now(datetime.UTC), "Local"),
                                         "utcnow": lambda i: PSDateTime(datetime.datetime.now(datetime.UTC), "Utc")}}),
    "guid": ("System.Guid", {"is": lambda v: isinstance(v, GuidValue), "convert": _conv_guid, "value_type": True,
                             "statics": {"newguid": lambda i, a: GuidValue(uuid.uuid4())},
                             "props": {"empty": lambda i: GuidValue(uuid.UUID(int=0))}}),
    "version": ("System.Version", {"is": lambda v: isinstance(v, Version), "convert": _conv_version,
                                   "new": lambda i, a: Version(".".join(to_str(x) for x in a))}),
    "ref": ("System.Management.Automation.PSReference", {"is": lambda v: isinstance(v, PSRef),
                                                         "convert": _conv_ref}),
    "void": ("System.Void", {"is": lambda v: False, "convert": lambda i, v: VOID}),
    "management.automation.errorrecord": ("System.Management.Automation.ErrorRecord", {
        "is": lambda v: isinstance(v, ErrorRecord), "new": _new_error_record}),
    "console": ("System.Console", {
        "statics": {"openstandardinput": lambda i, a: StdinStream(),
                    "writeline": lambda i, a: ConsoleWriter(False).ps_call(i, "WriteLine", a),
                    "write": lambda i, a: ConsoleWriter(False).ps_call(i, "Write", a)},
        "props": {"error": lambda i: ConsoleWriter(True), "out": lambda i: ConsoleWriter(False),
                  "outputencoding": lambda i: TextEncoding("utf-8", bom=False),
                  "inputencoding": lambda i: TextEncoding("utf-8", bom=False)}}),
    "io.path": ("System.IO.Path", {"statics": {
        "gettemppath": _temp_path,
        "combine": lambda i, a: ntpath.join(*[to_str(x) for x in a]),
        "getfilename": lambda i, a: ntpath.basename(to_str(a[0])),
        "getdirectoryname": lambda i, a: ntpath.dirname(to_str(a[0])),
        "getextension": lambda i, a: ntpath.splitext(to_str(a[0]))[1],
        "getfilenamewithoutextension": lambda i, a: ntpath.splitext(ntpath.basename(to_str(a[0])))[0],
        "getrandomfilename": lambda i, a: f"{uuid.uuid4().hex[:8]}.{uuid.uuid4().hex[:3]}"},
        "props": {"directoryseparatorchar": lambda i: "\\", "pathseparator": lambda i: ";"}}),
    "io.file": ("System.IO.File", {"statics": {
        "writealltext": _write_all_text, "readalltext": _read_all_text, "readallbytes": _read_all_bytes,
        "writeallbytes": _write_all_bytes, "delete": _file_delete,
        "exists": lambda i, a: i.machine.fs_isfile(i.net_path(to_str(a[0]))) if a and a[0] else False}}),
    "io.directory": ("System.IO.Directory", {"statics": {
        "exists": lambda i, a: i.machine.fs_isdir(i.net_path(to_str(a[0]))) if a and a[0] else False}}),
    "io.memorystream": ("System.IO.MemoryStream", {"is": lambda v: isinstance(v, MemoryStream),
                                                   "new": _new_memory_stream}),
    "text.encoding": ("System.Text.Encoding", {"is": lambda v: isinstance(v, TextEncoding), "props": {
        "utf8": lambda i: TextEncoding("utf-8", bom=True), "unicode": lambda i: TextEncoding("utf-16"),
        "ascii": lambda i: TextEncoding("us-ascii", bom=False),
        "bigendianunicode": lambda i: TextEncoding("utf-16BE"),
        "utf32": lambda i: TextEncoding("utf-32"),
        # guess: the ANSI code page of the simulated hosts is Windows-1252
        "default": lambda i: TextEncoding("Windows-1252", bom=False)}}),
    "text.utf8encoding": ("System.Text.UTF8Encoding", {"is": lambda v: isinstance(v, TextEncoding) and
                                                       v.web_name == "utf-8", "new": _new_utf8}),
    "collections.generic.list[object]": ("System.Collections.Generic.List`1[System.Object]", {
        "is": lambda v: isinstance(v, GenericList), "convert": _conv_list, "new": _new_list}),
    "collections.arraylist": ("System.Collections.ArrayList", {
        "is": lambda v: isinstance(v, GenericList), "convert": _conv_list, "new": _new_list}),
    "environment": ("System.Environment", {
        "statics": {"getenvironmentvariable": _env_get, "setenvironmentvariable": _env_set,
                    "expandenvironmentvariables": lambda i, a: _expand_env(i, to_str(a[0]))},
        "props": {"newline": lambda i: "\r\n", "machinename": lambda i: i.machine.state["hostname"],
                  "username": lambda i: i.ctx.getenv("USERNAME"),
                  "currentdirectory": lambda i: i.process_cwd,
                  "is64bitoperatingsystem": lambda i: i.machine.state["os"]["architecture"].startswith("64"),
                  "is64bitprocess": lambda i: i.machine.state["os"]["architecture"].startswith("64") and not
                  i.ctx.wow64}}),
    "math": ("System.Math", {"statics": {
        "round": _math(_round), "floor": _math(lambda x: float(int(x // 1))),
        "ceiling": _math(lambda x: float(-int(-x // 1))), "abs": _math(abs), "max": _math(max),
        "min": _math(min), "pow": _math(lambda x, y: float(x ** y)), "truncate": _math(lambda x: float(int(x)))}}),
}
TYPES["int32"] = TYPES["int"]
TYPES["int64"] = TYPES["long"]
TYPES["boolean"] = TYPES["bool"]
TYPES["system.int32"] = TYPES["int"]
TYPES["string"][1]["statics"] = {
    "isnullorempty": lambda i, a: a[0] is None or to_str(a[0]) == "",
    "isnullorwhitespace": lambda i, a: a[0] is None or to_str(a[0]).strip() == "",
    "join": _string_join, "format": lambda i, a: format_string(i, to_str(a[0]), list(a[1:]) if len(a) != 2 or
                                                               not is_enumerable(a[1]) else list(a[1])),
    "concat": lambda i, a: "".join(to_str(x) for x in a)}
TYPES["string"][1]["props"] = {"empty": lambda i: ""}
TYPES["int"][1]["statics"] = {"parse": _parse_int(32)}
TYPES["int"][1]["props"] = {"maxvalue": lambda i: 2**31 - 1, "minvalue": lambda i: -2**31}
TYPES["long"][1]["statics"] = {"parse": _parse_int(64)}
TYPES["long"][1]["props"] = {"maxvalue": lambda i: 2**63 - 1, "minvalue": lambda i: -2**63}
for _alias, _target in (("management.automation.switchparameter", "switch"),
                        ("collections.hashtable", "hashtable"), ("management.automation.scriptblock", "scriptblock"),
                        ("management.automation.pscustomobject", "pscustomobject"),
                        ("management.automation.psobject", "psobject"), ("errorrecord", "management.automation.errorrecord"),
                        ("collections.generic.list[psobject]", "collections.generic.list[object]"),
                        ("collections.generic.list[string]", "collections.generic.list[object]")):
    TYPES[_alias] = TYPES[_target]


def resolve_type(interp, name: str) -> TypeRef:
    raw = name.strip()
    low = re.sub(r"\s+", "", raw.lower())
    if low.endswith("[]"):
        element = resolve_type(interp, raw[:-2])
        return TypeRef(element.name + "[]", element.fullname + "[]",
                       {"is": lambda v, e=element: isinstance(v, (list, tuple)) and not isinstance(v, GenericList) and
                        (e.fullname == "System.Object" or all(is_instance(x, e) for x in v))
                        if e.fullname != "System.Byte" else isinstance(v, (bytes, bytearray))})
    key = low[len("system."):] if low.startswith("system.") else low
    entry = TYPES.get(key) or TYPES.get(low)
    if entry is None:
        m = re.fullmatch(r"(?:collections\.generic\.)?list\[(.+)\]", key)
        if m:
            element = resolve_type(interp, m.group(1))
            entry = (f"System.Collections.Generic.List`1[{element.fullname}]",
                     {"is": lambda v: isinstance(v, GenericList), "convert": _conv_list, "new": _new_list})
    if entry is None:
        raise Unsupported(f"the type [{raw}] is not emulated", interp.line if interp else None)
    fullname, info = entry
    return TypeRef(fullname.rsplit(".", 1)[-1], fullname, info)


def type_of(interp, value) -> TypeRef:
    full = type_name(value)
    if value is None:
        raise runtime_error("You cannot call a method on a null-valued expression.", "InvokeMethodOnNull",
                            "InvalidOperation")
    return TypeRef(full.rsplit(".", 1)[-1], full, {"is": lambda v, f=full: type_name(v) == f})


def static_member(interp, ref: TypeRef, name: str):
    prop = (ref.info.get("props") or {}).get(name.lower())
    if prop is None:
        raise Unsupported(f"[{ref.fullname}]::{name} is not emulated", interp.line)
    return prop(interp)


def call_static(interp, ref: TypeRef, name: str, args: list):
    low = name.lower()
    if low == "new":
        ctor = ref.info.get("new")
        if ctor is None:
            raise Unsupported(f"[{ref.fullname}]::new() is not emulated", interp.line)
        return _dotnet_call("new", args, lambda: ctor(interp, args))
    fn = (ref.info.get("statics") or {}).get(low)
    if fn is None:
        raise Unsupported(f"[{ref.fullname}]::{name}() is not emulated", interp.line)
    return _dotnet_call(name, args, lambda: fn(interp, args))


# cmdlets ---------------------------------------------------------------------------------------------------

class P:
    """A cmdlet parameter."""

    def __init__(self, name: str, pos: int | None = None, switch: bool = False, aliases: tuple = (),
                 remaining: bool = False):
        self.name, self.pos, self.switch, self.aliases, self.remaining = name, pos, switch, aliases, remaining


class Cmdlet:
    def __init__(self, name: str, fn, params: list, *, pipeline: bool = False, should_process: bool = False,
                 module: str = "Microsoft.PowerShell.Commands", refuse: tuple = ()):
        self.name, self.fn, self.params, self.pipeline, self.should_process = name, fn, params, pipeline, \
            should_process
        # Parameters the real cmdlet has that the simulated one does not emulate: refused by name
        # (an unknown parameter is a binding error, as on Windows).
        self.refuse = tuple(r.lower() for r in refuse)
        self.fqid = f"{module}.{name.replace('-', '')}Command"


class CmdletCall:
    def __init__(self, interp: Interpreter, spec: Cmdlet, sink, el: Node):
        self.interp, self.spec, self.sink, self.el = interp, spec, sink, el
        self.bound: dict = {}
        self.error_action: str | None = None
        self.warning_action: str | None = None
        self.verbose: bool | None = None
        self.debug: bool | None = None
        self.whatif_flag: bool | None = None
        self.preferences: dict = {}
        self.input = None

    def binding_error(self, message: str, fqid: str) -> PSError:
        return PSError(new_error("System.Management.Automation.ParameterBindingException", message,
                                 f"{fqid},{self.spec.fqid}", "InvalidArgument", command=self.spec.name,
                                 activity=self.spec.name))

    def bind(self, args: list) -> None:
        params = self.spec.params
        positional: list = []
        i = 0
        while i < len(args):
            a = args[i]
            if a[0] != "name":
                positional.append(a[1])
                i += 1
                continue
            pname, low = a[1], a[1].lower()
            matches = [p for p in params if p.name.lower() == low or low in (x.lower() for x in p.aliases)]
            if not matches:
                matches = [p for p in params if p.name.lower().startswith(low)]
            common = _COMMON.get(low) or (_SHOULD.get(low) if self.spec.should_process else None)
            if not matches and not common:
                starts = [v for k, v in _COMMON.items() if k.startswith(low)] + \
                    ([v for k, v in _SHOULD.items() if k.startswith(low)] if self.spec.should_process else [])
                if len(set(starts)) == 1:
                    common = starts[0]
            if common and not matches:
                if common in ("Verbose", "Debug", "WhatIf", "Confirm"):
                    value = to_bool(a[2]) if a[3] else True
                else:
                    if a[3]:
                        value = a[2]
                    elif i + 1 < len(args) and args[i + 1][0] == "pos":
                        i += 1
                        value = args[i][1]
                    else:
                        raise self.binding_error(f"Missing an argument for parameter '{common}'. Specify a parameter "
                                                 "of type 'System.Management.Automation.ActionPreference' and try "
                                                 "again.", "MissingArgument")
                self._common(common, value)
                i += 1
                continue
            if not matches and not common and any(r.startswith(low) for r in self.spec.refuse):
                raise Unsupported(f"{self.interp.stmt_text or self.el.text} (the parameter -{pname} of "
                                  f"{self.spec.name} is not emulated)", self.el.line)
            if len(matches) > 1:
                raise self.binding_error(f"Parameter cannot be processed because the parameter name '{pname}' is "
                                         "ambiguous. Possible matches include: "
                                         + " ".join(f"-{p.name}" for p in matches) + ".", "AmbiguousParameter")
            if not matches:
                raise self.binding_error(f"A parameter cannot be found that matches parameter name '{pname}'.",
                                         "NamedParameterNotFound")
            p = matches[0]
            if p.switch:
                value = to_bool(a[2]) if a[3] else True
            elif a[3]:
                value = a[2]
            elif i + 1 < len(args) and args[i + 1][0] == "pos":
                i += 1
                value = args[i][1]
            else:
                raise self.binding_error(f"Missing an argument for parameter '{p.name}'. Specify a parameter of type "
                                         "'System.Object' and try again.", "MissingArgument")
            if p.name in self.bound:
                raise self.binding_error(f"Cannot bind parameter because parameter '{p.name}' is specified more than "
                                         "once.", "ParameterAlreadyBound")
            self.bound[p.name] = [value] if p.remaining else value
            i += 1
        slots = sorted([p for p in params if p.pos is not None], key=lambda p: p.pos)
        for value in positional:
            slot = next((p for p in slots if p.name not in self.bound or p.remaining), None)
            if slot is None:
                raise self.binding_error(f"A positional parameter cannot be found that accepts argument "
                                         f"'{to_str(value)}'.", "PositionalParameterNotFound")
            if slot.remaining:
                self.bound.setdefault(slot.name, []).append(value)
            else:
                self.bound[slot.name] = value

    def _common(self, name: str, value) -> None:
        interp = self.interp
        if name == "ErrorAction":
            self.error_action = interp.action_value(value, "ErrorAction")
        elif name == "WarningAction":
            self.warning_action = interp.action_value(value, "WarningAction")
        elif name == "InformationAction":
            interp.action_value(value, "InformationAction")
        elif name == "Verbose":
            self.verbose = bool(value)
        elif name == "Debug":
            self.debug = bool(value)
        elif name == "WhatIf":
            self.whatif_flag = bool(value)
        elif name == "Confirm":
            pass   # nothing prompts on the simulated host
        else:
            raise Unsupported(f"the common parameter -{name}", interp.line)

    def get(self, name: str, default=None):
        return self.bound.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.bound

    def out(self, value) -> None:
        self.sink.append(value)

    def error(self, type_name_: str, message: str, fqid: str, category: str = "NotSpecified", target=None,
              **kw) -> None:
        record = new_error(type_name_, message, f"{fqid},{self.spec.fqid}", category, target,
                           command=self.spec.name, activity=self.spec.name, **kw)
        self.interp.write_error(record, self.error_action)

    def terminate(self, type_name_: str, message: str, fqid: str, category: str = "NotSpecified", target=None,
                  **kw) -> PSError:
        return PSError(new_error(type_name_, message, f"{fqid},{self.spec.fqid}", category, target,
                                 command=self.spec.name, activity=self.spec.name, **kw))

    def whatif(self, action: str, target: str) -> bool:
        """True (and the What if: line) when -WhatIf or $WhatIfPreference says not to act."""
        flag = self.whatif_flag if self.whatif_flag is not None else to_bool(self.interp.get_var("WhatIfPreference"))
        if flag:
            self.interp.host_write(f'What if: Performing the operation "{action}" on target "{target}".',
                                   source="WhatIf")
        return flag

    def not_found(self, path: str) -> None:
        self.error("System.Management.Automation.ItemNotFoundException",
                   f"Cannot find path '{path}' because it does not exist.", "PathNotFound", "ObjectNotFound", path,
                   target_name=path, target_type="String")

    def path_arg(self, *names: str) -> list[str]:
        for name in names:
            if name in self.bound:
                value = self.bound[name]
                if value is None or value == "":
                    what = "null" if value is None else "an empty string"
                    raise self.binding_error(f"Cannot bind argument to parameter '{name}' because it is {what}.",
                                             "ParameterArgumentValidationErrorNullNotAllowed")
                paths = [to_str(v) for v in _flat(value)]
                if name == "Path" and any(re.search(r"[*?\[]", p) for p in paths):
                    raise Unsupported(f"a wildcard path {paths} (use -LiteralPath)", self.interp.line)
                return paths
        return []


_REG = re.compile(r"(?i)^(?:registry::|microsoft\.powershell\.core\\registry::)?"
                  r"(hklm:|hkcu:|hkey_local_machine|hkey_current_user|hkey_users|hku:|hkey_classes_root)(\\.*|$)")


def is_registry(path: str) -> bool:
    return bool(_REG.match(path))


def reg_path(interp, path: str) -> str:
    """The machine's registry key for a PowerShell registry path."""
    m = _REG.match(path)
    hive, rest = m.group(1).lower(), m.group(2)
    if hive in ("hkcu:", "hkey_current_user"):
        return f"HKEY_USERS\\{interp.machine.account_sid(interp.ctx.user)}{rest}"
    if hive in ("hku:",):
        return f"HKEY_USERS{rest}"
    if hive == "hkey_classes_root":
        raise Unsupported(f"the registry path {path} (HKEY_CLASSES_ROOT is not emulated)", interp.line)
    return ("HKEY_LOCAL_MACHINE" if hive == "hklm:" else m.group(1)) + rest


def reg_value_to_ps(interp, value: dict):
    kind, data = value["type"], value["data"]
    if kind == "REG_DWORD":
        n = int(data) & 0xFFFFFFFF
        return n - 2**32 if n >= 2**31 else n
    if kind == "REG_QWORD":
        n = int(data) & 0xFFFFFFFFFFFFFFFF
        return n - 2**64 if n >= 2**63 else n
    if kind == "REG_MULTI_SZ":
        return [str(x) for x in (data or [])]
    if kind in ("REG_BINARY", "REG_NONE"):
        return bytes(data or [])
    if kind == "REG_EXPAND_SZ":
        return _expand_env(interp, str(data or ""))
    return "" if data is None else str(data)


def _provider_path(rec_path: str) -> str:
    return f"Microsoft.PowerShell.Core\\Registry::{rec_path}"


def c_get_item_property(interp, call: CmdletCall) -> None:
    names = [to_str(n) for n in _flat(call.get("Name"))] if call.has("Name") else None
    for path in call.path_arg("Path", "LiteralPath"):
        if not is_registry(path):
            raise Unsupported(f"Get-ItemProperty on the file system path {path}", interp.line)
        rec = interp.machine.reg_key(reg_path(interp, path))
        if rec is None:
            call.not_found(path)
            continue
        props: dict = {}
        if names is None:
            for name, value in rec["values"].items():
                props[name or "(default)"] = reg_value_to_ps(interp, value)
        else:
            for name in names:
                hit = next((n for n in rec["values"] if n.lower() == name.lower()), None)
                if hit is None:
                    call.error("System.Management.Automation.PSArgumentException",
                               f"Property {name} does not exist at path {rec['path']}.",
                               "System.Management.Automation.PSArgumentException", "InvalidArgument", name,
                               target_name=name, target_type="String")
                    continue
                props[hit] = reg_value_to_ps(interp, rec["values"][hit])
        if names is not None and not props:
            continue
        parent, _sep, child = rec["path"].rpartition("\\")
        props.update(PSPath=_provider_path(rec["path"]), PSParentPath=_provider_path(parent), PSChildName=child,
                     PSDrive=path.split(":")[0] if ":" in path.split("\\")[0] else "HKLM",
                     PSProvider="Microsoft.PowerShell.Core\\Registry")
        call.out(PSObject(props))


def c_get_item_property_value(interp, call: CmdletCall) -> None:
    out: list = []
    sub = CmdletCall(interp, call.spec, out, call.el)
    sub.bound, sub.error_action = dict(call.bound), call.error_action
    c_get_item_property(interp, sub)
    for obj in out:
        for name in _flat(call.get("Name")):
            call.out(obj.props.get(to_str(name)))


_REG_KINDS = {"string": "REG_SZ", "expandstring": "REG_EXPAND_SZ", "dword": "REG_DWORD", "qword": "REG_QWORD",
              "multistring": "REG_MULTI_SZ", "binary": "REG_BINARY", "none": "REG_NONE"}


def _reg_data(kind: str, value):
    if kind in ("REG_DWORD", "REG_QWORD"):
        return to_int(value, 64) & (0xFFFFFFFF if kind == "REG_DWORD" else 0xFFFFFFFFFFFFFFFF)
    if kind == "REG_MULTI_SZ":
        return [to_str(x) for x in _flat(value)]
    if kind in ("REG_BINARY", "REG_NONE"):
        return list(bytes(value)) if isinstance(value, (bytes, bytearray)) else [to_int(x) for x in _flat(value)]
    return to_str(value)


def c_set_item_property(interp, call: CmdletCall, new: bool = False) -> None:
    name = to_str(call.get("Name"))
    value = call.get("Value")
    kind_arg = call.get("PropertyType") if new else call.get("Type")
    for path in call.path_arg("Path", "LiteralPath"):
        if not is_registry(path):
            raise Unsupported(f"{call.spec.name} on the file system path {path}", interp.line)
        key = reg_path(interp, path)
        rec = interp.machine.reg_key(key)
        if rec is None:
            call.not_found(path)
            continue
        existing = next((v for n, v in rec["values"].items() if n.lower() == name.lower()), None)
        if new and existing is not None and not call.get("Force"):
            call.error("System.IO.IOException", "The property already exists.", "System.IO.IOException",
                       "ResourceExists", path)
            continue
        if kind_arg is not None:
            kind = _REG_KINDS.get(to_str(kind_arg).lower())
            if kind is None:
                raise Unsupported(f"-{'PropertyType' if new else 'Type'} {to_str(kind_arg)}", interp.line)
        elif existing is not None:
            kind = existing["type"]
        else:
            # guess: a new value takes its type from the .NET value, as RegistryKey.SetValue does
            kind = "REG_DWORD" if isinstance(value, int) and not isinstance(value, bool) and -2**31 <= value < 2**31 \
                else ("REG_MULTI_SZ" if isinstance(value, list) and not new else "REG_SZ")
        if call.whatif("Set Property" if not new else "New Property", f"Item: {rec['path']} Property: {name}"):
            continue
        interp.machine.reg_set(key, name, kind, _reg_data(kind, value))
        if call.get("PassThru") or new:
            call.out(PSObject({name: reg_value_to_ps(interp, {"type": kind, "data": _reg_data(kind, value)}),
                               "PSPath": _provider_path(rec["path"])}))


def c_remove_item_property(interp, call: CmdletCall) -> None:
    for path in call.path_arg("Path", "LiteralPath"):
        key = reg_path(interp, path) if is_registry(path) else None
        if key is None:
            raise Unsupported(f"Remove-ItemProperty on the file system path {path}", interp.line)
        if interp.machine.reg_key(key) is None:
            call.not_found(path)
            continue
        for name in _flat(call.get("Name")):
            if call.whatif("Remove Property", f"Item: {path} Property: {to_str(name)}"):
                continue
            if not interp.machine.reg_delete_value(key, to_str(name)):
                call.error("System.Management.Automation.PSArgumentException",
                           f"Property {to_str(name)} does not exist at path {path}.",
                           "System.Management.Automation.PSArgumentException", "InvalidArgument", to_str(name))


def _fs_item(interp, path: str):
    rec = interp.machine.fs_get(path)
    return FsItem(rec["path"] if rec else path, rec) if rec else None


def c_get_item(interp, call: CmdletCall) -> None:
    for path in call.path_arg("Path", "LiteralPath"):
        if is_registry(path):
            rec = interp.machine.reg_key(reg_path(interp, path))
            if rec is None:
                call.not_found(path)
            else:
                call.out(RegistryItem(path, rec))
            continue
        full = interp.fs_path(path)
        item = _fs_item(interp, full) if interp.ctx.exists(full) else None
        if item is None:
            call.not_found(full)
        else:
            call.out(item)


def c_get_child_item(interp, call: CmdletCall) -> None:
    """The file system only, one level (no -Recurse): the items under each folder, or the file itself;
    -Filter as the file system provider's wildcard on the name."""
    pattern = to_str(call.get("Filter") or "*")
    for path in call.path_arg("Path", "LiteralPath") or [interp.fs_path(".")]:
        if is_registry(path):
            raise Unsupported("Get-ChildItem on the registry", interp.line)
        full = interp.fs_path(path)
        if not interp.ctx.exists(full):
            call.not_found(full)
            continue
        if not interp.machine.fs_isdir(full):
            recs = [interp.machine.fs_get(full)]
        else:
            recs = sorted(interp.machine.fs_children(full), key=lambda r: r["path"].lower())
        for rec in recs:
            if fnmatch.fnmatchcase(rec["path"].rsplit("\\", 1)[-1].lower(), pattern.lower()):
                call.out(FsItem(rec["path"], rec))


def c_test_path(interp, call: CmdletCall) -> None:
    kind = to_str(call.get("PathType") or "Any").lower()
    if kind not in ("any", "leaf", "container"):
        raise call.binding_error(f"Cannot bind parameter 'PathType'. Cannot convert value \"{kind}\".",
                                 "CannotConvertArgumentNoMessage")
    if call.get("IsValid"):
        raise Unsupported("Test-Path -IsValid", interp.line)
    for path in call.path_arg("Path", "LiteralPath"):
        if is_registry(path):
            exists = interp.machine.reg_key(reg_path(interp, path)) is not None
            call.out(exists and kind != "leaf")
            continue
        full = interp.fs_path(path)
        if not interp.ctx.exists(full):
            call.out(False)
            continue
        is_dir = interp.machine.fs_isdir(full) or (full.startswith("\\\\") and interp.machine.share_of(full) and
                                                   interp.machine.fs_get(full) is None)
        call.out({"any": True, "leaf": not is_dir, "container": bool(is_dir)}[kind])


def c_new_item(interp, call: CmdletCall) -> None:
    kind = to_str(call.get("ItemType") or "").lower()
    for path in call.path_arg("Path"):
        if call.get("Name"):
            path = path.rstrip("\\") + "\\" + to_str(call.get("Name"))
        if is_registry(path):
            key = reg_path(interp, path)
            if interp.machine.reg_key(key) is not None and not call.get("Force"):
                call.error("System.IO.IOException", "A key at this path already exists.", "System.IO.IOException",
                           "ResourceExists", path)
                continue
            if call.whatif("New Item", f"Item: {path}"):
                continue
            rec = interp.machine.reg_create_key(key)
            call.out(RegistryItem(path, rec))
            continue
        full = interp.fs_path(path)
        if kind not in ("directory", "file", ""):
            raise Unsupported(f"New-Item -ItemType {kind}", interp.line)
        exists = interp.machine.fs_exists(full)
        if exists and not call.get("Force"):
            call.error("System.IO.IOException", f"An item with the specified name {full} already exists.",
                       "DirectoryExist" if kind == "directory" else "NewItemIOError", "ResourceExists", full)
            continue
        if call.whatif("Create Directory" if kind == "directory" else "Create File", f"Destination: {full}"):
            continue
        try:
            interp.ctx.check_access(full)
            if kind == "directory":
                interp.machine.fs_mkdir(full)
            else:
                if call.get("Force"):
                    interp.machine.fs_mkdir(ntpath.dirname(full))
                value = call.get("Value")
                interp.machine.fs_write(full, ("" if value is None else to_str(value)).encode("cp1252", "replace"))
        except FsError as e:
            call.error("System.IO.IOException", str(e), "NewItemIOError", "WriteError", full)
            continue
        call.out(_fs_item(interp, full))


def c_remove_item(interp, call: CmdletCall) -> None:
    for path in call.path_arg("Path", "LiteralPath"):
        if is_registry(path):
            key = reg_path(interp, path)
            if interp.machine.reg_key(key) is None:
                call.not_found(path)
                continue
            if interp.machine.reg_subkeys(key) and not call.get("Recurse"):
                raise Unsupported(f"Remove-Item of the registry key {path} with subkeys and without -Recurse (it "
                                  "would prompt)", interp.line)
            if not call.whatif("Remove Key", path):
                interp.machine.reg_delete_key(key)
            continue
        full = interp.fs_path(path)
        if not interp.ctx.exists(full):
            call.not_found(full)
            continue
        if interp.machine.fs_isdir(full) and interp.machine.fs_children(full) and not call.get("Recurse"):
            call.error("System.Management.Automation.PSInvalidOperationException",
                       "Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.",
                       "RemoveItemUnauthorizedAccessError", "InvalidOperation", full)
            continue
        if call.whatif("Remove Directory" if interp.machine.fs_isdir(full) else "Remove File", full):
            continue
        interp.machine.fs_remove(full, recursive=True)


def c_join_path(interp, call: CmdletCall) -> None:
    if call.get("Resolve"):
        raise Unsupported("Join-Path -Resolve", interp.line)
    child = to_str(call.get("ChildPath") or "")
    for base in call.path_arg("Path"):
        m = re.match(r"^([A-Za-z]):", base)
        if m:
            letter = m.group(1).upper()
            drives = {d["letter"].upper() for d in interp.machine.state.get("disks", [])} | {
                k[0] for k in interp.ctx.session.connections if k.endswith(":")}
            if letter not in drives:
                raise call.terminate("System.Management.Automation.DriveNotFoundException",
                                     f"Cannot find drive. A drive with the name '{letter}' does not exist.",
                                     "DriveNotFound", "ObjectNotFound", letter)
        if not child:
            call.out(base)
        elif not base:
            call.out(child)
        else:
            call.out(base.rstrip("\\/") + "\\" + child.lstrip("\\/"))


def c_split_path(interp, call: CmdletCall) -> None:
    for path in [to_str(p) for p in _flat(call.get("Path"))]:
        if call.get("Leaf"):
            call.out(ntpath.basename(path.rstrip("\\")))
        elif call.get("Qualifier"):
            call.out(ntpath.splitdrive(path)[0])
        elif call.get("NoQualifier"):
            call.out(ntpath.splitdrive(path)[1])
        else:
            parent = ntpath.dirname(path.rstrip("\\"))
            call.out(parent if parent != path else "")


def c_new_object(interp, call: CmdletCall) -> None:
    if call.get("ComObject") is not None:
        raise Unsupported(f"New-Object -ComObject {to_str(call.get('ComObject'))}", interp.line)
    tname = to_str(call.get("TypeName"))
    ref = resolve_type(interp, tname)
    args = list(_flat(call.get("ArgumentList"))) if call.has("ArgumentList") else []
    if ref.fullname in ("System.Management.Automation.PSObject", "System.Management.Automation.PSCustomObject"):
        props = call.get("Property")
        call.out(PSObject(props.items() if isinstance(props, PSDict) else None))
        return
    ctor = ref.info.get("new")
    if ctor is None:
        raise Unsupported(f"New-Object {tname} (no constructor emulated)", interp.line)
    try:
        obj = ctor(interp, args)
    except DotNetError as e:
        raise call.terminate("System.Management.Automation.MethodInvocationException",
                             f'Exception calling ".ctor" with "{len(args)}" argument(s): "{e.message}"',
                             "ConstructorInvokedThrowException", "InvalidOperation") from None
    if call.has("Property"):
        raise Unsupported("New-Object -Property on a .NET type", interp.line)
    call.out(obj)


def _json_to_ps(value):
    if isinstance(value, dict):
        obj = PSObject()
        for k, v in value.items():
            if k in obj.props:
                raise ValueError(f"Cannot convert the JSON string because a dictionary that was converted from the "
                                 f"string contains the duplicated keys '{obj.props._d[k.lower()][0]}' and '{k}'.")
            obj.props[k] = _json_to_ps(v)
        return obj
    if isinstance(value, list):
        return [_json_to_ps(v) for v in value]
    # guess: 5.1 gives [decimal] for JSON fractions; a double stands in for it
    return value


def _dup_check(pairs):
    seen = {}
    for k, _v in pairs:
        if k.lower() in seen and seen[k.lower()] != k:
            raise ValueError(f"Cannot convert the JSON string because a dictionary that was converted from the string "
                             f"contains the duplicated keys '{seen[k.lower()]}' and '{k}'.")
        seen[k.lower()] = k
    return dict(pairs)


def c_convertfrom_json(interp, call: CmdletCall) -> None:
    pieces = [call.get("InputObject")] if call.has("InputObject") else list(call.input or [])
    if not pieces or all(p is None for p in pieces):
        raise call.binding_error("Cannot bind argument to parameter 'InputObject' because it is null.",
                                 "ParameterArgumentValidationErrorNullNotAllowed")
    text = "\n".join(to_str(p) for p in pieces)
    if text == "":
        raise call.binding_error("Cannot bind argument to parameter 'InputObject' because it is an empty string.",
                                 "ParameterArgumentValidationErrorEmptyStringNotAllowed")
    try:
        value = json.loads(text, object_pairs_hook=_dup_check)
    except json.JSONDecodeError as e:
        token = text[e.pos:].split()[0][:40] if text[e.pos:].split() else ""
        # guess: JavaScriptSerializer's wording for the common cases
        raise call.terminate("System.ArgumentException", f"Invalid JSON primitive: {token}.",
                             "System.ArgumentException", "NotSpecified", text) from None
    except ValueError as e:
        raise call.terminate("System.InvalidOperationException", str(e), "DuplicateKeysInJsonString",
                             "InvalidOperation", text) from None
    # Windows PowerShell 5.1 writes a JSON array as one object (it does not enumerate it).
    call.out(_json_to_ps(value))


def c_get_cim_instance(interp, call: CmdletCall) -> None:
    from tests.winsim import wmi

    for unsupported in ("ComputerName", "CimSession", "KeyOnly", "Shallow", "InputObject", "ResourceUri"):
        if call.has(unsupported):
            raise Unsupported(f"Get-CimInstance -{unsupported}", interp.line)
    namespace = to_str(call.get("Namespace") or "root\\cimv2")
    query = call.get("Query")
    try:
        if query is not None:
            m = re.fullmatch(r"(?is)\s*select\s+(.+?)\s+from\s+(\w+)(?:\s+where\s+(.+))?\s*", to_str(query))
            if not m:
                raise wmi.WmiError("Invalid query ", 0x80041017, "InvalidArgument")
            props = None if m.group(1).strip() == "*" else [p.strip() for p in m.group(1).split(",")]
            class_name, where = m.group(2), m.group(3)
        else:
            class_name = to_str(call.get("ClassName"))
            if not class_name:
                raise call.binding_error("Cannot process command because of one or more missing mandatory "
                                         "parameters: ClassName.", "MissingMandatoryParameter")
            props = [to_str(p) for p in _flat(call.get("Property"))] if call.has("Property") else None
            where = to_str(call.get("Filter")) if call.get("Filter") else None
        rows = wmi.query(interp.machine, namespace, class_name, props, where, user=interp.ctx.user)
    except wmi.WmiError as e:
        target = namespace if "namespace" in e.message.lower() else f"{namespace}:{call.get('ClassName') or ''}"
        call.error("Microsoft.Management.Infrastructure.CimException", e.message,
                   f"HRESULT 0x{e.hresult:08x}", e.category, target, hresult=e.hresult - 2**32,
                   target_name=target, target_type="String")
        return
    for name, values in rows:
        call.out(CimInstance(namespace, name, values))


def _decode_text(data: bytes, encoding: str | None) -> str:
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(codec, "replace")
    codec = _ENCODINGS.get((encoding or "default").lower(), (None, None))[0]
    if codec is None:
        raise Unsupported(f"-Encoding {encoding}")
    return data.decode(codec, "replace")


# Windows PowerShell 5.1's -Encoding names: codec, byte order mark.
# guess: "Default" (the ANSI code page) is Windows-1252 and "OEM" is 437 on the simulated hosts
_ENCODINGS = {"default": ("cp1252", b""), "utf8": ("utf-8", b"\xef\xbb\xbf"), "unicode": ("utf-16-le", b"\xff\xfe"),
              "ascii": ("ascii", b""), "bigendianunicode": ("utf-16-be", b"\xfe\xff"),
              "utf32": ("utf-32-le", b"\xff\xfe\x00\x00"), "oem": ("cp437", b""), "string": ("utf-16-le", b"\xff\xfe"),
              "unknown": ("utf-16-le", b"\xff\xfe")}


def c_get_content(interp, call: CmdletCall) -> None:
    for path in call.path_arg("Path", "LiteralPath"):
        full = interp.fs_path(path)
        try:
            data = interp.ctx.read(full)
        except FsError:
            call.not_found(full)
            continue
        text = _decode_text(data, to_str(call.get("Encoding")) if call.has("Encoding") else None)
        if call.get("Raw"):
            call.out(text)
            continue
        lines = _lines(text)
        count = to_int(call.get("TotalCount")) if call.has("TotalCount") else -1
        if count >= 0:
            lines = lines[:count]
        for line in lines:
            call.out(line)


def out_file(interp, path: str, text: str, encoding: str, append: bool) -> None:
    codec, bom = _ENCODINGS[encoding]
    data = text.encode(codec, "replace")
    existing = interp.machine.fs_isfile(path)
    interp.ctx.check_access(path)
    interp.machine.fs_write(path, data if (append and existing) else bom + data, append=append and existing)


def _content(interp, call: CmdletCall, append: bool) -> None:
    values = _flat(call.get("Value")) if call.has("Value") else list(call.input or [])
    encoding = to_str(call.get("Encoding") or "default").lower()
    if encoding not in _ENCODINGS or encoding == "byte":
        raise Unsupported(f"-Encoding {encoding}", interp.line)
    sep = "" if call.get("NoNewline") else "\r\n"
    text = sep.join(to_str(v) for v in values) + sep
    for path in call.path_arg("Path", "LiteralPath"):
        full = interp.fs_path(path)
        if call.whatif("Add Content" if append else "Set Content", f"Path: {full}"):
            continue
        try:
            out_file(interp, full, text, encoding, append)
        except FsError as e:
            call.error("System.IO.DirectoryNotFoundException", str(e), "GetContentWriterDirectoryNotFoundError",
                       "ObjectNotFound", full)


def c_out_file(interp, call: CmdletCall) -> None:
    items = _flat(call.get("InputObject")) if call.has("InputObject") else list(call.input or [])
    encoding = to_str(call.get("Encoding") or "unicode").lower()
    if encoding not in _ENCODINGS:
        raise Unsupported(f"Out-File -Encoding {encoding}", interp.line)
    text = "".join(line + "\r\n" for item in items for line in format_lines(item))
    full = interp.fs_path(to_str(call.get("FilePath")))
    try:
        out_file(interp, full, text, encoding, bool(call.get("Append")))
    except FsError as e:
        call.error("System.IO.DirectoryNotFoundException", str(e), "FileOpenFailure", "OpenError", full)


def c_write_output(interp, call: CmdletCall) -> None:
    values = call.get("InputObject", [])
    if call.input is not None and not call.has("InputObject"):
        values = list(call.input)
    for v in values:
        if call.get("NoEnumerate"):
            call.out(v)
        else:
            interp.emit(v, call.sink)


def c_write_host(interp, call: CmdletCall) -> None:
    values = call.get("Object", [])
    sep = to_str(call.get("Separator")) if call.has("Separator") else " "
    words = []
    for v in values:
        words += [to_str(x) for x in v] if is_enumerable(v) else [to_str(v)]
    interp.host_write(sep.join(words), newline=not call.get("NoNewline"))


def c_write_warning(interp, call: CmdletCall) -> None:
    interp.message_stream("Warning", to_str(call.get("Message")), call.warning_action)


def c_write_verbose(interp, call: CmdletCall) -> None:
    interp.message_stream("Verbose", to_str(call.get("Message")),
                          None if call.verbose is None else ("Continue" if call.verbose else "SilentlyContinue"))


def c_write_debug(interp, call: CmdletCall) -> None:
    interp.message_stream("Debug", to_str(call.get("Message")),
                          None if call.debug is None else ("Continue" if call.debug else "SilentlyContinue"))


def c_write_information(interp, call: CmdletCall) -> None:
    data = call.get("MessageData")
    if interp.hosted:
        interp.streams.information.append({"message_data": data, "source": interp.current_script() or "",
                                           "time_generated": datetime.datetime.now(datetime.UTC).strftime(
                                               "%Y-%m-%dT%H:%M:%S.%f0Z"),
                                           "tags": [to_str(t) for t in _flat(call.get("Tags"))]})
    elif interp.pref("InformationPreference") == "Continue":
        interp.streams.stdout.append(to_str(data) + "\r\n")


def c_write_error(interp, call: CmdletCall) -> None:
    record = call.get("ErrorRecord")
    if record is None:
        exception = call.get("Exception")
        message = to_str(call.get("Message")) if call.has("Message") else (exception.message if exception else "")
        if exception is None:
            exception = PSExceptionObject("Microsoft.PowerShell.Commands.WriteErrorException", message)
        category = to_str(call.get("Category") or "NotSpecified")
        if category not in CATEGORIES:
            raise call.binding_error(f"Cannot bind parameter 'Category'. Cannot convert value \"{category}\" to type "
                                     "\"System.Management.Automation.ErrorCategory\".", "CannotConvertArgument")
        script = interp.current_script()
        invocation = script if script else (call.el.text or "Write-Error")
        fqid = to_str(call.get("ErrorId")) if call.has("ErrorId") else exception.type_name
        record = ErrorRecord(exception, f"{fqid},{ntpath.basename(script) if script else 'Write-Error'}", category,
                             call.get("TargetObject"), activity="Write-Error", command=invocation,
                             details=message if call.has("Exception") and call.has("Message") else None)
        if not call.has("ErrorId") and exception.type_name == "Microsoft.PowerShell.Commands.WriteErrorException":
            record.fqid = f"Microsoft.PowerShell.Commands.WriteErrorException,{ntpath.basename(script)}" if script \
                else "Microsoft.PowerShell.Commands.WriteErrorException"
    interp.write_error(record, call.error_action)


def c_start_sleep(interp, call: CmdletCall) -> None:
    seconds = float(to_number(call.get("Seconds"), "System.Double")) if call.has("Seconds") else \
        float(to_number(call.get("Milliseconds") or 0, "System.Double")) / 1000
    if not interp.machine.sleep(max(seconds, 0), interp.ctx.cancel):
        raise Cancelled()


def c_get_location(interp, call: CmdletCall) -> None:
    call.out(PathInfo(interp.location))


def c_set_location(interp, call: CmdletCall) -> None:
    paths = call.path_arg("Path", "LiteralPath")
    if not paths:
        return
    path = paths[0]
    if is_registry(path):
        raise Unsupported(f"Set-Location to the registry path {path}", interp.line)
    full = interp.fs_path(path)
    if not interp.machine.fs_isdir(full) and not (full.startswith("\\\\") and interp.ctx.exists(full)):
        raise call.terminate("System.Management.Automation.ItemNotFoundException",
                             f"Cannot find path '{full}' because it does not exist.", "PathNotFound",
                             "ObjectNotFound", full)
    rec = interp.machine.fs_get(full)
    interp.location = rec["path"] if rec else full


def c_foreach_object(interp, call: CmdletCall) -> None:
    process = call.get("Process", [])
    begin, end = call.get("Begin"), call.get("End")
    if len(process) == 1 and isinstance(process[0], str):
        member = process[0]
        for item in call.input or []:
            interp.emit(get_member(interp, item, member), call.sink)
        return
    blocks = list(process)
    if not all(isinstance(b, ScriptBlock) for b in blocks):
        raise Unsupported("ForEach-Object with these arguments", interp.line)
    if len(blocks) > 1 and begin is None and end is None:
        begin, blocks, end = (blocks[0], blocks[1:2], blocks[2] if len(blocks) > 2 else None)
    if begin is not None:
        interp.call_scriptblock(begin, [], call.sink, dot=True)
    for item in call.input or []:
        for block in blocks:
            interp.call_scriptblock(block, [], call.sink, dot=True, underscore=item)
    if end is not None:
        interp.call_scriptblock(end, [], call.sink, dot=True)


def c_where_object(interp, call: CmdletCall) -> None:
    block = call.get("FilterScript")
    if not isinstance(block, ScriptBlock) or len(call.bound) != 1:
        raise Unsupported("Where-Object's simplified syntax (use a script block)", interp.line)
    for item in call.input or []:
        out: list = []
        interp.call_scriptblock(block, [], out, dot=True, underscore=item)
        if to_bool(collect(out)):
            call.out(item)


def c_select_object(interp, call: CmdletCall) -> None:
    for name in ("Unique", "ExcludeProperty", "Index", "Wait", "SkipLast"):
        if call.has(name):
            raise Unsupported(f"Select-Object -{name}", interp.line)
    items = list(_flat(call.get("InputObject"))) if call.has("InputObject") else list(call.input or [])
    if call.has("Skip"):
        items = items[to_int(call.get("Skip")):]
    if call.has("First"):
        items = items[:to_int(call.get("First"))]
    if call.has("Last"):
        n = to_int(call.get("Last"))
        items = items[-n:] if n else []
    if call.has("ExpandProperty"):
        name = to_str(call.get("ExpandProperty"))
        for item in items:
            value = get_member(interp, item, name)
            if value is None and not (isinstance(item, PSObject) and name in item.props):
                call.error("System.ArgumentException", f'Property "{name}" cannot be found.',
                           "ExpandPropertyNotFound", "InvalidArgument", item)
                continue
            interp.emit(value, call.sink)
        return
    if call.has("Property"):
        names = [to_str(n) for n in _flat(call.get("Property"))]
        if any(not isinstance(n, str) for n in _flat(call.get("Property"))) or any("*" in n for n in names):
            raise Unsupported("Select-Object -Property with calculated or wildcard properties", interp.line)
        for item in items:
            call.out(PSObject({n: get_member(interp, item, n) for n in names},
                              [f"Selected.{type_name(item)}", "System.Management.Automation.PSCustomObject",
                               "System.Object"]))
        return
    for item in items:
        call.out(item)


def c_out_null(interp, call: CmdletCall) -> None:
    return


def c_out_string(interp, call: CmdletCall) -> None:
    items = _flat(call.get("InputObject")) if call.has("InputObject") else list(call.input or [])
    lines = [line for item in items for line in format_lines(item)]
    if call.get("Stream"):
        for line in lines:
            call.out(line)
    else:
        call.out("".join(line + "\r\n" for line in lines))


def c_out_host(interp, call: CmdletCall) -> None:
    items = _flat(call.get("InputObject")) if call.has("InputObject") else list(call.input or [])
    for item in items:
        for line in format_lines(item):
            interp.host_write(line, source="Out-Host")


def c_get_variable(interp, call: CmdletCall) -> None:
    if call.has("Scope"):
        raise Unsupported("Get-Variable -Scope", interp.line)
    for name in [to_str(n) for n in _flat(call.get("Name"))]:
        if re.search(r"[*?\[]", name):
            raise Unsupported(f"Get-Variable with the wildcard name {name}", interp.line)
        found, value = interp.lookup(name)
        if not found and name.lower() in ("true", "false", "null", "?", "error", "pwd", "home"):
            found, value = True, interp.get_var(name)
        if not found:
            call.error("System.Management.Automation.ItemNotFoundException",
                       f"Cannot find a variable with the name '{name}'.", "VariableNotFound", "ObjectNotFound", name,
                       target_name=name, target_type="String")
            continue
        if call.get("ValueOnly"):
            interp.emit(value, call.sink)
        else:
            call.out(PSObject({"Name": name, "Value": value, "Description": "", "Options": "None"},
                              ["System.Management.Automation.PSVariable", "System.Object"]))


def c_set_variable(interp, call: CmdletCall) -> None:
    scope = to_str(call.get("Scope") or "local").lower()
    if scope not in ("local", "global", "script"):
        raise Unsupported(f"Set-Variable -Scope {scope}", interp.line)
    for name in [to_str(n) for n in _flat(call.get("Name"))]:
        interp.set_var(name, call.get("Value"), "" if scope == "local" else scope)


def c_get_date(interp, call: CmdletCall) -> None:
    for name in ("UFormat", "Date", "Year", "Month", "Day", "Hour", "Minute", "Second", "DisplayHint"):
        if call.has(name):
            raise Unsupported(f"Get-Date -{name}", interp.line)
    now = PSDateTime(datetime.datetime.now(datetime.UTC), "Local")
    call.out(format_datetime(now, to_str(call.get("Format"))) if call.has("Format") else now)


def c_get_winsystemlocale(interp, call: CmdletCall) -> None:
    """The system locale, from the machine's OS language (a CultureInfo's Name / LCID / DisplayName).
    guess: the system locale is the OS language; on Windows they can differ."""
    os_ = interp.machine.state["os"]
    call.out(PSObject({"LCID": int(os_.get("lcid") or 1033), "Name": str(os_.get("language") or "en-US"),
                       "DisplayName": str(os_.get("language") or "en-US")},
                      ["System.Globalization.CultureInfo", "System.Object"]))


def c_convertto_securestring(interp, call: CmdletCall) -> None:
    if not call.get("AsPlainText"):
        raise Unsupported("ConvertTo-SecureString without -AsPlainText (DPAPI is not emulated)", interp.line)
    if not call.get("Force"):
        raise call.terminate("System.ArgumentException", "The system cannot protect plain text input. To suppress "
                             "this warning and convert the plain text to a SecureString, reissue the command "
                             "specifying the Force parameter.", "ImportSecureString_InvalidArgument",
                             "InvalidArgument")
    values = [call.get("String")] if call.has("String") else list(call.input or [])
    for v in values:
        call.out(SecureString(to_str(v)))


def c_read_host(interp, call: CmdletCall) -> None:
    raise call.terminate("System.Management.Automation.PSInvalidOperationException",
                         "Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.",
                         "ReadHostNonInteractive", "InvalidOperation")


def c_write_progress(interp, call: CmdletCall) -> None:
    # guess: progress records are not part of any result the tests read (powershell.exe under
    # -EncodedCommand writes them to stderr as CLIXML; win_powershell does not return them)
    return


def _p(*names, **kw):
    return [P(n, **kw) for n in names]


CMDLETS: dict = {c.name.lower(): c for c in [
    Cmdlet("Write-Output", c_write_output, [P("InputObject", 0, remaining=True), P("NoEnumerate", switch=True)],
           pipeline=True),
    Cmdlet("Write-Host", c_write_host, [P("Object", 0, remaining=True), P("NoNewline", switch=True),
                                        P("Separator"), P("ForegroundColor", aliases=("fg",)),
                                        P("BackgroundColor", aliases=("bg",))]),
    Cmdlet("Write-Warning", c_write_warning, [P("Message", 0, aliases=("Msg",))]),
    Cmdlet("Write-Verbose", c_write_verbose, [P("Message", 0, aliases=("Msg",))]),
    Cmdlet("Write-Debug", c_write_debug, [P("Message", 0, aliases=("Msg",))]),
    Cmdlet("Write-Information", c_write_information, [P("MessageData", 0, aliases=("Msg", "Message")),
                                                      P("Tags", 1)]),
    Cmdlet("Write-Error", c_write_error, [P("Message", 0, aliases=("Msg",)), P("ErrorRecord"), P("Exception"),
                                          P("Category"), P("ErrorId"), P("TargetObject"),
                                          P("RecommendedAction"), P("CategoryActivity"), P("CategoryReason"),
                                          P("CategoryTargetName"), P("CategoryTargetType")]),
    Cmdlet("Write-Progress", c_write_progress, [P("Activity", 0), P("Status", 1), P("Id", 2), P("PercentComplete"),
                                                P("SecondsRemaining"), P("CurrentOperation"), P("ParentId"),
                                                P("Completed", switch=True), P("SourceId")]),
    Cmdlet("Get-CimInstance", c_get_cim_instance, [P("ClassName", 0), P("Namespace"), P("Property"), P("Filter"),
                                                   P("Query"), P("QueryDialect"), P("ComputerName", aliases=("CN",)),
                                                   P("CimSession"), P("KeyOnly", switch=True),
                                                   P("Shallow", switch=True), P("InputObject"), P("ResourceUri"),
                                                   P("OperationTimeoutSec", aliases=("OT",))],
           module="Microsoft.Management.Infrastructure.CimCmdlets"),
    Cmdlet("Get-ItemProperty", c_get_item_property, [P("Path", 0), P("LiteralPath", aliases=("PSPath", "LP")),
                                                     P("Name", 1)]),
    Cmdlet("Get-ItemPropertyValue", c_get_item_property_value, [P("Path", 0),
                                                                P("LiteralPath", aliases=("PSPath", "LP")),
                                                                P("Name", 1)]),
    Cmdlet("Set-ItemProperty", c_set_item_property, [P("Path", 0), P("LiteralPath", aliases=("PSPath", "LP")),
                                                     P("Name", 1), P("Value", 2), P("Type"), P("Force", switch=True),
                                                     P("PassThru", switch=True)], should_process=True),
    Cmdlet("New-ItemProperty", lambda i, c: c_set_item_property(i, c, new=True),
           [P("Path", 0), P("LiteralPath", aliases=("PSPath", "LP")), P("Name", 1), P("Value"),
            P("PropertyType", aliases=("Type",)), P("Force", switch=True)], should_process=True),
    Cmdlet("Remove-ItemProperty", c_remove_item_property, [P("Path", 0), P("LiteralPath", aliases=("PSPath", "LP")),
                                                           P("Name", 1), P("Force", switch=True)],
           should_process=True),
    Cmdlet("Get-Item", c_get_item, [P("Path", 0), P("LiteralPath", aliases=("PSPath", "LP")),
                                    P("Force", switch=True)]),
    Cmdlet("Get-WinSystemLocale", c_get_winsystemlocale, []),
    Cmdlet("Get-ChildItem", c_get_child_item, [P("Path", 0), P("Filter", 1),
                                               P("LiteralPath", aliases=("PSPath", "LP"))]),
    Cmdlet("Test-Path", c_test_path, [P("Path", 0), P("LiteralPath", aliases=("PSPath", "LP")), P("PathType"),
                                      P("IsValid", switch=True)]),
    Cmdlet("New-Item", c_new_item, [P("Path", 0), P("Name"), P("ItemType", aliases=("Type",)), P("Value"),
                                    P("Force", switch=True)], should_process=True),
    Cmdlet("Remove-Item", c_remove_item, [P("Path", 0), P("LiteralPath", aliases=("PSPath", "LP")),
                                          P("Force", switch=True), P("Recurse", switch=True)], should_process=True),
    Cmdlet("Join-Path", c_join_path, [P("Path", 0), P("ChildPath", 1), P("Resolve", switch=True)]),
    Cmdlet("Split-Path", c_split_path, [P("Path", 0), P("Parent", switch=True), P("Leaf", switch=True),
                                        P("Qualifier", switch=True), P("NoQualifier", switch=True)]),
    Cmdlet("New-Object", c_new_object, [P("TypeName", 0), P("ArgumentList", 1, aliases=("Args",)), P("Property"),
                                        P("ComObject")]),
    Cmdlet("ConvertFrom-Json", c_convertfrom_json, [P("InputObject", 0)], pipeline=True),
    Cmdlet("Get-Content", c_get_content, [P("Path", 0), P("LiteralPath", aliases=("PSPath", "LP")),
                                          P("Raw", switch=True), P("Encoding"),
                                          P("TotalCount", aliases=("First", "Head"))]),
    Cmdlet("Set-Content", lambda i, c: _content(i, c, False),
           [P("Path", 0), P("LiteralPath", aliases=("PSPath", "LP")), P("Value", 1), P("Encoding"),
            P("NoNewline", switch=True), P("Force", switch=True)], pipeline=True, should_process=True),
    Cmdlet("Add-Content", lambda i, c: _content(i, c, True),
           [P("Path", 0), P("LiteralPath", aliases=("PSPath", "LP")), P("Value", 1), P("Encoding"),
            P("NoNewline", switch=True), P("Force", switch=True)], pipeline=True, should_process=True),
    Cmdlet("Out-File", c_out_file, [P("FilePath", 0, aliases=("Path",)), P("Encoding", 1), P("InputObject"),
                                    P("Append", switch=True), P("Force", switch=True)], pipeline=True,
           should_process=True),
    Cmdlet("Start-Sleep", c_start_sleep, [P("Seconds", 0, aliases=("s",)), P("Milliseconds", aliases=("ms",))]),
    Cmdlet("Get-Location", c_get_location, []),
    Cmdlet("Set-Location", c_set_location, [P("Path", 0), P("LiteralPath", aliases=("PSPath", "LP"))]),
    Cmdlet("ForEach-Object", c_foreach_object, [P("Process", 0, remaining=True), P("Begin"), P("End"),
                                                P("MemberName"), P("ArgumentList")], pipeline=True),
    Cmdlet("Where-Object", c_where_object, [P("FilterScript", 0)], pipeline=True),
    Cmdlet("Select-Object", c_select_object, [P("Property", 0), P("First"), P("Last"), P("Skip"),
                                              P("ExpandProperty"), P("InputObject"), P("Unique", switch=True),
                                              P("ExcludeProperty"), P("Index"), P("Wait", switch=True),
                                              P("SkipLast")], pipeline=True),
    Cmdlet("Out-Null", c_out_null, [P("InputObject")], pipeline=True),
    Cmdlet("Out-String", c_out_string, [P("InputObject"), P("Stream", switch=True), P("Width")], pipeline=True),
    Cmdlet("Out-Host", c_out_host, [P("InputObject"), P("Paging", switch=True)], pipeline=True),
    Cmdlet("Out-Default", c_out_host, [P("InputObject")], pipeline=True),
    Cmdlet("Get-Variable", c_get_variable, [P("Name", 0), P("ValueOnly", switch=True), P("Scope")]),
    Cmdlet("Set-Variable", c_set_variable, [P("Name", 0), P("Value", 1), P("Scope")]),
    Cmdlet("Get-Date", c_get_date, [P("Date", 0), P("Format"), P("UFormat"), P("Year"), P("Month"), P("Day"),
                                    P("Hour"), P("Minute"), P("Second"), P("DisplayHint")]),
    Cmdlet("ConvertTo-SecureString", c_convertto_securestring, [P("String", 0), P("AsPlainText", switch=True),
                                                                P("Force", switch=True), P("Key"),
                                                                P("SecureKey")], pipeline=True,
           module="Microsoft.PowerShell.Commands"),
    Cmdlet("Read-Host", c_read_host, [P("Prompt", 0), P("AsSecureString", switch=True)]),
]}
_PROVIDER = ("Filter", "Include", "Exclude", "Credential", "UseTransaction")
_CMP_SWITCHES = tuple(x + o for o in ("EQ", "NE", "GT", "GE", "LT", "LE", "Like", "NotLike", "Match", "NotMatch",
                                      "Contains", "NotContains", "In", "NotIn") for x in ("", "C")) + ("Is", "IsNot")
for _name, _refused in {
        "get-content": _PROVIDER + ("Stream", "Delimiter", "Wait", "ReadCount", "Tail", "Force"),
        "set-content": _PROVIDER + ("Stream", "PassThru"), "add-content": _PROVIDER + ("Stream", "PassThru"),
        "remove-item": _PROVIDER + ("Stream",), "get-item": _PROVIDER + ("Stream",),
        "test-path": _PROVIDER + ("OlderThan", "NewerThan"), "new-item": _PROVIDER,
        "get-itemproperty": _PROVIDER, "get-itempropertyvalue": _PROVIDER,
        "set-itemproperty": _PROVIDER + ("InputObject",), "new-itemproperty": _PROVIDER,
        "remove-itemproperty": _PROVIDER, "join-path": ("Credential", "UseTransaction"),
        "split-path": ("Resolve", "IsAbsolute", "Credential", "UseTransaction", "Extension", "LeafBase"),
        "set-location": ("PassThru", "StackName", "UseTransaction"),
        "get-location": ("PSProvider", "PSDrive", "Stack", "StackName", "UseTransaction"),
        "new-object": ("Strict",), "out-file": ("Width", "NoClobber", "NoNewline"),
        "foreach-object": ("RemainingScripts", "InputObject"),
        "where-object": ("InputObject", "Property", "Value") + _CMP_SWITCHES,
        "get-date": ("Millisecond",), "write-output": (), "out-string": (),
        "get-variable": ("Include", "Exclude"), "set-variable": ("Include", "Exclude", "Option", "PassThru",
                                                                 "Visibility", "Description", "Force"),
}.items():
    CMDLETS[_name].refuse = tuple(r.lower() for r in _refused)

ALIASES = {"echo": "write-output", "write": "write-output", "%": "foreach-object", "foreach": "foreach-object",
           "?": "where-object", "where": "where-object", "select": "select-object", "sleep": "start-sleep",
           "cd": "set-location", "chdir": "set-location", "sl": "set-location", "pwd": "get-location",
           "gl": "get-location", "gc": "get-content", "cat": "get-content", "type": "get-content",
           "sc": "set-content", "ac": "add-content", "ni": "new-item", "rm": "remove-item", "del": "remove-item",
           "erase": "remove-item", "rd": "remove-item", "rmdir": "remove-item", "ri": "remove-item",
           "gp": "get-itemproperty", "gpv": "get-itempropertyvalue", "sp": "set-itemproperty",
           "gi": "get-item", "gcim": "get-ciminstance", "gv": "get-variable", "sv": "set-variable",
           "set": "set-variable", "oh": "out-host", "dir": "get-childitem", "ls": "get-childitem",
           "gci": "get-childitem", "copy": "copy-item", "cp": "copy-item", "cpi": "copy-item", "move": "move-item",
           "mv": "move-item", "mi": "move-item", "iex": "invoke-expression", "kill": "stop-process",
           "ps": "get-process", "gps": "get-process", "gsv": "get-service", "ft": "format-table",
           "fl": "format-list", "measure": "measure-object", "sort": "sort-object", "tee": "tee-object",
           "cls": "clear-host", "clear": "clear-host", "gm": "get-member", "icm": "invoke-command",
           "iwr": "invoke-webrequest", "irm": "invoke-restmethod", "start": "start-process", "saps": "start-process",
           "gwmi": "get-wmiobject", "mkdir": "mkdir (function)", "md": "mkdir (function)", "ren": "rename-item",
           "rni": "rename-item", "h": "get-history", "history": "get-history", "r": "invoke-history",
           "ipmo": "import-module", "gcm": "get-command", "group": "group-object", "ogv": "out-gridview",
           "compare": "compare-object", "diff": "compare-object", "gal": "get-alias", "nal": "new-alias",
           "rv": "remove-variable", "clv": "clear-variable", "epal": "export-alias", "ii": "invoke-item",
           "gdr": "get-psdrive", "ndr": "new-psdrive", "rdr": "remove-psdrive", "mount": "new-psdrive",
           "pushd": "push-location", "popd": "pop-location", "sajb": "start-job", "gjb": "get-job",
           "rcjb": "receive-job", "wjb": "wait-job", "spps": "stop-process", "gu": "get-unique", "gin": "get-help"}


# formatting (Out-Default / Out-String) ------------------------------------------------------------------------

def format_lines(value) -> list[str]:
    """How the console shows an object. guess: simplified Format-Table/Format-List, same text for scalars."""
    if value is None or value is VOID:
        return []
    if isinstance(value, ErrorRecord):
        return format_error(value).rstrip("\r\n ").split("\r\n")
    if isinstance(value, PSDict):
        width = max([len(to_str(k)) for k in value.keys()] + [30]) + 1
        rows = [f"{'Name':<{width}}Value", f"{'----':<{width}}-----"]
        rows += [f"{to_str(k):<{width}}{_short(v)}" for k, v in value.items()]
        return ["", *rows, ""]
    if isinstance(value, (PSObject, CimInstance)) or hasattr(value, "ps_properties"):
        props = value.props.items() if isinstance(value, (PSObject, CimInstance)) else value.ps_properties().items()
        props = list(props)
        if not props:
            return []
        width = max(len(to_str(k)) for k, _v in props)
        return ["", *[f"{to_str(k):<{width}} : {_short(v)}" for k, v in props], ""]
    if isinstance(value, PSDateTime):
        v = value.value
        return ["", f"{v.strftime('%A, %B')} {v.day}, {v.year} {v.strftime('%I:%M:%S %p').lstrip('0')}", ""]
    return to_str(value).split("\n") if "\n" in to_str(value) else [to_str(value)]


def _short(v) -> str:
    if is_enumerable(v):
        return "{" + ", ".join(to_str(x) for x in v) + "}"
    if isinstance(v, datetime.datetime):
        return to_str(PSDateTime(v))
    return to_str(v)


def format_error(record: ErrorRecord) -> str:
    """An error record as the console (and Out-String) shows it. guess: the layout of 5.1's default view."""
    message = record.message()
    lines = []
    if record.exception.type_name == "System.Management.Automation.ParseException":
        lines.append(message)
    else:
        prefix = f"{record.command} : " if record.command else ""
        lines.append(prefix + message)
        if record.line:
            where = f"At {record.script}:{record.line}" if record.script else f"At line:{record.line}"
            lines.append(f"{where} char:1")
            if record.line_text:
                lines.append(f"+ {record.line_text}")
                lines.append("+ " + "~" * max(len(record.line_text), 1))
    info = CategoryInfo(record)
    lines.append(f"    + CategoryInfo          : {info.to_string()}")
    lines.append(f"    + FullyQualifiedErrorId : {record.fqid}")
    return "\r\n".join(lines) + "\r\n \r\n"


# win_powershell's conversions -------------------------------------------------------------------------------

def convert_output(value, depth: int):
    """Convert-OutputObject of ansible.windows' win_powershell.ps1 (its depth rules): past ``depth``
    an object that is not a string or a value type becomes its [string] form (a type name for a
    dictionary, the items joined by spaces for a list)."""
    if value is None or value is VOID:
        return None
    if isinstance(value, PSDateTime):
        return format_datetime(value, "o")
    if isinstance(value, TypeRef):
        if depth < 0:
            return value.fullname
        return {"Name": value.name, "FullName": value.fullname, "AssemblyQualifiedName": value.fullname,
                "BaseType": None}
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, GuidValue):
        return str(value.value)   # a value type: JSON writes a Guid as its string
    if isinstance(value, SwitchValue):
        return value.value
    if depth < 0:
        return to_str(value)
    if isinstance(value, (list, tuple, bytes, bytearray)):
        return [convert_output(x, depth - 1) for x in value]
    if isinstance(value, PSDict):
        return {to_str(k): convert_output(v, depth - 1) for k, v in value.items()}
    if isinstance(value, PSObject):
        return {k: convert_output(v, depth - 1) for k, v in value.props.items()}
    if isinstance(value, ErrorRecord):
        return {"Exception": convert_output(value.exception, depth - 1), "TargetObject": convert_output(
            value.target, depth - 1), "FullyQualifiedErrorId": value.fqid, "CategoryInfo": CategoryInfo(
            value).to_string() if depth - 1 < 0 else None}
    if isinstance(value, PSExceptionObject):
        return {"Message": value.message, "HResult": value.hresult, "Source": None, "HelpLink": None}
    if isinstance(value, SecureString):
        return {"Length": len(value._text)}
    if isinstance(value, PSCredential):
        return {"UserName": value.user, "Password": convert_output(value.password, depth - 1)}
    if isinstance(value, PathInfo):
        return {"Drive": convert_output(value.path[:1], depth - 1), "Provider": "Microsoft.PowerShell.Core\\FileSystem",
                "ProviderPath": value.path, "Path": value.path}
    props = getattr(value, "ps_properties", None)
    if props:
        return {k: convert_output(v, depth - 1) for k, v in props().items()}
    raise Unsupported(f"returning a {type_name(value)} from win_powershell")


def error_dict(record: ErrorRecord, depth: int) -> dict:
    """One entry of win_powershell's ``error`` list."""
    info = CategoryInfo(record)

    def exception(e):
        if e is None:
            return None
        return {"message": e.message, "type": e.type_name, "help_link": None, "source": None, "hresult": e.hresult,
                "inner_exception": exception(e.inner)}

    return {
        "output": format_error(record),
        "error_details": None if record.details is None else {"message": record.details, "recommended_action": ""},
        "exception": exception(record.exception),
        "target_object": convert_output(record.target, depth),
        "category_info": {"category": record.category, "category_id": CATEGORIES.get(record.category, 0),
                          "activity": info.ps_get(None, "activity"), "reason": record.reason,
                          "target_name": info.ps_get(None, "targetname"),
                          "target_type": info.ps_get(None, "targettype")},
        "fully_qualified_error_id": record.fqid,
        "script_stack_trace": f"at <ScriptBlock>, {record.script or '<No file>'}: line {record.line or 1}",
        "pipeline_iteration_info": [],
    }


def _from_json(value):
    """A module argument as win_powershell hands it to the script. guess: dictionaries arrive as
    hashtables and lists as arrays (Ansible.Basic's parsed JSON)."""
    if isinstance(value, dict):
        return PSDict({k: _from_json(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def supports_should_process(script: str) -> bool:
    """What win_powershell looks for before it runs a script in check mode: the parsed
    [CmdletBinding(SupportsShouldProcess[=$true])] of the param block, else (a script that does not
    parse) its regular expression."""
    try:
        ast = parse(script or "")
    except (PSParseError, Unsupported):
        return bool(re.search(r"\[CmdletBinding\((?:[\w=\$]+,\s*)?SupportsShouldProcess(?:=\$true)?"
                              r"(?:,\s*[\w=\$]+)?\)\]", script or "", re.IGNORECASE))
    if ast.param is None:
        return False
    for attr in ast.param.attrs:
        if attr.name.lower() == "cmdletbinding":
            for name, value, omitted in attr.args or []:
                if name and name.lower() == "supportsshouldprocess":
                    return omitted or (value.kind == "var" and value.name.lower() == "true" and not value.scope)
    return False


def run_hosted(ctx, *, script: str | None = None, path: str | None = None, parameters: dict | None = None,
               error_action: str = "continue", depth: int = 2, check_mode: bool = False, chdir: str | None = None,
               tmpdir: str | None = None, verbosity: int = 0) -> dict:
    """A script as ansible.windows' win_powershell runs it (in-process runspace, AddScript or
    AddCommand(path), parameters by name): the module's result keys."""
    interp = Interpreter(ctx, source="<ScriptBlock>", hosted=True, policy="Unrestricted")
    interp.global_scope.vars["erroractionpreference"] = {"stop": "Stop", "continue": "Continue",
                                                         "silently_continue": "SilentlyContinue"}[error_action]
    ansible = PSObject({"CheckMode": check_mode, "Verbosity": verbosity, "Result": PSDict(), "Diff": PSDict(),
                        "Changed": True, "Failed": False, "Tmpdir": tmpdir},
                       ["Ansible.Windows.WinPowerShell.Module", "System.Management.Automation.PSCustomObject",
                        "System.Object"])
    interp.global_scope.vars["ansible"] = ansible
    args = [("name", k, _from_json(v) if not isinstance(v, (SecureString, PSCredential)) else v, True)
            for k, v in (parameters or {}).items()]
    failed = False
    try:
        if chdir:
            node = Node("pipeline", 0, elements=[Node("command", 0, call=None, name=Node("const", 0, value="Set-Location"),
                                                      args=[Node("param", 0, name="LiteralPath", colon=True,
                                                                 value=Node("const", 0, value=chdir))], redirs=[],
                                                      text=f"Set-Location -LiteralPath '{chdir}'")], text="")
            interp.exec_stmt(node, [])
        interp.qmark = True
        if path is not None:
            interp.call_script(interp.fs_path(path), args, interp.out)
        else:
            try:
                ast = parse(script or "", "")
            except PSParseError as e:
                raise PSError(parse_error_record(e)) from None
            interp.call_scriptblock(ScriptBlock(ast, script or "", ""), args, interp.out, dot=True)
    except PSError as e:
        failed = True
        interp.streams.errors.append(e.record)
    except ExitSignal:
        pass   # guess: exit ends the script as a normal end would (the runspace swallows it)
    except (BreakSignal, ContinueSignal):
        pass
    except Unsupported as e:
        failed = True
        interp.streams.errors.append(new_error("System.Management.Automation.RuntimeException", str(e),
                                               "SimulatedHostUnsupported", "NotImplemented"))
    except Cancelled:
        failed = True
        interp.streams.errors.append(new_error("System.Management.Automation.PipelineStoppedException",
                                               "The pipeline has been stopped.", "PipelineStopped",
                                               "OperationStopped"))
    s = interp.streams
    result = ansible.props.get("Result")
    changed = ansible.props.get("Changed")
    return {
        "result": convert_output(result, depth),
        "changed": changed if isinstance(changed, bool) else to_bool(changed),
        "failed": failed or to_bool(ansible.props.get("Failed")),
        "output": convert_output(GenericList(s.output), depth),
        "error": [error_dict(r, depth) for r in s.errors],
        "host_out": "".join(s.host_out), "host_err": "".join(s.host_err),
        "warning": list(s.warning), "verbose": list(s.verbose), "debug": list(s.debug),
        "information": [{**i, "message_data": convert_output(i["message_data"], depth)} for i in s.information],
    }


# powershell.exe -------------------------------------------------------------------------------------------------

_EXE_FLAGS = {"nologo": 0, "noprofile": 0, "noninteractive": 0, "sta": 0, "mta": 0, "executionpolicy": 1,
              "windowstyle": 1, "inputformat": 1, "outputformat": 1, "encodedcommand": 1, "command": -1, "file": -1,
              "noexit": 0, "version": 1, "psconsolefile": 1, "configurationname": 1, "encodedarguments": 1}
_EXE_SHORT = {"nop": "noprofile", "noni": "noninteractive", "ep": "executionpolicy", "ex": "executionpolicy",
              "e": "encodedcommand", "ec": "encodedcommand", "enc": "encodedcommand", "c": "command", "f": "file",
              "w": "windowstyle", "nol": "nologo", "v": "version", "if": "inputformat", "of": "outputformat"}


def _exe_flag(word: str) -> str | None:
    low = word.lstrip("-/").lower()
    if low in _EXE_SHORT:
        return _EXE_SHORT[low]
    hits = [f for f in _EXE_FLAGS if f.startswith(low)]
    return hits[0] if len(hits) == 1 else None


def run_powershell_exe(ctx, args: str) -> ExecResult:
    """powershell.exe [-NoLogo -NoProfile -NonInteractive -ExecutionPolicy P] -File|-Command|-EncodedCommand."""
    from tests.winsim import programs

    words = programs.argv(args)
    policy = None
    i = 0
    while i < len(words):
        word = words[i]
        if not word.startswith(("-", "/")):
            return _command(ctx, " ".join(words[i:]), policy)   # as powershell.exe: the rest is a command
        flag = _exe_flag(word)
        if flag is None:
            return ExecResult(b"", f"simulated powershell.exe: option {word!r} is not emulated\r\n".encode(), 1)
        if flag in ("noexit", "version", "psconsolefile", "configurationname", "encodedarguments"):
            return ExecResult(b"", f"simulated powershell.exe: -{flag} is not emulated\r\n".encode(), 1)
        if flag in ("inputformat", "outputformat"):
            if i + 1 >= len(words) or words[i + 1].lower() != "text":
                return ExecResult(b"", f"simulated powershell.exe: -{flag} other than Text is not emulated\r\n"
                                  .encode(), 1)
        if flag == "executionpolicy":
            if i + 1 >= len(words):
                return ExecResult(b"", b"Missing argument for parameter ExecutionPolicy.\r\n", 1)
            policy = words[i + 1]
            # powershell.exe keeps -ExecutionPolicy in the process environment; child processes inherit it.
            ctx.setenv("PSExecutionPolicyPreference", policy)
        if flag == "encodedcommand":
            if i + 1 >= len(words):
                return ExecResult(b"", b"Missing argument for parameter EncodedCommand.\r\n", 1)
            try:
                text = base64.b64decode(words[i + 1], validate=True).decode("utf-16-le")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return ExecResult(b"", b"Cannot process the command because the value of -EncodedCommand is not "
                                       b"valid Base64.\r\n", 1)
            return _command(ctx, text, policy, encoded=True)
        if flag == "command":
            text = " ".join(words[i + 1:])
            if text.strip() == "-":
                return ExecResult(b"", b"simulated powershell.exe: -Command - (commands on stdin) is not emulated\r\n", 1)
            return _command(ctx, text, policy)
        if flag == "file":
            if i + 1 >= len(words):
                return ExecResult(b"", b"Missing argument for parameter File.\r\n", 1)
            return _file(ctx, words[i + 1], words[i + 2:], policy)
        i += 1 + (_EXE_FLAGS[flag] if _EXE_FLAGS[flag] > 0 else 0)
    return ExecResult(b"", b"simulated powershell.exe: an interactive shell is not emulated\r\n", 1)


def _command(ctx, text: str, policy: str | None, encoded: bool = False) -> ExecResult:
    """-Command/-EncodedCommand: exit N, else 0 when the last statement succeeded ($?), else 1."""
    interp = Interpreter(ctx, source="-Command", policy=policy)
    interp.clixml_errors = encoded   # stderr is always a pipe on the simulated host
    return interp.run(text, raw=True)


def _file(ctx, path: str, words: list[str], policy: str | None) -> ExecResult:
    """-File: the script's exit N, 1 after a terminating error, else 0; arguments arrive as strings."""
    interp = Interpreter(ctx, source=path, policy=policy)
    full = ctx.abspath(path)
    if not ctx.machine.fs_isfile(full):
        msg = (f"The argument '{path}' to the -File parameter does not exist. Provide the path to an existing "
               "'.ps1' file as an argument to the -File parameter.\r\n")
        return ExecResult(b"", msg.encode(), -196608)   # guess: powershell.exe's exit code for a missing -File
    if not full.lower().endswith(".ps1"):
        msg = (f"Processing -File '{path}' failed because the file does not have a '.ps1' extension. Specify a valid "
               "Windows PowerShell script file name, and then try again.\r\n")
        return ExecResult(b"", msg.encode(), -196608)
    args = []
    for word in words:
        m = re.fullmatch(r"-([A-Za-z_]\w*)(:)?(.*)", word, re.DOTALL)
        if m and (m.group(2) or not m.group(3)):
            args.append(("name", m.group(1), m.group(3), True) if m.group(2) else ("name", m.group(1), None, False))
        else:
            args.append(("pos", word))
    code = 0
    try:
        interp.fail_stack.append(False)
        interp.call_script(full, args, interp.out)
        if interp.fail_stack.pop():
            lec = interp.global_scope.vars.get("lastexitcode")
            code = lec if isinstance(lec, int) and not isinstance(lec, bool) and lec else 1
    except PSError as e:
        interp.report_error(e.record, uncaught=True)
        code = 1
    except Unsupported as e:
        interp.streams.err_text(f"{e}\r\n")
        code = 1
    except Cancelled:
        code = 1
    return interp.result(code)
