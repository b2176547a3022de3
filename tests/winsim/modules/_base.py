"""Argument handling of the emulated modules, as Ansible.Basic (or Legacy Parse-Args) does it.

A module declares the real module's options (so "Unsupported parameters" and the invocation
look the same), and marks those the simulated host does not emulate: a task that sets one
of those to anything but its default fails naming it, rather than pretending.
Test fixture: never shipped.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import typing as t

NO_LOG_VALUE = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
# Ansible.Basic's pass-through vars (_ansible_<name>); anything else starting with _ansible_ is unsupported.
PASS_VARS = {"check_mode", "debug", "diff", "keep_remote_files", "ignore_unknown_opts", "module_name", "no_log",
             "remote_tmp", "selinux_special_fs", "shell_executable", "socket", "syslog_facility", "target_log_info",
             "tracebacks_for", "tmpdir", "verbosity", "version", "string_conversion_action"}
_MISSING = object()


class ModuleFail(Exception):
    """FailJson: the module stops with failed=true, msg and extra result keys."""

    def __init__(self, msg: str, **extra):
        super().__init__(msg)
        self.msg, self.extra = msg, extra


class ScriptThrow(Exception):
    """A 'throw' in the module's PowerShell: module_wrapper reports it as an unhandled exception."""


class ModuleExit(Exception):
    """ExitJson before the end (skips)."""


@dataclasses.dataclass(frozen=True)
class Emulated:
    """What an emulation declares: the ansible.windows module it emulates, and the options it does not.

    Everything else about the arguments (names, types, defaults, choices, required_*) is read
    from the installed ansible.windows by ``upstream.spec_for``. A task setting an option in
    ``not_emulated`` (dotted for a sub-option) to anything but its default fails naming it.
    """

    module: str
    not_emulated: tuple = ()
    extra_options_raw: bool = False       # setup.ps1 adds the caller's unknown options as raw (code, not its $spec)


@dataclasses.dataclass
class Opt:
    type: str = "str"
    default: t.Any = None
    choices: tuple | None = None
    required: bool = False
    no_log: bool = False
    aliases: tuple = ()
    elements: str | None = None
    options: dict | None = None          # sub-options of a dict / list of dicts
    emulated: bool = True                # False: the simulated host refuses a non-default value
    sub: dict | None = None              # the sub-spec's mutually_exclusive, required_one_of, ... (as Spec's)


@dataclasses.dataclass
class Spec:
    options: dict
    supports_check_mode: bool = True
    mutually_exclusive: tuple = ()
    required_one_of: tuple = ()
    required_together: tuple = ()
    required_if: tuple = ()               # (key, value, (names...), any_of)
    required_by: dict = dataclasses.field(default_factory=dict)
    legacy: bool = False                  # Legacy Parse-Args: no arg checks, no invocation
    extra_options_raw: bool = False       # setup: unknown options are accepted as raw
    notes: tuple = ()                     # where the spec did not come from the .ps1 literal (upstream.py)

    def checks(self) -> dict:
        return {"mutually_exclusive": self.mutually_exclusive, "required_one_of": self.required_one_of,
                "required_together": self.required_together, "required_if": self.required_if,
                "required_by": self.required_by}


def _parse_bool(value, name):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "on", "1", "true", "y", "t"):
        return True
    if text in ("no", "off", "0", "false", "n", "f", ""):
        return False
    raise ModuleFail(f"argument for {name} is of type {type(value).__name__} and we were unable to convert to bool: "
                     f"The value '{value}' is not a valid boolean. Valid booleans include: 0, 'on', 'f', 'false', "
                     "1, 'no', 'n', 'off', 'y', 'true', 'yes', 't'")


def _str(value):
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


class Module:
    """One run of a module: parsed params, the result being built, the machine it acts on."""

    def __init__(self, machine, inv, spec: Spec | Emulated, cancel):
        self.machine, self.inv, self.cancel = machine, inv, cancel
        self.emulated = spec
        self._spec = spec if isinstance(spec, Spec) else None
        self.name = inv.args.get("_ansible_module_name") or inv.name
        self.check_mode = inv.check_mode
        self.result: dict = {"changed": False}
        self.no_log_values: set[str] = set()
        self.warnings: list[str] = []
        self.params: dict = {}
        self.defaults: dict = {}          # dotted option name -> its default, converted as the value would be
        self.raw_args = {k: v for k, v in inv.args.items() if not k.startswith("_ansible_")}

    @property
    def spec(self) -> Spec:
        """The real module's spec, read from the installed ansible.windows on first use (upstream.py)."""
        if self._spec is None:
            from tests.winsim.modules import upstream

            self._spec = upstream.spec_for(self.emulated)
        return self._spec

    # environment of the module process ---------------------------------------------------

    def env(self) -> dict:
        from tests.winsim import programs

        return programs.process_env(self.machine, self.inv.environment, self.inv.run_as)

    def expand_path(self, value: str) -> str:
        from tests.winsim.payload import expand_env

        return expand_env(value, self.env())

    def fail_json(self, msg: str, **extra) -> t.NoReturn:
        raise ModuleFail(msg, **extra)

    def exit_json(self) -> t.NoReturn:
        raise ModuleExit()

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    # argument parsing ------------------------------------------------------------------------

    def parse(self) -> None:
        if self.spec.legacy:
            self.params = self._legacy_params()
            if self.check_mode and not self.spec.supports_check_mode:
                self.result = {"skipped": True, "changed": False, "msg": "remote module does not support check mode"}
                raise ModuleExit()
            return
        self.params = self._basic_params(self.spec.options, self.raw_args, [], root=True)

    def _legacy_params(self) -> dict:
        params = {}
        for name, opt in self.spec.options.items():
            value = _MISSING
            for key in (name, *opt.aliases):
                if key in self.raw_args:
                    value = self.raw_args[key]
                    break
            self.defaults[name] = opt.default
            if value is _MISSING or value is None:
                if opt.required:
                    raise ModuleFail(f"Get-AnsibleParam: Missing required argument: {name}")
                params[name] = opt.default
                continue
            if opt.choices and str(value) not in opt.choices:
                raise ModuleFail(f"Get-AnsibleParam: Argument {name} needs to be one of {','.join(opt.choices)} "
                                 f"but was {value}.")
            params[name] = self._convert(name, opt, value)
        return params

    def _basic_params(self, options: dict, given: dict, context: list, root: bool = False,
                      checks: dict | None = None) -> dict:
        """Ansible.Basic.cs CheckArguments, in its order (the line numbers are ansible-core 2.19's)."""
        checks = checks if checks is not None else (self.spec.checks() if root else {})
        where = f" found in {' -> '.join(context)}" if context else ""
        values = dict(given)
        aliases = {}
        for name, opt in options.items():      # GetAliases (:804-823): an alias's value is copied to the option
            for alias in opt.aliases:
                aliases[alias] = name
                if alias in values:
                    values[name] = values[alias]
        legal = [*options, *aliases]
        if self.spec.extra_options_raw and root:
            options = dict(options)    # the Spec is shared between runs
            # setup.ps1:26-49 adds each unknown option not starting with '_' to its spec as raw.
            for key in given:
                if key not in legal and not key.startswith("_"):
                    options[key] = Opt(type="raw")
                    legal.append(key)
        by_lower = {k.lower(): k for k in legal}
        unsupported = [k for k in given if k.lower() not in by_lower]   # CheckUnsupportedArguments (:1023-1094)
        if unsupported:
            raise ModuleFail(f"Unsupported parameters for ({self.name}) module: {', '.join(sorted(unsupported))}{where}. "
                             f"Supported parameters include: {', '.join(sorted(legal))}")
        for key in [k for k in values if k not in legal]:    # a case-insensitive match takes the spec's spelling
            values[by_lower[key.lower()]] = values.pop(key)
        for key in aliases:
            values.pop(key, None)
        if root and self.check_mode and not self.spec.supports_check_mode:
            self.result.update(skipped=True, msg=f"remote module ({self.name}) does not support check mode")
            raise ModuleExit()
        # From here on "set" means present in the args, as Ansible.Basic's param.Contains(k): a null counts.
        for group in checks.get("mutually_exclusive") or ():
            if sum(k in values for k in group) > 1:
                raise ModuleFail(f"parameters are mutually exclusive: {', '.join(group)}{where}")
        for name, opt in options.items():      # CheckRequiredArguments (:1117-1140): defaults first
            if opt.default is not None and name not in values:
                values[name] = list(opt.default) if isinstance(opt.default, tuple) else opt.default
        missing = [n for n, o in options.items() if o.required and n not in values]
        if missing:
            raise ModuleFail(f"missing required arguments: {', '.join(sorted(missing))}{where}")
        params = {}
        for name, opt in options.items():
            value = values.get(name)
            if value is not None:
                value = self._convert(name, opt, value, context)
                if opt.choices is not None:     # :964-984, compared case-insensitively
                    check = value if isinstance(value, list) else [value]
                    allowed = {_str(c).lower() for c in opt.choices}
                    bad = [_str(v) for v in check if _str(v).lower() not in allowed]
                    if bad:
                        which = "one or more of" if opt.type == "list" else "one of"
                        raise ModuleFail(f"value of {name} must be {which}: {', '.join(map(_str, opt.choices))}. "
                                         f"Got no match for: {', '.join(bad)}{where}")
                if opt.no_log and value not in (None, ""):
                    self.no_log_values.add(_str(value))
            if opt.default is not None:
                default = list(opt.default) if isinstance(opt.default, tuple) else opt.default
                self.defaults[".".join([*context, name])] = self._convert(name, opt, default, context)
            params[name] = value
        for group in checks.get("required_together") or ():
            found = [k in values for k in group]
            if any(found) and not all(found):
                raise ModuleFail(f"parameters are required together: {', '.join(group)}{where}")
        for group in checks.get("required_one_of") or ():
            if not any(k in values for k in group):
                raise ModuleFail(f"one of the following is required: {', '.join(group)}{where}")
        for key, value, names, *any_of in checks.get("required_if") or ():
            if params.get(key) is None or _str(params[key]) != _str(value):
                continue
            missing = [n for n in names if n not in values]
            any_one = bool(any_of and any_of[0])
            if len(missing) >= (len(names) if any_one else 1):
                raise ModuleFail(f"{key} is {value} but {'any' if any_one else 'all'} of the following are missing: "
                                 f"{', '.join(missing)}{where}")
        for key, names in (checks.get("required_by") or {}).items():
            if key in values:
                missing = [n for n in names if n not in values]
                if missing:
                    raise ModuleFail(f"missing parameter(s) required by '{key}': {', '.join(missing)}{where}")
        for name, opt in options.items():      # CheckSubOption (:1253-1300)
            value = params[name]
            if value is None or opt.options is None:
                continue
            if opt.type == "dict":
                params[name] = self._basic_params(dict(opt.options), value, [*context, name], checks=opt.sub or {})
            elif opt.type == "list" and opt.elements == "dict":
                params[name] = [self._basic_params(dict(opt.options), item, [*context, name], checks=opt.sub or {})
                                for item in value]
        return params

    def _convert(self, name: str, opt: Opt, value, context: list | None = None):
        kind = opt.type
        if kind == "raw":
            return value
        if kind == "str":
            return _str(value)
        if kind == "path":
            return self.expand_path(_str(value))
        if kind == "bool":
            return _parse_bool(value, name)
        if kind in ("int", "float"):
            try:
                return (int if kind == "int" else float)(value)
            except (TypeError, ValueError):
                raise ModuleFail(f"argument for {name} is of type {type(value).__name__} and we were unable to "
                                 f"convert to {kind}") from None
        if kind == "json":
            import json

            return value if isinstance(value, str) else json.dumps(value)
        if kind == "dict":
            if isinstance(value, str):
                value = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
            if not isinstance(value, dict):
                raise ModuleFail(f"argument for {name} is of type {type(value).__name__} and we were unable to "
                                 "convert to dict")
            return value
        if kind == "list":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",")]
            elif not isinstance(value, list):
                value = [value]
            if opt.elements and opt.elements != "dict":
                return [self._convert(name, Opt(type=opt.elements), item, context) for item in value]
            if opt.elements == "dict":
                return [self._convert(name, Opt(type="dict"), item, context) for item in value]
            return value
        raise ModuleFail(f"implementation error: unknown type {kind} for {name}")   # pragma: no cover

    def refuse_unemulated(self) -> None:
        """Fail naming the options set to something the simulated host does not emulate."""
        bad: list[str] = []
        self._unemulated(self.spec.options, self.params, [], bad)
        if bad:
            short = self.inv.name.rsplit(".", 1)[-1]
            raise ModuleFail(f"simulated host: {short} option(s) {', '.join(bad)} are not emulated")

    def _unemulated(self, options: dict, params: dict, context: list, bad: list) -> None:
        for name, opt in options.items():
            value = params.get(name) if isinstance(params, dict) else None
            dotted = ".".join([*context, name])
            if not opt.emulated and value is not None and value != self.defaults.get(dotted):
                bad.append(dotted)
            if opt.options and value is not None:
                for item in value if isinstance(value, list) else [value]:
                    self._unemulated(opt.options, item, [*context, name], bad)

    # the result ----------------------------------------------------------------------------

    def finish(self) -> dict:
        result = self.result
        if self.spec.legacy:
            result.setdefault("changed", False)
            return result
        if "invocation" not in result:
            result["invocation"] = {"module_args": self._scrub(self.params)}
        if self.warnings:
            result["warnings"] = self.warnings
        return result

    def _scrub(self, value):
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrub(v) for v in value]
        if value is None:
            return None
        text = _str(value)
        if text in self.no_log_values:
            return NO_LOG_VALUE
        if isinstance(value, str):
            for secret in self.no_log_values:
                if secret in value:
                    value = value.replace(secret, "********")
        elif any(secret in text for secret in self.no_log_values):
            return NO_LOG_VALUE
        return value


def now_text() -> str:
    """DateTime.UtcNow.ToString('yyyy-MM-dd HH:mm:ss.ffffff')."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def delta_text(start: str, end: str) -> str:
    """TimeSpan.ToString('h\\:mm\\:ss\\.ffffff')."""
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    delta = datetime.datetime.strptime(end, fmt) - datetime.datetime.strptime(start, fmt)
    total = delta.total_seconds()
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{int(hours)}:{int(minutes):02d}:{seconds:09.6f}"


def path_tail(path: str) -> str:
    return re.split(r"[\\/]", path.rstrip("\\/"))[-1]


def is_abs(path: str) -> bool:
    return bool(re.match(r"^[A-Za-z]:\\", path)) or path.startswith("\\\\")


def sha1_hex(data: bytes) -> str:
    import hashlib

    return hashlib.sha1(data).hexdigest()


def checksum(data: bytes, algorithm: str = "sha1") -> str:
    import hashlib

    return hashlib.new(algorithm, data).hexdigest()
