"""Whether a document satisfies the storyboard's JSON Schema, yes or no, without jsonschema.

Most files validate: for them, importing jsonschema and building its validator was most of
`storyboard validate`'s start-up (45 ms of 0.28 s), for a verdict of "no problems". This walk
of the schema answers that verdict in well under a millisecond; a file it does not pass is
then checked by jsonschema, as before, so that every message still comes from schema.py's
translation of jsonschema's errors (line, column, hint, did-you-mean) and is exactly as good.

It must never pass what jsonschema refuses. So each keyword follows jsonschema's own code for
draft 2020-12 (types as its type checker has them, bool apart from numbers in enum and const,
`pattern` as re.search), and a keyword it does not know makes it give up, as if the file
failed: the tests compare both verdicts over every example and many mutated files.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

# keywords that describe and assert nothing: skipped
_ANNOTATIONS = frozenset(
    (
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "title",
        "description",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "errorMessage",  # ours, read by schema.py for messages
        "patternErrorMessage",
        "markdownDescription",
    )
)


class _Unknown(Exception):
    """A keyword this walk does not implement: the verdict is left to jsonschema."""


def conforms(instance: Any, schema: Mapping[str, Any]) -> bool:
    """True only if jsonschema's Draft202012Validator(schema) finds no error in `instance`;
    False if it would find one, or if the schema uses a keyword not implemented here."""
    try:
        return _valid(instance, schema, schema)
    except (_Unknown, RecursionError):
        return False


def _is_type(instance: Any, name: str) -> bool:
    if name == "object":
        return isinstance(instance, dict)
    if name == "array":
        return isinstance(instance, list)
    if name == "string":
        return isinstance(instance, str)
    if name == "boolean":
        return isinstance(instance, bool)
    if name == "null":
        return instance is None
    if isinstance(instance, bool):
        return False
    if isinstance(instance, numbers.Number) and not isinstance(instance, (int, float)):
        raise _Unknown(type(instance).__name__)  # a Decimal, a Fraction: YAML makes none
    if name == "integer":
        return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())
    if name == "number":
        return isinstance(instance, (int, float))
    raise _Unknown(name)


_TRUE, _FALSE = object(), object()


def _unbool(x: Any) -> Any:
    return _TRUE if x is True else _FALSE if x is False else x


def _equal(one: Any, two: Any) -> bool:
    """jsonschema's equality: true is not 1, and lists and maps compare item by item."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return one.keys() == two.keys() and all(_equal(one[k], two[k]) for k in one)
    return bool(_unbool(one) == _unbool(two))


@cache
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _resolve(ref: str, root: Mapping[str, Any]) -> Any:
    """A reference inside the schema itself (`#/$defs/shot`); any other gives up."""
    if not ref.startswith("#"):
        raise _Unknown(ref)
    target: Any = root
    for part in ref[1:].split("/")[1:] if ref != "#" else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(target, list) and part.isdigit():
            target = target[int(part)]
        elif isinstance(target, dict) and part in target:
            target = target[part]
        else:
            raise _Unknown(ref)
    return target


def _valid(x: Any, schema: Any, root: Mapping[str, Any]) -> bool:
    if schema is True:
        return True
    if schema is False:
        return False
    if not isinstance(schema, dict):
        raise _Unknown(repr(schema))
    for key, value in schema.items():
        if key in _ANNOTATIONS:
            continue
        check = _KEYWORDS.get(key)
        if check is None:
            raise _Unknown(key)
        if not check(x, value, schema, root):
            return False
    return True


def _type(x: Any, v: Any, s: dict[str, Any], root: Mapping[str, Any]) -> bool:
    return any(_is_type(x, t) for t in ([v] if isinstance(v, str) else v))


def _properties(x: Any, v: Any, s: dict[str, Any], root: Mapping[str, Any]) -> bool:
    if not isinstance(x, dict):
        return True
    return all(_valid(x[k], sub, root) for k, sub in v.items() if k in x)


def _additional(x: Any, v: Any, s: dict[str, Any], root: Mapping[str, Any]) -> bool:
    if not isinstance(x, dict):
        return True
    if "patternProperties" in s:
        raise _Unknown("patternProperties")
    known = s.get("properties", {})
    extras = [k for k in x if k not in known]
    if isinstance(v, dict):
        return all(_valid(x[k], v, root) for k in extras)
    return bool(v) or not extras


def _required(x: Any, v: Any, s: dict[str, Any], root: Mapping[str, Any]) -> bool:
    return not isinstance(x, dict) or all(name in x for name in v)


def _property_names(x: Any, v: Any, s: dict[str, Any], root: Mapping[str, Any]) -> bool:
    return not isinstance(x, dict) or all(_valid(k, v, root) for k in x)


def _items(x: Any, v: Any, s: dict[str, Any], root: Mapping[str, Any]) -> bool:
    if not isinstance(x, list):
        return True
    return all(_valid(item, v, root) for item in x[len(s.get("prefixItems", [])) :])


def _prefix_items(x: Any, v: Any, s: dict[str, Any], root: Mapping[str, Any]) -> bool:
    return not isinstance(x, list) or all(_valid(item, sub, root) for item, sub in zip(x, v, strict=False))


def _one_of(x: Any, v: Any, s: dict[str, Any], root: Mapping[str, Any]) -> bool:
    return sum(1 for sub in v if _valid(x, sub, root)) == 1


def _if(x: Any, v: Any, s: dict[str, Any], root: Mapping[str, Any]) -> bool:
    if _valid(x, v, root):
        return "then" not in s or _valid(x, s["then"], root)
    return "else" not in s or _valid(x, s["else"], root)


_Check = Callable[[Any, Any, dict[str, Any], Mapping[str, Any]], bool]  # (instance, value, schema, root)


def _number(test: Callable[[Any, Any], bool]) -> _Check:
    return lambda x, v, s, root: not _is_type(x, "number") or test(x, v)


def _sized(kind: str, test: Callable[[int, Any], bool]) -> _Check:
    return lambda x, v, s, root: not _is_type(x, kind) or test(len(x), v)


_KEYWORDS: dict[str, _Check] = {
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional,
    "required": _required,
    "propertyNames": _property_names,
    "items": _items,
    "prefixItems": _prefix_items,
    "const": lambda x, v, s, root: _equal(x, v),
    "enum": lambda x, v, s, root: any(_equal(each, x) for each in v),
    "$ref": lambda x, v, s, root: _valid(x, _resolve(v, root), root),
    "oneOf": _one_of,
    "anyOf": lambda x, v, s, root: any(_valid(x, sub, root) for sub in v),
    "allOf": lambda x, v, s, root: all(_valid(x, sub, root) for sub in v),
    "not": lambda x, v, s, root: not _valid(x, v, root),
    "if": _if,
    "then": lambda x, v, s, root: True,  # read by "if"
    "else": lambda x, v, s, root: True,
    "pattern": lambda x, v, s, root: not isinstance(x, str) or _pattern(v).search(x) is not None,
    "minLength": _sized("string", lambda n, v: not n < v),
    "maxLength": _sized("string", lambda n, v: not n > v),
    "minItems": _sized("array", lambda n, v: not n < v),
    "maxItems": _sized("array", lambda n, v: not n > v),
    "minProperties": _sized("object", lambda n, v: not n < v),
    "maxProperties": _sized("object", lambda n, v: not n > v),
    "minimum": _number(lambda x, v: not x < v),
    "maximum": _number(lambda x, v: not x > v),
    "exclusiveMinimum": _number(lambda x, v: not x <= v),
    "exclusiveMaximum": _number(lambda x, v: not x >= v),
}
