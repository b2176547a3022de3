# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checking a sequence definition against its schema and the nesting limits.

Internal to this collection: no compatibility promise.

The importer checks its own output here (an error rather than a definition that does not
conform), and the playbook writer checks what it is given before it recurses into it.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer.errors import SequenceImportError

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "sequence.schema.json")
MAX_GROUP_DEPTH = 32
MAX_CONDITION_DEPTH = 16
_validator = None
_TYPES = {
    "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool), "null": lambda v: v is None,
}
_IGNORED = {"$schema", "$id", "title", "description", "$defs", "$comment", "default", "examples"}


def _compile(schema, defs: dict, cache: dict):
    """A JSON Schema (the subset sequence.schema.json uses) as a function: (value, path) -> first error or None.

    jsonschema takes about a millisecond per step; this keeps a 90,000-step import within seconds.
    A keyword outside the subset is refused here, so a schema edit cannot be silently ignored.
    """
    if schema is True or schema == {}:
        return lambda value, path: None
    if schema is False:
        return lambda value, path: (path, "no value is allowed here")
    checks = []
    unknown = set(schema) - _IGNORED - {"type", "enum", "const", "properties", "required", "additionalProperties",
                                        "items", "oneOf", "anyOf", "allOf", "if", "then", "else", "$ref", "pattern",
                                        "maxLength", "minLength", "minimum", "maximum", "not",
                                        "propertyNames"}
    if unknown:
        raise ValueError(f"sequence.schema.json uses {sorted(unknown)}, which the importer's validator does not know")
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]

        def ref(value, path, name=name):
            if name not in cache:
                cache[name] = None   # placeholder while compiling a recursive definition
                cache[name] = _compile(defs[name], defs, cache)
            return cache[name](value, path)
        checks.append(ref)
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        tests = [_TYPES[k] for k in kinds]
        checks.append(lambda v, p: None if any(t(v) for t in tests) else (p, f"{v!r:.80} is not of type {' or '.join(kinds)}"))
    if "enum" in schema:
        options = schema["enum"]
        checks.append(lambda v, p: None if any(v == o and type(v) is type(o) for o in options)
                      else (p, f"{v!r:.80} is not one of {options}"))
    if "const" in schema:
        const = schema["const"]
        checks.append(lambda v, p: None if v == const and type(v) is type(const) else (p, f"{const!r} was expected"))
    if "pattern" in schema:
        regex = re.compile(schema["pattern"])
        checks.append(lambda v, p: None if not isinstance(v, str) or regex.search(v)
                      else (p, f"{v!r:.80} does not match {schema['pattern']!r}"))
    for key, test, text in (("maxLength", lambda v, n: len(v) <= n, "is longer than"),
                            ("minLength", lambda v, n: len(v) >= n, "is shorter than")):
        if key in schema:
            checks.append(lambda v, p, n=schema[key], test=test, text=text: None if not isinstance(v, str) or test(v, n)
                          else (p, f"{v!r:.80} {text} {n} characters"))
    for key, test, text in (("minimum", lambda v, n: v >= n, "is less than the minimum of"),
                            ("maximum", lambda v, n: v <= n, "is greater than the maximum of")):
        if key in schema:
            checks.append(lambda v, p, n=schema[key], test=test, text=text:
                          None if not _TYPES["number"](v) or test(v, n) else (p, f"{v} {text} {n}"))
    if "required" in schema:
        required = schema["required"]
        checks.append(lambda v, p: next(((p, f"{k!r} is a required property") for k in required
                                         if isinstance(v, dict) and k not in v), None))
    if "properties" in schema or "additionalProperties" in schema:
        props = {k: _compile(sub, defs, cache) for k, sub in (schema.get("properties") or {}).items()}
        extra = schema.get("additionalProperties", True)
        extra_check = None if extra is True else _compile(extra, defs, cache) if extra is not False else False

        def properties(v, p):
            if not isinstance(v, dict):
                return None
            for k, item in v.items():
                check = props.get(k)
                if check is None:
                    if extra_check is False:
                        return p, f"additional property {k!r} is not allowed"
                    check = extra_check
                if check is not None:
                    error = check(item, [*p, k])
                    if error:
                        return error
            return None
        checks.append(properties)
    if "propertyNames" in schema:
        name_check = _compile(schema["propertyNames"], defs, cache)
        checks.append(lambda v, p: next((e for k in v for e in [name_check(k, [*p, k])] if e), None)
                      if isinstance(v, dict) else None)
    if "items" in schema:
        item_check = _compile(schema["items"], defs, cache)
        checks.append(lambda v, p: next((e for i, x in enumerate(v) for e in [item_check(x, [*p, i])] if e), None)
                      if isinstance(v, list) else None)
    if "allOf" in schema:
        subs = [_compile(sub, defs, cache) for sub in schema["allOf"]]
        checks.append(lambda v, p: next((e for sub in subs for e in [sub(v, p)] if e), None))
    for key in ("oneOf", "anyOf"):
        if key in schema:
            subs = [_compile(sub, defs, cache) for sub in schema[key]]

            def one_of(v, p, subs=subs, key=key):
                errors = [sub(v, p) for sub in subs]
                passed = errors.count(None)
                if passed == 1 or (key == "anyOf" and passed):
                    return None
                if passed > 1:
                    return p, f"{v!r:.80} is valid under more than one of the allowed forms"
                # The deepest error is the most telling one.
                return max(errors, key=lambda e: len(e[0]))
            checks.append(one_of)
    if "if" in schema:
        cond = _compile(schema["if"], defs, cache)
        then = _compile(schema.get("then", True), defs, cache)
        other = _compile(schema.get("else", True), defs, cache)
        checks.append(lambda v, p: then(v, p) if cond(v, p) is None else other(v, p))
    if "not" in schema:
        negated = _compile(schema["not"], defs, cache)
        checks.append(lambda v, p: (p, "is not allowed here") if negated(v, p) is None else None)

    def check(value, path):
        for c in checks:
            error = c(value, path)
            if error:
                return error
        return None
    return check


def _schema_validator():
    global _validator
    if _validator is None:
        with open(SCHEMA_PATH, encoding="utf-8") as f:
            schema = json.load(f)
        _validator = _compile(schema, schema.get("$defs") or {}, {})
    return _validator


def check_nesting(definition, where: str = "the definition") -> None:
    """Groups at most MAX_GROUP_DEPTH deep, conditions MAX_CONDITION_DEPTH; checked without recursion."""
    if not isinstance(definition, dict) or not isinstance(definition.get("steps"), list):
        raise SequenceImportError("is not a sequence definition (a mapping with a 'steps' list).",
                                  file=where, fix="Give the output of tasksequence.windows.from_configmgr.")
    todo = [(definition["steps"], 0, "steps")]   # (a list of items, the groups around it, where)
    while todo:
        items, depth, path = todo.pop()
        if depth > MAX_GROUP_DEPTH:
            raise SequenceImportError(f"groups are nested more than {MAX_GROUP_DEPTH} levels deep (at {path[:120]}...).",
                                      file=where, fix="Flatten the groups.")
        for i, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                continue
            if isinstance(item.get("conditions"), dict | list):
                _condition_depth(item["conditions"], where, f"{path}[{i}].conditions")
            if isinstance(item.get("steps"), list):
                todo.append((item["steps"], depth + 1, f"{path}[{i}].steps"))


def _condition_depth(node, where: str, path: str) -> None:
    # Counts and/or/not levels; the importer's own "all" around several top-level tests is one more.
    todo = [(node, 0)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, list):
            todo.extend((v, depth) for v in value)
        elif isinstance(value, dict):
            children = [v for k, v in value.items() if k in ("all", "any", "none")]
            if children and depth + 1 > MAX_CONDITION_DEPTH + 1:
                raise SequenceImportError(f"conditions are nested more than {MAX_CONDITION_DEPTH} levels deep "
                                          f"(at {path}).", file=where, fix="Simplify the condition.")
            todo.extend((v, depth + 1) for v in children)


def validate(definition, where: str = "the definition") -> None:
    """Nesting limits, then the JSON Schema: one clear error, naming the first place that does not conform."""
    check_nesting(definition, where)
    error = _schema_validator()(definition, [])
    if error is not None:
        path, message = error
        at = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path) or "(top level)"
        raise SequenceImportError(f"does not conform to sequence.schema.json at {at}: {message}.", file=where,
                                  fix="See docs/sequence-format.md for what each key takes.")
