"""Jinja's built-in filters, each bounded: the arguments of those that can grow a value are
checked before it is built (`'x'|center(10**9)`, `s|replace('', t)`, `|batch(10**9, x)`), and
every result is measured (bounds.made). Wrapped once, when the environment is made.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from storyboard.prompts.bounds import (
    MAX_DEPTH,
    LimitError,
    check_printf,
    current,
    depth,
    estimate_join,
    estimate_replace,
    made,
    ops,
    refuse_over,
    size,
    str_of,
    whole,
)


def _text(value: Any, filter_name: str) -> None:
    if not isinstance(value, str):
        raise LimitError(
            f"the {filter_name} filter needs text, not {type(value).__name__} "
            f"(write `|string|{filter_name}(...)`)"
        )


def _pre_center(value: Any, width: Any = 80, *_: Any, **__: Any) -> None:
    refuse_over(whole(width, "center's width"), "center")


def _pre_indent(value: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    w = len(width) if isinstance(width, str) else whole(width, "indent's width")
    text = str_of(value, "indent")
    refuse_over(len(text) + w * (text.count("\n") + 1), "indent")


def _pre_wordwrap(
    value: Any, width: Any = 79, break_long: Any = True, wrapstring: Any = None, *_: Any, **kw: Any
) -> None:
    _text(value, "wordwrap")
    width = whole(kw.get("width", width), "wordwrap's width")
    if width < 1:
        raise LimitError(f"wordwrap's width must be at least 1, not {width}")
    wrap = kw.get("wrapstring", wrapstring)
    refuse_over(len(value) + (len(value) // width + 1) * len(str(wrap or "\n")), "wordwrap")


def _pre_replace(value: Any, old: Any = "", new: Any = "", count: Any = None, **_: Any) -> None:
    text, old, new = (str_of(x, "replace") for x in (value, old, new))
    refuse_over(estimate_replace(text, old, new, -1 if count is None else count), "replace")


def _pre_join(value: Any, d: Any = "", attribute: Any = None, **_: Any) -> None:
    refuse_over(estimate_join(d, value), "join")


def _pre_format(value: Any, *args: Any, **kwargs: Any) -> None:
    check_printf(str(value), tuple(args) if args else kwargs)


def _pre_truncate(
    value: Any, length: Any = 255, killwords: Any = False, end: Any = "...", *_: Any, **kw: Any
) -> None:
    length = whole(kw.get("length", length), "truncate's length")
    end = kw.get("end", end)
    if length < len(str(end)):
        raise LimitError(
            f"truncate's length must be at least {len(str(end))} (the length of {str(end)!r}), not {length}"
        )


def _pre_batch(value: Any, linecount: Any = 1, fill_with: Any = None, **_: Any) -> None:
    n = whole(linecount, "batch's size")
    if n < 1:
        raise LimitError(f"batch's size must be at least 1, not {n}")
    if fill_with is not None:
        refuse_over(n, "batch's filling")


def _pre_slice(value: Any, slices: Any = 1, fill_with: Any = None, **_: Any) -> None:
    n = whole(slices, "slice's count")
    if n < 1:
        raise LimitError(f"slice's count must be at least 1, not {n}")
    refuse_over(n, "slice")


def _pre_sum(iterable: Any, attribute: Any = None, start: Any = 0, **_: Any) -> None:
    items = iterable if isinstance(iterable, (list, tuple, str)) else []
    refuse_over(size(start) + sum(size(x) for x in items), "sum")


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
    text = str_of(value, "urlize")
    refuse_over(len(text) * 2 + (len(text) // 4 + 1) * extra, "urlize")


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


# filters that call Python for each item of their input (a key, a comparison): an item is an
# operation, where elsewhere 64 count as one
_PER_ITEM = frozenset(
    {"sort", "unique", "groupby", "dictsort", "min", "max", "sum", "selectattr", "rejectattr"}
)


def bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` with its arguments checked first (for filters that can grow a value), its input
    counted as work, and its result measured; Jinja's pass_* markers are kept by
    functools.wraps."""
    pre = _PRECHECKS.get(name)
    per_item = name in _PER_ITEM
    pass_arg = getattr(func, "jinja_pass_arg", None)

    first = 1 if pass_arg is not None else 0  # the environment or context comes first

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if pre is not None and len(args) > first:
            if isinstance(args[first], Iterator):  # measured once, then handed on as a list
                args = (*args[:first], list(counted(args[first])), *args[first + 1 :])
            pre(*args[first:], **kwargs)
        if len(args) > first and not isinstance(args[first], Iterator):
            n = size(args[first])
            current().charge(n if per_item else ops(n))
        result = func(*args, **kwargs)
        if isinstance(result, Iterator) and not isinstance(result, (str, bytes)):
            return counted(result)  # map, select...: consumed later, item by item
        return made(result, f"the {name} filter")

    return bounded


def counted(items: Iterable[Any]) -> Iterator[Any]:
    limits = current()
    for item in items:
        limits.charge(1)
        yield item
