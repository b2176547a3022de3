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
    sub_mutually_exclusive: tuple = ()
    sub_required_one_of: tuple = ()


@dataclasses.dataclass
class Spec:
    options: dict
    supports_check_mode: bool = True
    mutually_exclusive: tuple = ()
    required_one_of: tuple = ()
    required_if: tuple = ()               # (key, value, (names...), any_of)
    legacy: bool = False                  # Legacy Parse-Args: no arg checks, no invocation
    extra_options_raw: bool = False       # setup: unknown options are accepted as raw


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

    def __init__(self, machine, inv, spec: Spec, cancel):
        self.machine, self.inv, self.spec, self.cancel = machine, inv, spec, cancel
        self.name = inv.args.get("_ansible_module_name") or inv.name
        self.check_mode = inv.check_mode
        self.result: dict = {"changed": False}
        self.no_log_values: set[str] = set()
        self.warnings: list[str] = []
        self.params: dict = {}
        self.raw_args = {k: v for k, v in inv.args.items() if not k.startswith("_ansible_")}

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

    def _basic_params(self, options: dict, given: dict, context: list, root: bool = False) -> dict:
        legal = set(options)
        aliases = {a: n for n, o in options.items() for a in o.aliases}
        legal |= set(aliases)
        unsupported = [k for k in given if k not in legal]
        if self.spec.extra_options_raw and root:
            for key in unsupported:
                options[key] = Opt(type="raw")
            unsupported = []
        if unsupported:
            where = f" found in {' -> '.join(context)}" if context else ""
            raise ModuleFail(f"Unsupported parameters for ({self.name}) module: {', '.join(sorted(unsupported))}{where}. "
                             f"Supported parameters include: {', '.join(sorted(legal))}")
        if root and self.check_mode and not self.spec.supports_check_mode:
            self.result.update(skipped=True, msg=f"remote module ({self.name}) does not support check mode")
            raise ModuleExit()
        values = {}
        for alias, target in aliases.items():
            if alias in given:
                values[target] = given[alias]
        for key, value in given.items():
            if key in options:
                values[key] = value
        for group in (self.spec.mutually_exclusive if root else ()):
            hit = [k for k in group if values.get(k) is not None]
            if len(hit) > 1:
                raise ModuleFail(f"parameters are mutually exclusive: {', '.join(group)}")
        missing = [n for n, o in options.items() if o.required and values.get(n) is None]
        if missing:
            where = f" found in {' -> '.join(context)}" if context else ""
            raise ModuleFail(f"missing required arguments: {', '.join(sorted(missing))}{where}")
        for group in (self.spec.required_one_of if root else ()):
            if not any(values.get(k) is not None for k in group):
                raise ModuleFail(f"one of the following is required: {', '.join(group)}")
        params = {}
        for name, opt in options.items():
            value = values.get(name)
            if value is None:
                params[name] = list(opt.default) if isinstance(opt.default, tuple) else opt.default
                continue
            value = self._convert(name, opt, value, context)
            if opt.choices is not None:
                check = value if isinstance(value, list) else [value]
                bad = [v for v in check if v not in opt.choices]
                if bad:
                    raise ModuleFail(f"value of {name} must be one of: {', '.join(map(str, opt.choices))}. "
                                     f"Got no match for: {', '.join(map(str, bad))}")
            if opt.no_log and value not in (None, ""):
                self.no_log_values.add(_str(value))
            params[name] = value
        if root:
            for key, value, names, *any_of in self.spec.required_if:
                if params.get(key) == value:
                    missing = [n for n in names if params.get(n) is None]
                    if (any_of and any_of[0] and len(missing) == len(names)) or (not (any_of and any_of[0]) and missing):
                        raise ModuleFail(f"{key} is {value} but {'any' if any_of and any_of[0] else 'all'} of the "
                                         f"following are missing: {', '.join(missing)}")
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
        if kind == "int":
            try:
                return int(value)
            except (TypeError, ValueError):
                raise ModuleFail(f"argument for {name} is of type {type(value).__name__} and we were unable to "
                                 "convert to int") from None
        if kind == "dict":
            if isinstance(value, str):
                value = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
            if not isinstance(value, dict):
                raise ModuleFail(f"argument for {name} is of type {type(value).__name__} and we were unable to "
                                 "convert to dict")
            if opt.options is not None:
                return self._basic_params(dict(opt.options), value, [*(context or []), name])
            return value
        if kind == "list":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",")]
            elif not isinstance(value, list):
                value = [value]
            if opt.elements:
                sub = Opt(type=opt.elements, options=opt.options)
                out = []
                for item in value:
                    if opt.elements == "dict" and opt.options is not None:
                        item_params = self._basic_params(dict(opt.options), item if isinstance(item, dict) else {},
                                                         [*(context or []), name])
                        for group in opt.sub_mutually_exclusive:
                            hit = [k for k in group if item_params.get(k) is not None]
                            if len(hit) > 1:
                                raise ModuleFail(f"parameters are mutually exclusive: {', '.join(group)} found in "
                                                 f"{name}")
                        for group in opt.sub_required_one_of:
                            if not any(item_params.get(k) is not None for k in group):
                                raise ModuleFail(f"one of the following is required: {', '.join(group)} found in "
                                                 f"{name}")
                        out.append(item_params)
                    else:
                        out.append(self._convert(name, sub, item, context))
                return out
            return value
        raise ModuleFail(f"implementation error: unknown type {kind} for {name}")   # pragma: no cover

    def refuse_unemulated(self) -> None:
        """Fail naming the options set to something the simulated host does not emulate."""
        bad = []
        for name, opt in self.spec.options.items():
            if opt.emulated:
                continue
            value = self.params.get(name)
            default = list(opt.default) if isinstance(opt.default, tuple) else opt.default
            if value is not None and value != default:
                bad.append(name)
        if bad:
            short = self.inv.name.rsplit(".", 1)[-1]
            raise ModuleFail(f"simulated host: {short} option(s) {', '.join(bad)} are not emulated")

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
