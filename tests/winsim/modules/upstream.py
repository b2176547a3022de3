"""The argument specs and RETURN docs of the real ansible.windows modules, read from the installed collection.

The simulated host never declares a module's options itself: it reads them at run time from the
ansible.windows that Ansible's collection loader finds (``COLLECTIONS_PATHS`` from the same
configuration ansible-playbook uses: ``ANSIBLE_CONFIG`` / ``ANSIBLE_COLLECTIONS_PATH``), so an
upstream change to an option (renamed, new choice, now required) changes what the simulated
module accepts.

Where the argument spec comes from, per module:

* ``Ansible.Basic`` modules: the ``$spec = @{ ... }`` literal in ``plugins/modules/<name>.ps1``,
  parsed as a PowerShell hashtable literal, merged with the fragments passed to
  ``[Ansible.Basic.AnsibleModule]::Create($args, $spec, @(Get-X))`` as Ansible.Basic's
  ``MergeFragmentSpec`` does; each ``Get-X`` is read from the hashtable literal that function
  returns in the module_util the module requires (win_get_url, win_package: WebRequest.psm1).
* Legacy modules (``Parse-Args`` + ``Get-AnsibleParam``: win_shell, win_file, win_copy,
  win_reg_stat, slurp): the ``Get-AnsibleParam`` calls.
* A value the parser cannot evaluate (an expression such as win_package's
  ``choices = $providerInfo.Keys + "auto"``) is taken from the module's DOCUMENTATION and the
  fallback is listed in ``UpstreamSpec.notes``; so is a spec changed by code after the literal
  (setup.ps1 adds the caller's unknown options as ``raw``: the setup emulation says so itself).

DOCUMENTATION (``<name>.py``, or ``<name>.yml`` for setup/slurp, plus its doc fragments) is
parsed too, for those fallbacks and for the cross-check test; RETURN for the result-shape test.
Test fixture: never shipped.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import sys
import threading

import yaml

from tests.winsim.modules._base import Emulated, Opt, Spec

COLLECTION = "ansible.windows"


class UpstreamError(Exception):
    """The installed collection cannot be found or read: the simulated host cannot check arguments."""


class Unreadable(str):
    """A PowerShell expression the literal parser does not evaluate; the value is its source text."""


# finding the collection ---------------------------------------------------------------------

_lock = threading.RLock()
_dir_cache: dict = {}


def collection_dir() -> str:
    """ansible.windows' directory, as Ansible's collection loader resolves it (first path holding it wins)."""
    key = (os.environ.get("ANSIBLE_CONFIG"), os.environ.get("ANSIBLE_COLLECTIONS_PATH"),
           os.environ.get("ANSIBLE_COLLECTIONS_PATHS"), os.getcwd())
    with _lock:
        if key not in _dir_cache:
            _dir_cache[key] = _find_collection()
        return _dir_cache[key]


def _find_collection() -> str:
    from ansible.config.manager import ConfigManager

    # A fresh ConfigManager: ansible.constants is frozen at first import, tests change the environment.
    # The first configured path that holds the collection wins, then sys.path when Ansible scans it
    # (the collection loader's own order); its finder is not used here because a test process may
    # already have one installed for another set of paths.
    config = ConfigManager()
    paths = list(config.get_config_value("COLLECTIONS_PATHS") or [])
    if config.get_config_value("COLLECTIONS_SCAN_SYS_PATH"):
        paths += [p for p in sys.path if p]
    for path in paths:
        candidate = os.path.join(os.path.expanduser(path), "ansible_collections", "ansible", "windows")
        if os.path.isdir(os.path.join(candidate, "plugins", "modules")):
            return candidate
    raise UpstreamError(f"simulated host: collection {COLLECTION} not found in COLLECTIONS_PATHS {paths} "
                        "(set ANSIBLE_CONFIG or ANSIBLE_COLLECTIONS_PATH as for ansible-playbook)")


# the PowerShell literal parser ----------------------------------------------------------------

_VAR = re.compile(r"\$(?:\{[^}]*\}|[\w:?]+)(?:\.\w+|\[[^\]]*\])*")
_NUMBER = re.compile(r"-?(0x[0-9a-fA-F]+|\d+(\.\d+)?)(?![\w.])")
_KEY = re.compile(r"[A-Za-z_][\w-]*")


class _Parser:
    """Hashtable/array/string/number/bool literals of PowerShell, with its array rules.

    ``@( ... )`` collects the output of its statements, each unrolled one level (so
    ``@(@('a'))`` is ``@('a')``); ``a, b`` builds an array; a leading ``,`` wraps its operand
    in a one-element array (so ``@(, @('a', 'b'))`` stays an array of one array). Anything else
    (variables, operators, calls) is returned as ``Unreadable`` source text.
    """

    def __init__(self, text: str, pos: int = 0, command: bool = False):
        # command: parsing a command's arguments, where " -name" starts the next parameter
        self.text, self.pos, self.command = text, pos, command

    def at_parameter(self) -> bool:
        return self.command and re.match(r"-[A-Za-z]", self.text[self.pos:self.pos + 2]) is not None

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos:self.pos + n]

    def error(self, what: str) -> UpstreamError:
        line = self.text.count("\n", 0, self.pos) + 1
        return UpstreamError(f"cannot parse the PowerShell literal at line {line}: {what}")

    def ws(self, newlines: bool) -> None:
        """Skip blanks, comments and line continuations (and newlines when they do not end a statement)."""
        text = self.text
        while self.pos < len(text):
            c = text[self.pos]
            if c in " \t" or (newlines and c in "\r\n"):
                self.pos += 1
            elif c == "`" and text[self.pos + 1:self.pos + 2] in ("\r", "\n"):
                self.pos += 2
            elif text.startswith("<#", self.pos):
                end = text.find("#>", self.pos)
                self.pos = len(text) if end < 0 else end + 2
            elif c == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return

    def hashtable(self) -> dict:
        if self.peek(2) != "@{":
            raise self.error("expected '@{'")
        self.pos += 2
        out: dict = {}
        while True:
            self.ws(True)
            if self.peek() == "}":
                self.pos += 1
                return out
            if self.peek() == ";":
                self.pos += 1
                continue
            if self.peek() in ("'", '"'):
                key = self.string()
            else:
                m = _KEY.match(self.text, self.pos)
                if not m:
                    raise self.error("expected a key")
                key = m.group(0)
                self.pos = m.end()
            self.ws(False)
            if self.peek() != "=":
                raise self.error(f"expected '=' after {key}")
            self.pos += 1
            self.ws(False)
            out[key] = self.statement()

    def statement(self):
        """One pipeline-free statement: a comma expression."""
        if self.peek() == ",":              # unary comma: a one-element array
            self.pos += 1
            self.ws(True)
            return [self.operand()]
        items = [self.operand()]
        while True:
            self.ws(False)
            if self.peek() != ",":
                break
            self.pos += 1
            self.ws(True)
            items.append(self.operand())
        return items[0] if len(items) == 1 else items

    def operand(self):
        start = self.pos
        value = self.primary()
        save = self.pos
        self.ws(False)
        if self.command and self.pos > save and self.peek() != ",":
            self.pos = save                 # command mode: a blank ends an argument
            return value
        if self.pos < len(self.text) and self.text[self.pos] not in ",;\r\n})" and not self.at_parameter():
            return self.unreadable(start)   # an operator follows: an expression, not a literal
        self.pos = save
        return value

    def unreadable(self, start: int) -> Unreadable:
        """Source text from start to the end of the statement (brackets and quotes balanced)."""
        depth, text = 0, self.text
        while self.pos < len(text):
            c = text[self.pos]
            if c in "'\"":
                self.string()
                continue
            if c in "({[":
                depth += 1
            elif c in ")}]":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and c in ";\r\n":
                break
            elif depth == 0 and c in " \t":
                save = self.pos
                self.ws(False)
                if self.at_parameter():
                    break
                self.pos = save
            self.pos += 1
        return Unreadable(text[start:self.pos].strip())

    def primary(self):
        text, start = self.text, self.pos
        two = self.peek(2)
        if two == "@{":
            return self.hashtable()
        if two == "@(":
            self.pos += 2
            out: list = []
            while True:
                self.ws(True)
                if self.peek() == ")":
                    self.pos += 1
                    return out
                if self.peek() == ";":
                    self.pos += 1
                    continue
                value = self.statement()
                out.extend(value) if isinstance(value, list) else out.append(value)
        c = self.peek()
        if c in ("'", '"'):
            return self.string()
        if c == "(":
            command, self.command = self.command, False   # expression mode inside parentheses
            try:
                self.pos += 1
                self.ws(True)
                value = self.statement()
                self.ws(True)
                if self.peek() == ")" and not isinstance(value, Unreadable):
                    self.pos += 1
                    return value
            finally:
                self.command = command
            self.pos = start
            return self.unreadable(start)
        if c == "$":
            m = _VAR.match(text, self.pos)
            word = m.group(0).lower() if m else "$"
            self.pos = m.end() if m else self.pos + 1
            if word in ("$true", "$false", "$null"):
                return {"$true": True, "$false": False, "$null": None}[word]
            return Unreadable(text[start:self.pos])
        m = _NUMBER.match(text, self.pos)
        if m:
            self.pos = m.end()
            raw = m.group(0)
            return int(raw, 16) if "0x" in raw.lower() else float(raw) if "." in raw else int(raw)
        return self.unreadable(start)

    def string(self) -> str:
        text, quote = self.text, self.text[self.pos]
        i, out, expandable = self.pos + 1, [], False
        while i < len(text):
            c = text[i]
            if c == quote:
                if text[i + 1:i + 2] == quote:     # doubled quote: a literal quote
                    out.append(quote)
                    i += 2
                    continue
                self.pos = i + 1
                value = "".join(out)
                return Unreadable(text[self.pos - len(value) - 2:self.pos]) if expandable else value
            if quote == '"' and c == "`" and i + 1 < len(text):
                out.append({"n": "\n", "r": "\r", "t": "\t", "0": "\0"}.get(text[i + 1], text[i + 1]))
                i += 2
                continue
            if quote == '"' and c == "$" and re.match(r"[\w{(:]", text[i + 1:i + 2]):
                expandable = True                  # "...$var...": expanded at run time
            out.append(c)
            i += 1
        raise self.error("unterminated string")


def parse_hashtable(text: str, pos: int) -> dict:
    return _Parser(text, pos).hashtable()


# reading the module sources ---------------------------------------------------------------------

@dataclasses.dataclass
class UpstreamSpec:
    """What the installed ansible.windows says about one module's arguments."""

    module: str
    source: str                 # "ps1 $spec", "ps1 Get-AnsibleParam"
    spec: dict                  # Ansible.Basic-style: options (name -> option dict), mutually_exclusive, ...
    legacy: bool
    notes: list                 # what did not come from the .ps1 literal, and why
    files: list                 # the files read (for the cache key)


def _read(path: str) -> str:
    with open(path, encoding="utf-8-sig") as f:
        return f.read()


def _module_util_path(base: str, ps1: str, function: str) -> str | None:
    """The module_util a module requires (#AnsibleRequires -PowerShell ..module_utils.X) that defines function."""
    for m in re.finditer(r"(?im)^#AnsibleRequires\s+-PowerShell\s+(\S+)", ps1):
        name = m.group(1).rsplit(".", 1)[-1]
        path = os.path.join(base, "plugins", "module_utils", name + ".psm1")
        if os.path.exists(path) and re.search(rf"(?im)^\s*Function\s+{re.escape(function)}\b", _read(path)):
            return path
    return None


def _fragment(base: str, ps1: str, function: str, notes: list, files: list) -> dict | None:
    path = _module_util_path(base, ps1, function)
    if path is None:
        notes.append(f"fragment {function}: module_util not found, its options come from DOCUMENTATION")
        return None
    text = _read(path)
    files.append(path)
    m = re.search(rf"(?im)^\s*Function\s+{re.escape(function)}\s*\{{", text)
    parser = _Parser(text, m.end())
    parser.ws(True)                      # the comment-based help before the returned literal
    if parser.peek(2) != "@{":
        notes.append(f"fragment {function}: not a hashtable literal, its options come from DOCUMENTATION")
        return None
    return parser.hashtable()


def _merge_fragment(spec: dict, fragment: dict) -> None:
    """Ansible.Basic.cs MergeFragmentSpec: the module's own keys win, dicts merge, lists append."""
    for key, value in fragment.items():
        if key in spec:
            if isinstance(value, dict) and isinstance(spec[key], dict):
                _merge_fragment(spec[key], value)
            elif isinstance(value, list) and isinstance(spec[key], list):
                spec[key].extend(value)
        else:
            spec[key] = value


_GET_PARAM = re.compile(r"Get-AnsibleParam\b(.*)$", re.IGNORECASE | re.MULTILINE)


def _legacy_spec(ps1: str, notes: list) -> dict:
    """Parse-Args + Get-AnsibleParam calls (Ansible.ModuleUtils.Legacy) as an option spec."""
    m = re.search(r"Parse-Args\b[^\n]*-supports_check_mode\s+(\$true|\$false)", ps1, re.IGNORECASE)
    spec: dict = {"options": {}, "supports_check_mode": bool(m and m.group(1).lower() == "$true")}
    for call in _GET_PARAM.finditer(ps1):
        args, named, positional = call.group(1), {}, []
        parser = _Parser(args, command=True)
        while True:
            parser.ws(False)
            if parser.pos >= len(args) or args[parser.pos] in ")|;\r\n}":
                break
            flag = re.match(r"-(\w+)", args[parser.pos:])
            if flag:      # every Get-AnsibleParam parameter takes a value
                parser.pos += flag.end()
                parser.ws(False)
                named[flag.group(1).lower()] = parser.statement()
            else:
                positional.append(parser.statement())
        if "obj" not in named and positional:
            positional = positional[1:]              # Get-AnsibleParam $params "name" ...
        name = named.get("name", positional[0] if positional else None)
        if not isinstance(name, str) or isinstance(name, Unreadable) or name.startswith("_ansible_"):
            continue    # _ansible_* are Ansible's pass-through variables, not options
        option: dict = {"type": named.get("type", "str") if isinstance(named.get("type"), str) else "str"}
        if "default" in named:
            option["default"] = named["default"]
        if "validateset" in named:
            option["choices"] = named["validateset"] if isinstance(named["validateset"], list) else [named["validateset"]]
        if "aliases" in named:
            option["aliases"] = named["aliases"] if isinstance(named["aliases"], list) else [named["aliases"]]
        if "failifempty" in named:
            option["required"] = named["failifempty"]
        spec["options"][name] = option
    return spec


def _ps1_spec(base: str, module: str, notes: list, files: list) -> tuple[dict, bool, str]:
    path = os.path.join(base, "plugins", "modules", module + ".ps1")
    ps1 = _read(path)
    files.append(path)
    m = re.search(r"(?m)^\$spec\s*=\s*@\{", ps1)
    if m is None:
        if re.search(r"Parse-Args\b", ps1, re.IGNORECASE):
            return _legacy_spec(ps1, notes), True, "ps1 Get-AnsibleParam"
        raise UpstreamError(f"simulated host: no $spec literal or Parse-Args in {path}")
    parser = _Parser(ps1, m.start() + m.group(0).index("@{"))
    spec = parser.hashtable()
    after = ps1[parser.pos:]
    if re.search(r"\$spec\.\w+(\.\$?[\w(\"')$]+)*\s*=", after):
        line = ps1.count("\n", 0, parser.pos + re.search(r"\$spec\.\w+", after).start()) + 1
        notes.append(f"$spec is changed by code at {module}.ps1:{line} (not read)")
    create = re.search(r"\[Ansible\.Basic\.AnsibleModule\]::Create\(\s*\$args\s*,\s*\$spec\s*(?:,\s*@\(([^)]*)\))?",
                       after, re.IGNORECASE)
    for function in re.findall(r"Get-[\w-]+", (create.group(1) or "") if create else ""):
        fragment = _fragment(base, ps1, function, notes, files)
        if fragment is not None:
            _merge_fragment(spec, fragment)
            notes.append(f"fragment {function} merged from its module_util literal")
    return spec, False, "ps1 $spec"


def _doc_yaml(base: str, module: str, files: list) -> dict:
    """DOCUMENTATION and RETURN of a module (<name>.py, or <name>.yml for setup/slurp), fragments merged."""
    py = os.path.join(base, "plugins", "modules", module + ".py")
    if os.path.exists(py):
        files.append(py)
        found = {}
        for node in ast.parse(_read(py)).body:
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) \
                    and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found[node.targets[0].id] = node.value.value
        docs = {k: yaml.safe_load(found[k]) if found.get(k) else None for k in ("DOCUMENTATION", "RETURN")}
    else:
        yml = os.path.join(base, "plugins", "modules", module + ".yml")
        files.append(yml)
        data = yaml.safe_load(_read(yml))
        docs = {"DOCUMENTATION": data.get("DOCUMENTATION"), "RETURN": data.get("RETURN")}
    doc = docs["DOCUMENTATION"] or {}
    options = dict(doc.get("options") or {})
    for fragment in doc.get("extends_documentation_fragment") or []:
        ns, _sep, name = fragment.rpartition(".")
        if ns != COLLECTION:
            continue
        path = os.path.join(base, "plugins", "doc_fragments", name + ".py")
        files.append(path)
        for node in ast.walk(ast.parse(_read(path))):
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION":
                for key, value in (yaml.safe_load(node.value.value).get("options") or {}).items():
                    options.setdefault(key, value)
    return {"options": options, "return": docs["RETURN"] or {}}


def documentation(module: str) -> dict:
    """{'options': DOCUMENTATION options (fragments merged), 'return': RETURN} of the installed module."""
    return _doc_yaml(collection_dir(), module, [])


def _fill_unreadable(module: str, spec: dict, doc_options: dict, where: str, notes: list) -> None:
    """Replace values the parser could not evaluate by DOCUMENTATION's, saying so."""
    for name, option in list((spec.get("options") or {}).items()):
        if not isinstance(option, dict):
            continue
        doc = doc_options.get(name) or {}
        for key, value in list(option.items()):
            if isinstance(value, Unreadable):
                doc_key = {"failifempty": "required"}.get(key, key)
                fallback = doc.get(doc_key) if key != "required" else doc.get("required", False)
                told = f"DOCUMENTATION gives {fallback!r}" if fallback is not None else "left unset"
                notes.append(f"{where}{name}.{key} = {value!s} is code: {told}")
                if fallback is None:
                    del option[key]
                else:
                    option[key] = fallback
            elif key == "options" and isinstance(value, dict):
                _fill_unreadable(module, option, doc.get("suboptions") or {}, f"{where}{name}.", notes)


def upstream_spec(module: str) -> UpstreamSpec:
    base = collection_dir()
    notes: list = []
    files: list = []
    spec, legacy, source = _ps1_spec(base, module, notes, files)
    doc = _doc_yaml(base, module, files)
    _fill_unreadable(module, spec, doc["options"], "", notes)
    return UpstreamSpec(module, source, spec, legacy, notes, files)


# building the simulated host's Spec ---------------------------------------------------------------

def _tuple(value) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (value,)


def _groups(value) -> tuple:
    return tuple(tuple(g) if isinstance(g, list) else (g,) for g in (value or []))


def _opt(name: str, raw: dict, not_emulated: set, prefix: str = "") -> Opt:
    kind = raw.get("type", "str")
    opt = Opt(type=kind if isinstance(kind, str) else "raw",
              default=raw.get("default"),
              choices=_tuple(raw["choices"]) if raw.get("choices") is not None else None,
              required=bool(raw.get("required", False)),
              no_log=bool(raw.get("no_log", False)),
              aliases=_tuple(raw.get("aliases")),
              elements=raw.get("elements"),
              emulated=(prefix + name) not in not_emulated)
    if isinstance(raw.get("options"), dict):
        opt.options = {k: _opt(k, v, not_emulated, f"{prefix}{name}.") for k, v in raw["options"].items()}
        opt.sub = _checks(raw)
    return opt


def _checks(raw: dict) -> dict:
    return {"mutually_exclusive": _groups(raw.get("mutually_exclusive")),
            "required_one_of": _groups(raw.get("required_one_of")),
            "required_together": _groups(raw.get("required_together")),
            "required_if": tuple((r[0], r[1], _tuple(r[2]), *(r[3:4])) for r in raw.get("required_if") or []),
            "required_by": {k: _tuple(v) for k, v in (raw.get("required_by") or {}).items()}}


_cache: dict = {}


def _stamp(files: list) -> tuple:
    return tuple((f, os.stat(f).st_mtime_ns, os.stat(f).st_size) for f in files)


def spec_for(emulated: Emulated) -> Spec:
    """The simulated module's Spec: the installed module's, with the options it does not emulate marked."""
    with _lock:
        base = collection_dir()
        hit = _cache.get((base, emulated))
        if hit is not None and _stamp(hit[0]) == hit[1]:
            return hit[2]
        up = upstream_spec(emulated.module)
        options = {k: _opt(k, v, set(emulated.not_emulated)) for k, v in up.spec["options"].items()}
        unknown = [n for n in emulated.not_emulated if _lookup(options, n) is None]
        if unknown:
            # An option the emulation names is gone upstream: say so rather than refuse nothing.
            raise UpstreamError(f"simulated host: {emulated.module} has no option(s) {', '.join(unknown)} any more "
                                f"(the emulation lists them as not emulated)")
        spec = Spec(options=options, supports_check_mode=bool(up.spec.get("supports_check_mode", False)),
                    legacy=up.legacy, extra_options_raw=emulated.extra_options_raw, **_checks(up.spec))
        spec.notes = tuple(up.notes)
        _cache[(base, emulated)] = (up.files, _stamp(up.files), spec)
        return spec


def _lookup(options: dict, dotted: str):
    head, _sep, rest = dotted.partition(".")
    opt = options.get(head)
    if opt is None or not rest:
        return opt
    return _lookup(opt.options or {}, rest)
