"""Check a storyboard document against the JSON Schema, each error at its line and column.

jsonschema reports a dotted path and a terse message; we turn every error into a Problem
that points at the offending key or value and says how to fix it, using the schema's own
descriptions and examples (the same text the editor shows on hover).

Over 400 lines on purpose: one translation per JSON Schema keyword, and the hints for keys
written at the wrong level, which read the same schema; apart, each would need the other.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from storyboard.conforms import conforms
from storyboard.errors import Problem, format_path
from storyboard.hints import closest, did_you_mean
from storyboard.load.document import Document, PathKey
from storyboard.resources import schema_file

if TYPE_CHECKING:  # jsonschema is imported only for a file with problems (see check)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError as SchemaError

_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a map of keys and values",
    "null": "nothing",
}


@cache
def schema() -> dict[str, Any]:
    """The storyboard JSON Schema, as installed with the package."""
    loaded: dict[str, Any] = json.loads(schema_file().read_text(encoding="utf-8"))
    return loaded


@cache
def validator() -> Draft202012Validator:
    """One compiled validator per process: building it costs far more than using it."""
    from jsonschema import Draft202012Validator  # lazy: start-up (only a file with problems)

    return Draft202012Validator(schema())


def check(doc: Document) -> list[Problem]:
    """Every schema problem in `doc`, each at the line and column of what is wrong; a key
    mistyped (`promt:`) is one problem, at the typo, not also the required key it misses.

    A file that conforms is told so without jsonschema (conforms.py: importing it was a
    sixth of validate's start-up); any other is checked by jsonschema, whose errors say
    what and where."""
    if conforms(doc.data, schema()):
        return []
    errors = [_leaf(e) for e in validator().iter_errors(doc.data)]
    typos = _typos(errors)
    problems: list[Problem] = []
    for error in errors:
        if error.validator == "required" and (tuple(error.absolute_path), _missing_name(error)) in typos:
            continue  # told at the unknown key that stands for it
        problems.extend(_problems(doc, error, typos))
    return problems


Typos = dict[tuple[PathKey, str], str]  # (a mapping's path, the required key missing) -> the typo


def _typos(errors: Sequence[SchemaError]) -> Typos:
    """The unknown keys whose closest allowed name is a required key missing from the same
    mapping: one cause, the typo, for the two errors jsonschema reports."""
    unknown: dict[PathKey, list[str]] = {}
    for e in errors:
        if e.validator == "additionalProperties" and isinstance(e.instance, dict):
            allowed = e.schema.get("properties", {}) if isinstance(e.schema, dict) else {}
            unknown.setdefault(tuple(e.absolute_path), []).extend(
                str(name) for name in e.instance if name not in allowed
            )
    found: Typos = {}
    for e in errors:
        if e.validator != "required":
            continue
        path, missing = tuple(e.absolute_path), _missing_name(e)
        allowed = e.schema.get("properties", {}) if isinstance(e.schema, dict) else {}
        typo = next((n for n in unknown.get(path, []) if closest(n, allowed) == missing), None)
        if typo is not None:
            found[(path, missing)] = typo
    return found


def _leaf(error: SchemaError) -> SchemaError:
    """For oneOf/anyOf, the branch's error the user meant (see _pick); else the error."""
    return _pick(error) if error.validator in ("oneOf", "anyOf") else error


def describe(value: Any) -> str:
    """What kind of value the user wrote, in words."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{'true' if value else 'false'} (true/false)"
    if isinstance(value, int):
        return f"the whole number {value}"
    if isinstance(value, float):
        return f"the number {value:g}"
    if isinstance(value, str):
        return f"the text {_short(value)!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a map of keys and values"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"the date {value}"
    return f"a value of type {type(value).__name__}"


def yaml_inline(value: Any) -> str:
    """A value as it would be written in a YAML flow style, for examples in messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, str):
        plain = re.fullmatch(r"[A-Za-z_./][A-Za-z0-9_ ./-]*", value) and not value.endswith(" ")
        return (
            value
            if plain and value.lower() not in ("true", "false", "yes", "no", "null")
            else json.dumps(value)
        )
    if isinstance(value, list):
        return "[" + ", ".join(yaml_inline(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_inline(v)}" for k, v in value.items()) + "}"
    return str(value)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _example(error: SchemaError, path: Sequence[str | int]) -> str | None:
    """`key: example` from the nearest schema (this one or an enclosing oneOf) with examples."""
    e: Any = error  # jsonschema types a parent as its private _Error
    while e is not None:
        examples = e.schema.get("examples") if isinstance(e.schema, dict) else None
        if examples:
            key = path[-1] if path and isinstance(path[-1], str) else None
            shown = yaml_inline(examples[0])
            return f"e.g. `{key}: {shown}`" if key else f"e.g. `{shown}`"
        e = e.parent
    return None


def _aside(desc: str) -> str:
    """A description in brackets after a message: `(the end of the kept part, ...)`."""
    if not desc:
        return ""
    if len(desc) > 1 and desc[0].isupper() and desc[1].islower():  # "The end" yes, "URL" no
        desc = desc[0].lower() + desc[1:]
    return f" ({desc})"


def _first_sentence(text: str | None) -> str:
    if not text:
        return ""
    return text.split(". ")[0].rstrip(".")


def _pick(error: SchemaError) -> SchemaError:
    """For oneOf/anyOf, the sub-error of the branch whose kind matches the value (if any).

    A branch whose only complaint is the value's type is not what the user meant; when every
    branch says so, the value is of the wrong kind altogether and the oneOf error stands.
    """
    depth = len(error.absolute_path)
    meant = [e for e in error.context or [] if len(e.absolute_path) > depth or not _kind_mismatch(e)]
    if not meant:
        return error
    from jsonschema.exceptions import best_match  # lazy: start-up (only a file with problems)

    chosen = best_match(meant)
    if chosen is None:  # pragma: no cover - best_match of a non-empty list
        return error
    return _pick(chosen) if chosen.validator in ("oneOf", "anyOf") else chosen


def _kind_mismatch(error: SchemaError) -> bool:
    """The error only says the value is of another kind than this branch wants."""
    if error.validator == "type":
        return True
    if error.validator in ("enum", "const"):
        value: Any = error.validator_value
        allowed = value if error.validator == "enum" else [value]
        return not any(_same_kind(error.instance, v) for v in allowed)
    return False


def _same_kind(a: Any, b: Any) -> bool:
    def kind(x: Any) -> str:
        if isinstance(x, bool):
            return "bool"
        if isinstance(x, (int, float)):
            return "number"
        return type(x).__name__

    return kind(a) == kind(b)


def _problems(doc: Document, error: SchemaError, typos: Typos | None = None) -> list[Problem]:
    if error.validator in ("oneOf", "anyOf"):
        chosen = _pick(error)
        if chosen is not error:
            return _problems(doc, chosen, typos)
    path: PathKey = tuple(error.absolute_path)
    where = format_path(path)
    kind = str(error.validator)
    value = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}

    def at(message: str, *, hint: str | None = None, key: bool = False, p: PathKey = path) -> Problem:
        return Problem(message, format_path(p), doc.location(p, key=key), hint)

    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = list(schema.get("properties", {}))
        meant = {typo: missing for (p, missing), typo in (typos or {}).items() if p == path}
        out = []
        for name in value:
            if name in allowed:
                continue
            if name in meant:  # the required key it stands for is not told apart
                message = f"unknown key {_short(name)!r}{_in_shot(doc, path)}"
                rename = (
                    f"did you mean {meant[name]!r}? It is required here: rename the key, keeping its value"
                )
                out.append(at(message, hint=rename, key=True, p=(*path, name)))
                continue
            hint = _misplaced(doc, path, name) or did_you_mean(name, allowed)
            message = f"unknown key {_short(name)!r}"
            if not hint:
                message += f": remove it; the keys allowed here are {', '.join(allowed)}"
            out.append(at(message, hint=hint, key=True, p=(*path, name)))
        return out
    if "propertyNames" in error.absolute_schema_path:
        # jsonschema checks a map's keys as values at the map's own path: point at the key
        name = str(value)
        return [
            at(
                f"{_short(name)!r} is not a valid name: "
                + str(schema.get("patternErrorMessage") or "use letters, digits, _ and -"),
                key=True,
                p=(*path, name),
            )
        ]
    if kind == "required":
        missing = _missing_name(error)
        sub = schema.get("properties", {}).get(missing, {})
        sub = _resolve(sub)
        what = _first_sentence(sub.get("description"))
        ex = sub.get("examples")
        fix = f"add `{missing}: {yaml_inline(ex[0])}`" if ex else f"add `{missing}:`"
        label = "missing" if where else "the file is missing"
        about = f" ({what})" if what else ""
        return [at(f"{label} the required key {missing!r}{about}: {fix}", key=True)]
    if kind == "const":
        want = yaml_inline(error.validator_value)
        return [at(f"must be {want}, not {describe(value)}: write `{_key(path)}: {want}`")]
    if kind == "enum":
        allowed_values = [str(v) for v in _validator_value(error)]
        hint = None
        if isinstance(value, str):
            hint = did_you_mean(value, allowed_values)
        elif isinstance(value, int) and not isinstance(value, bool):
            hint = _sexagesimal(value, allowed_values)
        return [
            at(
                f"{describe(value)} is not allowed here: use one of " + ", ".join(allowed_values),
                hint=hint,
            )
        ]
    if kind == "type" or kind in ("oneOf", "anyOf"):
        if kind == "type":
            expected = _validator_value(error)
            names = [expected] if isinstance(expected, str) else list(expected)
            wanted = " or ".join(_TYPE_WORDS.get(n, n) for n in names)
        else:
            wanted = schema.get("errorMessage") or _first_sentence(schema.get("description"))
        parent: Any = error.parent
        parent_msg = parent.schema.get("errorMessage") if parent is not None else None
        if kind == "type" and parent_msg:
            wanted = parent_msg
        ex = _example(error, path)
        hint = _quote_hint(value, names if kind == "type" else [])
        return [at(f"expected {wanted}, not {describe(value)}" + (f"; {ex}" if ex else ""), hint=hint)]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = error.validator_value
        words = {
            "minimum": f"at least {bound:g}",
            "maximum": f"at most {bound:g}",
            "exclusiveMinimum": f"more than {bound:g}",
            "exclusiveMaximum": f"less than {bound:g}",
        }[kind]
        desc = _first_sentence(_parent_description(error))
        return [at(f"{yaml_inline(value)} is out of range: it must be {words}" + _aside(desc))]
    if kind == "pattern":
        msg = schema.get("patternErrorMessage") or f"must match {error.validator_value}"
        return [at(f"{_short(str(value))!r} is not valid: {msg}")]
    if kind == "minLength":
        desc = _first_sentence(_parent_description(error))
        return [at("is empty: fill it in" + _aside(desc))]
    if kind in ("minItems", "maxItems"):
        n = len(value) if isinstance(value, list) else 0
        bound = int(_validator_value(error))
        desc = _first_sentence(schema.get("description"))
        if kind == "maxItems":
            return [
                at(
                    f"{n} items, but at most {bound} are allowed: remove {n - bound}" + _aside(desc),
                    p=(*path, bound),
                )
            ]
        need = f"at least {bound} {'is' if bound == 1 else 'are'} needed"
        return [at(f"{n} items, but {need}" + _aside(desc))]
    if kind == "minProperties":
        keys = ", ".join(schema.get("properties", {}))
        return [at(f"is empty: give at least one of: {keys}")]
    return [at(f"{error.message}")]  # pragma: no cover - a keyword the schema does not use


def _in_shot(doc: Document, path: PathKey) -> str:
    """` in shot 'a'` for a mapping of a shot (with an id), else nothing."""
    if len(path) < 2 or path[0] != "shots" or not isinstance(path[1], int):
        return ""
    shots = doc.data.get("shots") if isinstance(doc.data, dict) else None
    shot = shots[path[1]] if isinstance(shots, list) and path[1] < len(shots) else None
    sid = shot.get("id") if isinstance(shot, dict) else None
    return f" in shot {sid!r}" if isinstance(sid, str) else ""


def _validator_value(error: SchemaError) -> Any:
    """The schema keyword's value (typed by jsonschema as possibly unset: never, here)."""
    return error.validator_value


def _missing_name(error: SchemaError) -> str:
    # "'prompt' is a required property": the name is the first quoted word
    found = re.match(r"'(.*)' is a required property", error.message)
    if found:
        return found.group(1)
    for name in _validator_value(error):  # pragma: no cover - message format changed
        if isinstance(error.instance, dict) and name not in error.instance:
            return str(name)
    return "?"  # pragma: no cover


def _resolve(sub: dict[str, Any]) -> dict[str, Any]:
    """Follow a local $ref, keeping the referring schema's own keywords."""
    ref = sub.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = dict(schema()["$defs"][ref[len("#/$defs/") :]])
        target.update({k: v for k, v in sub.items() if k != "$ref"})
        return target
    return sub


def _parent_description(error: SchemaError) -> str | None:
    e: Any = error
    while e is not None:
        if isinstance(e.schema, dict) and e.schema.get("description"):
            return str(e.schema["description"])
        e = e.parent
    return None


def _key(path: PathKey) -> str:
    return str(path[-1]) if path and isinstance(path[-1], str) else "value"


_SETTINGS = ("aspect_ratio", "resolution", "model", "seed", "audio")


@cache
def _keys_of() -> dict[str, tuple[str, ...]]:
    """The keys each map of the format takes, from the schema: "" (the top), "settings",
    "music", "captions", "shot", "frames", "transition"."""
    props = schema()["properties"]
    shot = schema()["$defs"]["shot"]
    transition = next(
        b for b in schema()["$defs"]["transition"].get("oneOf", []) if b.get("type") == "object"
    )
    return {
        "": tuple(props),
        "settings": tuple(props["settings"]["properties"]),
        "music": tuple(props["music"]["properties"]),
        "captions": tuple(props["captions"]["properties"]),
        "shot": tuple(shot["properties"]),
        "frames": tuple(shot["properties"]["frames"]["properties"]),
        "transition": tuple(transition["properties"]),
    }


def _misplaced(doc: Document, path: PathKey, name: str) -> str | None:
    """Hints for keys written at the wrong level: the commonest slip after a typo, and most
    often a line indented too little or too much."""
    keys = _keys_of()
    line = (doc.key_marks.get((*path, name)) or (0, 0))[0]
    if path == ():
        # the map just above it takes this key: its indentation was lost
        above = [(m[0], p[0]) for p, m in doc.key_marks.items() if len(p) == 1 and m[0] < line]
        prev = str(max(above)[1]) if above else None
        if prev in ("settings", "music", "captions") and name in keys[prev]:
            inner = [m[1] for p, m in doc.key_marks.items() if len(p) == 2 and p[0] == prev]
            like = f": indent it by {inner[0] - 1} spaces, like the keys above it" if inner else ""
            return f"it belongs under `{prev}:` (line {max(above)[0]}){like}"
        if name in _SETTINGS:
            return "move it under `settings:`, or into a shot to override it there"
        if name in ("fade", "fade_out", "fadeout"):
            return (
                "`ending: {type: fade, duration: 1}` fades the whole film out (picture and sound); "
                "`fade_out` under `music:` fades the music alone"
            )
        for parent in ("music", "captions"):
            if name in keys[parent]:
                return f"it belongs under `{parent}:`; indent it there"
        if name in keys["shot"]:
            return "it belongs to a shot: indent it under one of the `- id:` items of `shots:`"
        if name in ("shot", "scenes"):
            return "did you mean 'shots'?"
        return None
    if len(path) == 1 and path[0] in ("settings", "music", "captions", "vars"):
        for other in ("settings", "music", "captions"):
            if other != path[0] and name in keys[other] and name not in keys[str(path[0])]:
                return f"it belongs under `{other}:`, not `{path[0]}:`"
        if name in keys[""]:
            return f"`{name}` is a top-level key: move it to the start of its line, out of `{path[0]}:`"
        return None
    if len(path) == 2 and path[0] == "shots":
        if name in keys["frames"]:
            return f"write it under `frames:`, e.g. `frames: {{{name}: dawn}}`"
        if name in keys["transition"]:
            return "write it under `transition:`, e.g. `transition: {type: crossfade, duration: 0.5}`"
        if name in ("reference", "images", "image"):
            return "did you mean 'references'?"
        if name in keys[""]:
            return (
                f"`{name}` is a top-level key, not a shot's: move it out of `shots:`, to the start of a line"
            )
        return None
    if path == ("ending",) and name in ("fade", "seconds", "length"):
        return "write the fade as `ending: {type: fade, duration: 1}` (seconds), or `ending: fade`"
    if len(path) == 3 and path[0] == "shots" and path[2] in ("frames", "transition") and name in keys["shot"]:
        return f"`{name}` belongs to the shot, not to its `{path[2]}:`: indent it like `{path[2]}`"
    return None


def _sexagesimal(value: int, allowed: list[str]) -> str | None:
    """YAML 1.1 reads unquoted 16:9 as the base-60 number 969: say so."""
    for choice in allowed:
        parts = choice.split(":")
        numeric = len(parts) == 2 and all(p.isdigit() for p in parts)
        if numeric and int(parts[0]) * 60 + int(parts[1]) == value:
            return f'put it in quotes: "{choice}"; unquoted, YAML reads {choice} as {value}'
    return None


def _quote_hint(value: Any, expected: list[str]) -> str | None:
    """Values YAML turned into something else than the text the user typed."""
    if "string" not in expected:
        return None
    if isinstance(value, bool):
        return "YAML reads yes/no/on/off/true/false as true or false: put the text in quotes"
    if isinstance(value, (int, float, datetime.date)):
        return "put it in quotes to make it text"
    return None
