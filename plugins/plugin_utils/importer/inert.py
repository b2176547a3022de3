# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keeping data from exports inert: YAML with Ansible's ``!unsafe`` tag.

Internal to this collection: no compatibility promise.

Exports are downloaded and shared; a step named ``{{ lookup('pipe', ...) }}`` must stay text.
Every string that comes from an export and holds a template marker is written with ``!unsafe``
(Ansible never templates it; text without a marker never is), and no such string is ever put
inside a Jinja expression: ansible-core evaluates templates embedded in an expression's string
constants. The only strings left live are the importer's own: secret references
(``{{ tasksequence_secret_<name> }}``) in the places where the importer put them.
"""

from __future__ import annotations

import re

import yaml

MARKERS = re.compile(r"\{\{|\{%|\{#")   # Jinja's variable, block and comment starts
SECRET_REF = re.compile(r"^\{\{ (tasksequence_secret_[a-z0-9_]{1,100}) \}\}$")
# YAML line breaks (PyYAML counts NEL and the Unicode separators too) and other controls.
_COMMENT_UNSAFE = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")


class Unsafe(str):
    """Text from an export: written as ``!unsafe``."""


class Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        # Lists indented under their key, as ansible-lint's examples are.
        return super().increase_indent(flow, False)


def _style(data: str) -> str | None:
    return "|" if "\n" in data and not data.endswith((" ", "\t")) else None


def _str_presenter(dumper, data):
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=_style(data))


def _unsafe_presenter(dumper, data):
    # Only text Jinja could read is tagged: ansible-core resolves a tagged scalar's type ignoring its
    # quotes (`!unsafe '5'` loads as 5, `!unsafe ''` as None, `!unsafe '*'` fails), and text without
    # a template marker is never templated anyway.
    tag = "!unsafe" if MARKERS.search(data) else "tag:yaml.org,2002:str"
    return dumper.represent_scalar(tag, str(data), style=_style(data))


Dumper.add_representer(str, _str_presenter)
Dumper.add_representer(Unsafe, _unsafe_presenter)


def unsafe(value):
    """Every string in ``value`` (keys too) marked as export data."""
    if isinstance(value, str):
        return value if isinstance(value, Unsafe) else Unsafe(value)
    if isinstance(value, dict):
        return {unsafe(k): unsafe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unsafe(v) for v in value]
    return value


def secret_ref(value, secrets: set[str]) -> str | None:
    """The variable name if ``value`` is exactly a reference to a listed secret."""
    m = SECRET_REF.match(value) if isinstance(value, str) else None
    return m.group(1) if m and m.group(1) in secrets else None


def comment(text) -> str:
    """Text safe inside a YAML comment: no line break can end the comment early."""
    return _COMMENT_UNSAFE.sub(" ", str(text))


def dump(data) -> str:
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, width=120, allow_unicode=True)


def definition_yaml(definition: dict) -> str:
    """A definition as YAML, every string inert except its own secret references.

    A secret reference stays live only where the importer writes one: a run-as or network
    password option, the value of a variable marked ``hidden``, or an action variable's value.
    """
    secrets = {s.get("variable") for s in definition.get("secrets") or [] if isinstance(s, dict)}
    return "---\n" + dump(_mark(definition, secrets, None))


SECRET_OPTIONS = ("run_as_password", "password")


def _mark(value, secrets: set[str], key):
    if isinstance(value, dict):
        hidden = value.get("hidden") is True or key == "action_variables"
        out = {}
        for k, v in value.items():
            live_key = k in SECRET_OPTIONS or (hidden and (k == "value" or key == "action_variables"))
            if isinstance(v, str) and live_key and secret_ref(v, secrets):
                out[Unsafe(k)] = v
            else:
                out[Unsafe(k) if isinstance(k, str) else k] = _mark(v, secrets, k)
        return out
    if isinstance(value, list):
        return [_mark(v, secrets, key) for v in value]
    if isinstance(value, str):
        return Unsafe(value)
    return value
