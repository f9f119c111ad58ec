"""The Jinja environment prompts render in: the immutable sandbox, bounded in memory and time.

A template is code the storyboard's author wrote (or downloaded). The sandbox stops it from
reaching Python's internals; the bounds here stop it from eating the machine:

- every value an operation makes (`*`, `**`, `%`, `+`, `~`, a filter, a method, a call) is
  measured, deeply, and refused above MAX_VALUE items or characters;
- operations that could build a huge value in one step (`'x'|center(10**9)`, `9**64**64`,
  `s.replace('', t)`, `'%1000000000s' % x`) are refused by arithmetic on their arguments
  before anything is built;
- every piece of text written, captured blocks and macros included, and every loop iteration
  count against one budget per rendering;
- all the renderings of a storyboard share one deadline (`limits(seconds)`).

Whatever goes wrong inside a template raises an exception the caller turns into a located
problem; LimitError (a SecurityError) says which bound was hit.
"""

from __future__ import annotations

import contextvars
import copy
import functools
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter, SecurityError

MAX_VALUE = 100_000  # items or characters in any one value (deep)
MAX_WRITTEN = 200_000  # characters a rendering may write, captured blocks and macros included
MAX_WORK = 2_000_000  # units of work per rendering: sizes of values made, calls, iterations
MAX_ITERATIONS = 10_000  # loop iterations per rendering
MAX_INT_BITS = 10_000  # an int of ~3000 digits: far more than a prompt needs
MAX_DEPTH = 32  # nesting of a value that tojson or pprint indents
DEADLINE_SECONDS = 2.0  # for all the prompts and captions of a storyboard


class LimitError(SecurityError):
    """A template asked for more than its bounds allow."""


@dataclass
class _Limits:
    deadline: float
    work: int = MAX_WORK
    written: int = MAX_WRITTEN
    iterations: int = MAX_ITERATIONS
    ticks: int = field(default=0)

    def charge(self, units: int) -> None:
        self.work -= units
        if self.work < 0:
            raise LimitError(f"the template does more than {MAX_WORK} units of work")
        self.ticks += 1
        if self.ticks % 64 == 0 and time.monotonic() > self.deadline:
            raise LimitError(
                f"the templates take more than {DEADLINE_SECONDS:g} s to render (a loop or "
                "filter doing too much work?)"
            )


_current: contextvars.ContextVar[_Limits | None] = contextvars.ContextVar("storyboard_limits", default=None)
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("storyboard_deadline", default=None)


@contextmanager
def deadline(seconds: float = DEADLINE_SECONDS) -> Iterator[None]:
    """One deadline for every rendering inside the block (all the prompts of a storyboard)."""
    if _deadline.get() is not None:  # an outer deadline already holds
        yield
        return
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


@contextmanager
def rendering() -> Iterator[_Limits]:
    """Fresh budgets for one rendering, under the current deadline (or one of its own)."""
    end = _deadline.get()
    limits = _Limits(end if end is not None else time.monotonic() + DEADLINE_SECONDS)
    token = _current.set(limits)
    try:
        yield limits
    finally:
        _current.reset(token)


def _limits() -> _Limits:
    found = _current.get()
    if found is None:  # rendering outside `rendering()`: bounded all the same
        found = _Limits(time.monotonic() + DEADLINE_SECONDS)
        _current.set(found)
    return found


# measuring -------------------------------------------------------------------------------
def size(value: Any, limit: int = MAX_VALUE) -> int:
    """Characters plus items, counted deeply (shared parts each time they appear), stopping
    as soon as `limit` is passed: measuring costs at most about `limit` steps."""
    total = 0
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, (str, bytes)):
            total += len(v) + 1
        elif isinstance(v, (list, tuple, set, frozenset)):
            total += len(v) + 1
            if total <= limit:
                stack.extend(v)
        elif isinstance(v, dict):
            total += len(v) + 1
            if total <= limit:
                stack.extend(v.keys())
                stack.extend(v.values())
        elif isinstance(v, int) and not isinstance(v, bool):
            total += 1 + v.bit_length() // 64
        else:
            total += 1
        if total > limit:
            return total
    return total


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply lists and maps nest in `value` (stopping past `limit`)."""
    best = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, d = stack.pop()
        best = max(best, d)
        if best > limit:
            return best
        if isinstance(v, (list, tuple, set, frozenset)):
            stack.extend((x, d + 1) for x in v)
        elif isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
    return best


def made(value: Any, what: str = "an operation") -> Any:
    """Check and charge a value an operation made; return it."""
    n = size(value)
    if n > MAX_VALUE:
        raise LimitError(f"{what} makes a value larger than {MAX_VALUE} characters or items")
    _limits().charge(n)
    return value


def _str_of(value: Any, what: str) -> str:
    """str(value), refused before converting when the value is too large to be text."""
    if size(value) > MAX_VALUE:
        raise LimitError(f"{what}: a value larger than {MAX_VALUE} characters or items cannot become text")
    return str(value)


def _refuse_over(estimate: float, what: str) -> None:
    if estimate > MAX_VALUE:
        amount = f"about {estimate:.0f}" if estimate < 1e12 else "over a million million"
        raise LimitError(f"{what} would make {amount} characters; at most {MAX_VALUE}")


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LimitError(f"{name} must be a whole number, not {type(value).__name__}")
    return value


# arithmetic ------------------------------------------------------------------------------
def _bits(x: Any) -> int:
    return abs(x).bit_length() if isinstance(x, int) else 0


def _check_binop(op: str, left: Any, right: Any) -> None:
    ints = isinstance(left, int) and isinstance(right, int)
    if op == "**" and ints and right > 0 and abs(left) > 1 and right * math.log2(abs(left)) > MAX_INT_BITS:
        raise LimitError(f"{left if _bits(left) < 64 else 'a number'} ** {right} is too large a number")
    if op == "*":
        if ints and _bits(left) + _bits(right) > MAX_INT_BITS:
            raise LimitError("a product too large a number")
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int):
                _refuse_over(len(seq) * max(0, n), "a repetition")
    if op == "%" and isinstance(left, str):
        _check_printf(left, right)


_PRINTF = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?[a-zA-Z%]")


def _check_printf(fmt: str, args: Any) -> None:
    """Width and precision of `%`-formatting, including `*` taken from the arguments."""
    values = list(args) if isinstance(args, tuple) else [args]
    star = iter(v for v in values if isinstance(v, int))
    total = len(fmt)
    for m in _PRINTF.finditer(fmt):
        for part in m.groups():
            if part == "*":
                total += abs(next(star, 0))
            elif part:
                total += int(part) if len(part) < 12 else 10**12
    _refuse_over(total, "this %-formatting")


_SPEC = re.compile(r"(\d+)")


def _check_spec(spec: str) -> None:
    """A str.format spec such as `>1000000000` or `.500000f`."""
    _refuse_over(sum(int(n) if len(n) < 12 else 10**12 for n in _SPEC.findall(spec)), "this format")


class _BoundedFormatter(SandboxedFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        _check_spec(format_spec)
        return made(super().format_field(value, format_spec), "a formatted text")


# methods of str and bytes that can grow a value in one step ---------------------------------
def _estimate_replace(s: Any, old: Any, new: Any, count: Any = -1) -> float:
    if not isinstance(s, (str, bytes)) or not isinstance(old, type(s)) or not isinstance(new, type(s)):
        return 0
    text: Any = s
    found = len(s) + 1 if not old else text.count(old)
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(s) + found * max(0, len(new) - len(old))


def _estimate_join(sep: Any, items: Any) -> float:
    seq = items if isinstance(items, (list, tuple, str, bytes)) else list(items)
    return len(_str_of(sep, "join's separator")) * max(0, len(seq) - 1) + sum(size(x) for x in seq)


def _estimate_translate(s: str, table: Any) -> float:
    longest = (
        max((len(v) for v in table.values() if isinstance(v, str)), default=1)
        if isinstance(table, dict)
        else 1
    )
    return len(s) * max(1, longest)


_METHODS: dict[str, Callable[..., float]] = {
    "center": lambda s, width=0, *_: _int(width, "the width"),
    "ljust": lambda s, width=0, *_: _int(width, "the width"),
    "rjust": lambda s, width=0, *_: _int(width, "the width"),
    "zfill": lambda s, width=0, *_: _int(width, "the width"),
    "expandtabs": lambda s, tabsize=8: (
        len(s) + s.count("\t" if isinstance(s, str) else b"\t") * max(0, tabsize)
    ),
    "replace": _estimate_replace,
    "join": _estimate_join,
    "translate": _estimate_translate,
}


def _check_method(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if isinstance(owner, (str, bytes)) and name in _METHODS:
        _refuse_over(_METHODS[name](owner, *args, **kwargs), f"{name}()")


# filters ---------------------------------------------------------------------------------
def _text(value: Any, filter_name: str) -> None:
    if not isinstance(value, str):
        raise LimitError(
            f"the {filter_name} filter needs text, not {type(value).__name__} "
            f"(write `|string|{filter_name}(...)`)"
        )


def _pre_center(value: Any, width: Any = 80, *_: Any, **__: Any) -> None:
    _refuse_over(_int(width, "center's width"), "center")


def _pre_indent(value: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    w = len(width) if isinstance(width, str) else _int(width, "indent's width")
    text = _str_of(value, "indent")
    _refuse_over(len(text) + w * (text.count("\n") + 1), "indent")


def _pre_wordwrap(
    value: Any, width: Any = 79, break_long: Any = True, wrapstring: Any = None, *_: Any, **kw: Any
) -> None:
    _text(value, "wordwrap")
    width = _int(kw.get("width", width), "wordwrap's width")
    if width < 1:
        raise LimitError(f"wordwrap's width must be at least 1, not {width}")
    wrap = kw.get("wrapstring", wrapstring)
    _refuse_over(len(value) + (len(value) // width + 1) * len(str(wrap or "\n")), "wordwrap")


def _pre_replace(value: Any, old: Any = "", new: Any = "", count: Any = None, **_: Any) -> None:
    text, old, new = (_str_of(x, "replace") for x in (value, old, new))
    _refuse_over(_estimate_replace(text, old, new, -1 if count is None else count), "replace")


def _pre_join(value: Any, d: Any = "", attribute: Any = None, **_: Any) -> None:
    _refuse_over(_estimate_join(d, value), "join")


def _pre_format(value: Any, *args: Any, **kwargs: Any) -> None:
    _check_printf(str(value), tuple(args) if args else kwargs)


def _pre_truncate(
    value: Any, length: Any = 255, killwords: Any = False, end: Any = "...", *_: Any, **kw: Any
) -> None:
    length = _int(kw.get("length", length), "truncate's length")
    end = kw.get("end", end)
    if length < len(str(end)):
        raise LimitError(
            f"truncate's length must be at least {len(str(end))} (the length of {str(end)!r}), not {length}"
        )


def _pre_batch(value: Any, linecount: Any = 1, fill_with: Any = None, **_: Any) -> None:
    n = _int(linecount, "batch's size")
    if n < 1:
        raise LimitError(f"batch's size must be at least 1, not {n}")
    if fill_with is not None:
        _refuse_over(n, "batch's filling")


def _pre_slice(value: Any, slices: Any = 1, fill_with: Any = None, **_: Any) -> None:
    n = _int(slices, "slice's count")
    if n < 1:
        raise LimitError(f"slice's count must be at least 1, not {n}")
    _refuse_over(n, "slice")


def _pre_sum(iterable: Any, attribute: Any = None, start: Any = 0, **_: Any) -> None:
    items = iterable if isinstance(iterable, (list, tuple, str)) else []
    _refuse_over(size(start) + sum(size(x) for x in items), "sum")


def _pre_nested(value: Any, *args: Any, **kwargs: Any) -> None:
    indent = kwargs.get("indent", args[0] if args else None)
    if isinstance(indent, int) and indent > 16:
        raise LimitError(f"an indent of {indent} is too wide; at most 16")
    if depth(value) > MAX_DEPTH:
        raise LimitError(f"a value nested more than {MAX_DEPTH} levels deep")


def _pre_urlize(
    value: Any,
    trim: Any = None,
    nofollow: Any = False,
    target: Any = None,
    rel: Any = None,
    *_: Any,
    **kw: Any,
) -> None:
    extra = len(str(kw.get("target", target) or "")) + len(str(kw.get("rel", rel) or "")) + 64
    text = _str_of(value, "urlize")
    _refuse_over(len(text) * 2 + (len(text) // 4 + 1) * extra, "urlize")


_PRECHECKS: dict[str, Callable[..., None]] = {
    "center": _pre_center,
    "indent": _pre_indent,
    "wordwrap": _pre_wordwrap,
    "replace": _pre_replace,
    "join": _pre_join,
    "format": _pre_format,
    "truncate": _pre_truncate,
    "batch": _pre_batch,
    "slice": _pre_slice,
    "sum": _pre_sum,
    "tojson": _pre_nested,
    "pprint": _pre_nested,
    "urlize": _pre_urlize,
}


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` with its arguments checked first (for filters that can grow a value) and its
    result measured; Jinja's pass_* markers are kept by functools.wraps."""
    pre = _PRECHECKS.get(name)
    pass_arg = getattr(func, "jinja_pass_arg", None)

    first = 1 if pass_arg is not None else 0  # the environment or context comes first

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if pre is not None and len(args) > first:
            if isinstance(args[first], Iterator):  # measured once, then handed on as a list
                args = (*args[:first], list(_counted(args[first])), *args[first + 1 :])
            pre(*args[first:], **kwargs)
        result = func(*args, **kwargs)
        if isinstance(result, Iterator) and not isinstance(result, (str, bytes)):
            return _counted(result)  # map, select...: consumed later, item by item
        return made(result, f"the {name} filter")

    return bounded


def _counted(items: Iterable[Any]) -> Iterator[Any]:
    limits = _limits()
    for item in items:
        limits.charge(1)
        yield item


# the environment -------------------------------------------------------------------------
class _CodeGenerator(CodeGenerator):
    """Jinja's compiler with three hooks: every loop iterates through `environment.sb_loop`,
    every `~` joins through `environment.sb_concat`, every piece of output (yielded or
    captured by set blocks, macros and filter blocks) passes `environment.sb_written`."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        node = copy.copy(node)  # the tree stays as parsed; only this loop's code changes
        node.iter = nodes.Call(
            nodes.EnvironmentAttribute("sb_loop"), [node.iter], [], None, None, lineno=node.iter.lineno
        )
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.sb_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        return f"environment.sb_written({super()._output_const_repr(group)})"

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write("environment.sb_written(")
        super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        super()._output_child_post(node, frame, finalize)
        self.write(")")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with every way of growing a value bounded (see the module)."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "-", "/", "//", "%"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        return made(super().call_binop(context, operator, left, right), f"a `{operator}`")

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _limits().charge(1)
        if getattr(__obj, "__name__", "") == "join" and args and isinstance(args[0], Iterator):
            args = (list(_counted(args[0])), *args[1:])
        _check_method(__obj, args, kwargs)
        return made(super().call(__context, __obj, *args, **kwargs), "a call")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """str.format and format_map through a formatter that checks every field's spec."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        owner: str = value.__self__
        formatter = _BoundedFormatter(self)
        is_map = value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                mapping: Any = args[0]
                return str(made(formatter.vformat(owner, (), mapping), "a formatted text"))
            return str(made(formatter.vformat(owner, args, kwargs), "a formatted text"))

        return functools.update_wrapper(bounded, value)

    # the hooks the compiled templates call ------------------------------------------------
    def sb_loop(self, iterable: Any) -> Iterator[Any]:
        limits = _limits()
        for item in iterable:
            limits.iterations -= 1
            if limits.iterations < 0:
                raise LimitError(f"loops run past {MAX_ITERATIONS} items")
            limits.charge(1)
            yield item

    def sb_concat(self, parts: tuple[Any, ...]) -> str:
        texts = [_str_of(p, "`~`") for p in parts]
        _refuse_over(sum(len(t) for t in texts), "this `~`")
        return str(made("".join(texts), "a `~`"))

    def sb_written(self, text: Any) -> Any:
        limits = _limits()
        n = len(text) if isinstance(text, str) else size(text)
        limits.written -= n
        if limits.written < 0:
            raise LimitError(f"the template writes more than {MAX_WRITTEN} characters")
        limits.charge(1 + n // 64)
        return text


def bounded_range(*args: Any) -> range:
    """range() for templates: at most MAX_ITERATIONS items (loops count them again)."""
    r = range(*args)
    if len(r) > MAX_ITERATIONS:
        raise LimitError(f"a range of {len(r)} items; at most {MAX_ITERATIONS}")
    return r
