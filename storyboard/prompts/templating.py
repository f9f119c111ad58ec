"""Prompt templates: each shot's prompt is a Jinja2 template, wrapped by the storyboard's template.

Both run in Jinja's immutable sandbox with undefined names as errors (never an empty string),
and a template file may only come from the built-ins or the storyboard's own folder.

Each prompt and caption of a storyboard is rendered once, whichever pass asks first
(validate, plan, render), and kept with the storyboard (`Storyboard.renders`) with the one
budget all its templates share (bounds.FileBudget): a pass after the first renders nothing.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SecurityError

from storyboard import resources
from storyboard.board.model import Shot, Storyboard, resolve_inside
from storyboard.errors import Location, Problem, TemplateError, ValidationError
from storyboard.prompts import sandbox

MAX_OUTPUT = 20_000  # characters: a prompt is a paragraph, not a novel
MAX_TEMPLATE_BYTES = 1_000_000

_env = sandbox.BoundedSandbox()
# Each render must give the same prompt for the same storyboard: a prompt that changed by
# itself would change the shot's fingerprint, and the shot would be paid for again.
for _name in ("lipsum", "cycler", "joiner"):
    _env.globals.pop(_name, None)
_env.filters.pop("random", None)
_env.globals["range"] = sandbox.bounded_range


def _sentence(text: object) -> str:
    """End a phrase with a full stop unless it already ends with punctuation."""
    t = " ".join(str(text).split())
    return t if not t or t[-1] in ".!?…。！？\"'" else t + "."


_env.filters["sentence"] = sandbox.bounded_filter("sentence", _sentence)


@dataclass(frozen=True)
class TemplateSource:
    name: str  # shown in messages: "templates/cinematic.j2" or the user's relative path
    text: str
    path: Path | None = None  # a user's template file (None for built-ins)


def find_template(sb: Storyboard, ref: str) -> TemplateSource:
    """A built-in template by name, or a .j2 file inside the storyboard's folder."""
    if ref in resources.builtin_templates():
        text = resources.template_dir().joinpath(f"{ref}.j2").read_text(encoding="utf-8")
        return TemplateSource(f"templates/{ref}.j2", text)
    path = resolve_inside(sb.root, ref)
    if path is None or not path.is_file():
        names = ", ".join(resources.builtin_templates())
        raise TemplateError(f"template {ref!r} is neither a built-in ({names}) nor a file inside {sb.root}")
    try:
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            raise TemplateError(f"template {ref!r} is over 1 MB; a template is text of a few lines")
        return TemplateSource(ref, path.read_text(encoding="utf-8"), path)
    except (OSError, UnicodeDecodeError) as e:
        why = "it is not UTF-8 text" if isinstance(e, UnicodeDecodeError) else (e.strerror or str(e))
        raise TemplateError(f"cannot read template {ref!r}: {why}") from None


def context(sb: Storyboard, shot: Shot) -> dict[str, Any]:
    """What a prompt can name: the storyboard's vars (also at top level), characters,
    images, the shot and the title."""
    shot_ctx = {
        "id": shot.id,
        "index": shot.index,
        "number": shot.index + 1,
        "kind": shot.kind,
        "caption": shot.caption,
        "continues": shot.continues,
        "aspect_ratio": shot.settings.aspect_ratio,
        "resolution": shot.settings.resolution,
        "model": shot.settings.model,
    }
    characters = {
        name: {"name": name, "description": c.description, "images": [a.ref for a in c.images]}
        for name, c in sb.characters.items()
    }
    images = {name: (a.url or a.ref) for name, a in sb.images.items()}
    return {
        **sb.vars,
        "vars": sb.vars,
        "characters": characters,
        "images": images,
        "shot": shot_ctx,
        "title": sb.title,
        "shots": [s.id for s in sb.shots],
    }


def _error_line(exc: BaseException, name: str) -> int | None:
    """The line inside template `name` where a runtime error happened (Jinja maps frames)."""
    if isinstance(exc, TemplateSyntaxError):
        return exc.lineno
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == name:
            line = frame.lineno
    return line


def budget(sb: Storyboard) -> sandbox.FileBudget:
    """The one budget all the templates of `sb`'s file render within, across passes."""
    if sb.renders.budget is None:
        sb.renders.budget = sandbox.FileBudget()
    found: sandbox.FileBudget = sb.renders.budget
    return found


def _render(file: sandbox.FileBudget, text: str, name: str, ctx: dict[str, Any]) -> str:
    """Compile (counted once per file) and render within the file's budget and fresh limits
    of its own, stopping as soon as the output is too long."""
    out: list[str] = []
    size = 0
    with sandbox.rendering(file):
        template, tokens = _compile(text, name)
        file.charge_compile(text, name, tokens)
        for chunk in template.generate(ctx):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise sandbox.LimitError(f"the text is longer than {MAX_OUTPUT} characters")
            out.append(chunk)
    return "".join(out)


def _compile(text: str, name: str) -> tuple[Any, int]:
    """The compiled template and its tokens; a template that cannot compile fails the same
    way each time without being compiled again."""
    found = _compiled(text, name)
    if isinstance(found, BaseException):
        raise found
    return found


@lru_cache(maxsize=256)  # the storyboard's template wraps every shot: compile it once
def _compiled(text: str, name: str) -> tuple[Any, int] | Exception:
    try:
        return _env.compile_counted(text, name)
    except Exception as e:  # kept, and raised again by _compile
        return e


def _once(sb: Storyboard, shot: Shot, what: str, render: Callable[[], Any]) -> Any:
    """`render()`'s result for this shot, made the first time it is asked for: a later pass
    (plan after validate) gets the same text, or the same problems, for no work."""
    key = (shot.index, what)
    kept = sb.renders.made.get(key)
    if kept is None or kept[0] is not shot:
        spent = budget(sb).spent
        if spent is not None:
            kept = (shot, ValidationError([_not_rendered(sb, shot, what, spent, 0)]))
        else:
            try:
                kept = (shot, render())
            except ValidationError as e:
                kept = (shot, e)
        sb.renders.made[key] = kept
    if isinstance(kept[1], ValidationError):
        raise ValidationError(kept[1].problems)
    return kept[1]


def _not_rendered(sb: Storyboard, shot: Shot, what: str, spent: str, more: int) -> Problem:
    """The problem for templates left unrendered because the file's budget is used up."""
    others = f" (nor the {more} prompts and captions after it)" if more else ""
    return Problem(
        f"the {what} was not rendered{others}: the templates before it used up what the templates "
        f"of one file may do ({spent})",
        f"shots[{shot.index}].{what}",
        sb.location(("shots", shot.index, what)),
        "fix the templates named above (a loop or filter doing too much), then validate again",
    )


def render_caption(sb: Storyboard, shot: Shot) -> str | None:
    """The shot's caption, a template like its prompt (with the same names), or None."""
    if shot.caption is None:
        return None
    result: str = _once(sb, shot, "caption", lambda: _caption(sb, shot))
    return result


def _caption(sb: Storyboard, shot: Shot) -> str:
    assert shot.caption is not None
    name = f"{sb.path.name}:shots[{shot.index}].caption"
    try:
        return _render(budget(sb), shot.caption, name, context(sb, shot)).strip()
    except Exception as e:  # anything a template can raise is the template's fault
        raise ValidationError(
            [
                Problem(
                    f"the caption cannot be rendered: {_describe(e)}",
                    f"shots[{shot.index}].caption",
                    sb.location(("shots", shot.index, "caption")),
                    _hint(e, context(sb, shot), shot.caption),
                )
            ]
        ) from None


def render_prompt(sb: Storyboard, shot: Shot) -> str:
    """The shot's final prompt: its own template rendered, then wrapped by the template.

    Raises ValidationError with one Problem naming the shot, the template file and line.
    """
    result: str = _once(sb, shot, "prompt", lambda: _prompt(sb, shot))
    return result


def _prompt(sb: Storyboard, shot: Shot) -> str:
    ctx = context(sb, shot)
    shot_path = ("shots", shot.index, "prompt")
    prompt_name = f"{sb.path.name}:shots[{shot.index}].prompt"
    try:
        prompt = _render(budget(sb), shot.prompt, prompt_name, ctx)
    except Exception as e:  # anything a template can raise is the template's fault
        loc = sb.location(shot_path)
        line = _error_line(e, prompt_name)
        if loc and line and sb.doc and (loc.source_line or "")[loc.column - 1 :].startswith(("|", ">")):
            # a block scalar: its text starts on the next line; point at the failing line
            n = loc.line + line
            src = sb.doc.source_line(n) or ""
            loc = Location(loc.file, n, len(src) - len(src.lstrip()) + 1, src)
        raise ValidationError(
            [
                Problem(
                    f"the prompt cannot be rendered: {_describe(e)}",
                    f"shots[{shot.index}].prompt",
                    loc,
                    _hint(e, ctx, shot.prompt),
                )
            ]
        ) from None
    ref = shot.template or sb.template
    try:
        source = find_template(sb, ref)
    except TemplateError as e:
        field_path = ("shots", shot.index, "template") if shot.template else ("template",)
        raise ValidationError(
            [Problem(e.message, ".".join(str(p) for p in field_path), sb.location(field_path))]
        ) from None
    try:
        text = _render(budget(sb), source.text, source.name, {**ctx, "prompt": prompt})
    except Exception as e:  # anything a template can raise is the template's fault
        line = _error_line(e, source.name) or 1
        lines = source.text.splitlines()
        shown = lines[line - 1] if 0 < line <= len(lines) else None
        raise ValidationError(
            [
                Problem(
                    f"template {source.name} fails for shot {shot.id!r}: {_describe(e)}",
                    f"shots[{shot.index}]",
                    Location(source.name, line, 1, shown),
                    _hint(e, ctx, source.text),
                )
            ]
        ) from None
    return " ".join(text.split())  # one line: providers get no stray newlines or spaces


def _describe(e: BaseException) -> str:
    if isinstance(e, sandbox.LimitError):
        return str(e)
    if isinstance(e, SecurityError):
        return f"not allowed in a template ({e})"
    if isinstance(e, RecursionError):
        return "it calls itself without end (a macro or recursive loop that never stops?)"
    if isinstance(e, MemoryError):
        return "it needs more memory than this machine has"
    if isinstance(e, TypeError) and "no loader" in str(e):
        return "a prompt cannot include, import or extend other templates (use `template:` to wrap prompts)"
    if isinstance(e, (UndefinedError, TemplateSyntaxError)):
        return getattr(e, "message", None) or str(e)
    detail = getattr(e, "message", None) or str(e)
    return f"{type(e).__name__}: {detail}" if detail else type(e).__name__


def _hint(e: BaseException, ctx: dict[str, Any], source: str | None = None) -> str | None:
    if isinstance(e, sandbox.LimitError):
        return e.hint
    m = re.match(r"'(\w+)' is undefined", str(e))
    if m:
        import difflib  # lazy: start-up (only for a misspelt name)

        close = difflib.get_close_matches(m.group(1), list(ctx), n=1)
        if close:
            return f"did you mean {close[0]!r}?"
        names = sorted(k for k in ctx if not k.startswith("_"))
        return "names you can use: " + ", ".join(names) + " (add free variables under `vars:`)"
    m = re.match(r"'[\w ]+' has no attribute '([\w-]+)'", str(e))
    if m:
        return _member_hint(m.group(1), ctx, source or "")
    if isinstance(e, TemplateSyntaxError):
        text = str(e)
        block = re.search(r"innermost block that needs to be closed is '(\w+)'", text)
        if block:
            tag = block.group(1)
            return f"close the {{% {tag} %}} with {{% end{tag} %}}"
        if "unexpected '}'" in text or "end of print statement" in text or "end of template" in text:
            return "close every `{{` with `}}` and every `{%` with `%}`; for a literal brace write {{ '{' }}"
        if "unknown tag" in text:
            return "tags are if, for, set, macro and their end tags: {% if x %}...{% endif %}"
    return None


def _member_hint(name: str, ctx: dict[str, Any], source: str) -> str | None:
    """`characters.obachn`: which names the map it was looked up in has, and the closest."""
    for parent in re.findall(r"([\w.]+)\s*\.\s*" + re.escape(name) + r"\b", source):
        value: Any = ctx
        for part in parent.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, dict):
            import difflib  # lazy: start-up (only for a misspelt name)

            close = difflib.get_close_matches(name, [str(k) for k in value], n=1)
            if close:
                return f"did you mean {parent}.{close[0]}?"
            return f"{parent} has: " + (", ".join(sorted(str(k) for k in value)) or "nothing")
    return None


def check_all(sb: Storyboard, shots: Iterable[int] | None = None) -> list[Problem]:
    """Render every prompt and caption once (of the shots at these indices; all by default),
    within the file's budget: the template problems every command reports with the file's
    others. Templates the budget did not reach are one problem, at the first of them."""
    problems: list[Problem] = []
    wanted = None if shots is None else set(shots)
    todo = [
        (shot, what, render)
        for shot in sb.shots
        if wanted is None or shot.index in wanted
        for what, render in (("prompt", render_prompt), ("caption", render_caption))
        if what == "prompt" or shot.caption is not None
    ]
    skipped: list[tuple[Shot, str]] = []
    for shot, what, render in todo:
        kept = sb.renders.made.get((shot.index, what))
        if budget(sb).spent is not None and (kept is None or kept[0] is not shot):
            skipped.append((shot, what))
            continue
        try:
            render(sb, shot)
        except ValidationError as e:  # those the budget left unrendered share one problem
            problems.extend(p for p in e.problems if all(p is not q for q in problems))
    if skipped:
        shot, what = skipped[0]
        problem = _not_rendered(sb, shot, what, budget(sb).spent or "", len(skipped) - 1)
        problems.append(problem)
        for s, w in skipped:  # every later pass says the same, once
            sb.renders.made[(s.index, w)] = (s, ValidationError([problem]))
    return problems
