"""The bounds the templates of a storyboard render within, and the arithmetic that keeps them.

Every value a template makes is measured (`size`, deeply, stopping early) and refused above
MAX_VALUE; operations that could build a huge value in one step are refused from their
arguments first (`check_binop`, `check_printf`, `check_spec`, `check_method`), so nothing
large is ever built.

Work is counted in operations: a loop iteration, a call, an operator, a filter, a piece of
text written, each 64 characters or items a value made, an argument passed or a text scanned
holds, and the tokens of each template compiled. Each rendering may do MAX_WORK of them (so
one runaway prompt is named as the one), and all the templates of a file share one budget,
`FileBudget`: MAX_FILE_WORK operations and DEADLINE_SECONDS of rendering, across every pass
that renders them (validate, plan, render), so 21 runaway prompts cost what one file may, not
21 times it. The count is the bound; the clock (injectable) is a backstop for work no count
sees, and counts only time spent rendering, so a long render between passes spends none.
The sandbox (sandbox.py) and the filters (filters.py) call these.
"""

from __future__ import annotations

import contextvars
import math
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from jinja2.sandbox import SecurityError

MAX_VALUE = 100_000  # items or characters in any one value (deep)
MAX_WRITTEN = 200_000  # characters a rendering may write, captured blocks and macros included
MAX_WORK = 50_000  # operations one rendering may do
MAX_FILE_WORK = 250_000  # operations all the templates of a file may do together (~1 s)
ITEMS_PER_OP = 32  # characters or items handled that count as one operation
MAX_TOKENS = 1_000  # in one template: a prompt is a paragraph (`{{ x }}` is three)
TOKEN_OPS = 25  # operations compiling a token costs (Jinja's compiler is slow per token)
MAX_NESTING = 30  # expressions and tags within each other: Jinja compiles in time ~ depth²
MAX_ITERATIONS = 10_000  # loop iterations per rendering
MAX_INT_BITS = 10_000  # an int of ~3000 digits: far more than a prompt needs
MAX_DEPTH = 32  # nesting of a value that tojson or pprint indents
DEADLINE_SECONDS = 2.0  # of rendering, for all the templates of a file together


LIGHTER = "a prompt is a paragraph: loop over fewer items, build less text, or write it out in `vars:`"
TOGETHER = (
    "the bound is for all the prompts, captions and templates of the file together: make the "
    "heaviest lighter (fewer loop items, shorter texts), or write their text out in `vars:`"
)


class LimitError(SecurityError):
    """A template asked for more than its bounds allow; `hint` says what to do instead."""

    def __init__(self, message: str, hint: str = LIGHTER) -> None:
        super().__init__(message)
        self.hint = hint


class FileLimitError(LimitError):
    """The templates of a file together went past the file's budget."""

    def __init__(self, message: str, hint: str = TOGETHER) -> None:
        super().__init__(message, hint)


def ops(items: int) -> int:
    """The operations that handling `items` characters or items counts for."""
    return 1 + items // ITEMS_PER_OP


@dataclass(eq=False)
class FileBudget:
    """The work and time all the templates of one file may take, across every pass that
    renders them. `clock` is injectable: tests drive it, never the wall."""

    work: int = MAX_FILE_WORK
    seconds: float = DEADLINE_SECONDS
    # the rendering thread's CPU time: what the templates spend, however busy the machine is
    # (rendering never waits on anything, so its wall time is this plus other programs' turns)
    clock: Callable[[], float] = time.thread_time
    used: int = 0  # operations counted so far
    compiled: set[tuple[str, str]] = field(default_factory=set)  # (text, name) charged for compiling

    @property
    def spent(self) -> str | None:
        """Which of the file's bounds is used up, in words; None while some is left."""
        if self.work <= 0:
            return f"they did more than {MAX_FILE_WORK:,} operations together"
        if self.seconds <= 0:
            return f"they took more than {DEADLINE_SECONDS:g} s of work to render together"
        return None

    def charge(self, units: int) -> None:
        self.work -= units
        self.used += units
        if self.work < 0:
            raise FileLimitError(
                f"the templates of this file together do more than {MAX_FILE_WORK:,} operations, "
                "and this one went past it"
            )

    def charge_compile(self, text: str, name: str, tokens: int) -> None:
        """Compiling a template counts once per file, by its tokens (each prompt is compiled
        under its own name, so that errors point at it)."""
        if (text, name) not in self.compiled:
            self.compiled.add((text, name))
            self.charge(tokens * TOKEN_OPS)


@dataclass
class _Limits:
    file: FileBudget
    deadline: float
    work: int = MAX_WORK
    written: int = MAX_WRITTEN
    iterations: int = MAX_ITERATIONS
    ticks: int = 0

    def charge(self, units: int) -> None:
        self.work -= units
        if self.work < 0:
            raise LimitError(
                f"the template does more than {MAX_WORK:,} operations (loop iterations, calls, "
                f"filters, operators, and every {ITEMS_PER_OP} characters or items they handle)"
            )
        self.file.charge(units)
        self.ticks += 1
        if self.ticks % 64 == 0 and self.file.clock() > self.deadline:
            raise FileLimitError(
                f"the templates of this file together take more than {DEADLINE_SECONDS:g} s of "
                "work to render, and this one went past it (a loop or filter doing too much?)"
            )


_current: contextvars.ContextVar[_Limits | None] = contextvars.ContextVar("storyboard_limits", default=None)


@contextmanager
def rendering(budget: FileBudget | None = None) -> Iterator[_Limits]:
    """Fresh limits for one rendering, within `budget` (the file's; one of its own if None).
    The time spent inside is taken from the budget's seconds, whatever happens."""
    file = budget if budget is not None else FileBudget()
    start = file.clock()
    limits = _Limits(file, start + file.seconds)
    token = _current.set(limits)
    try:
        yield limits
    finally:
        _current.reset(token)
        file.seconds -= file.clock() - start


def current() -> _Limits:
    found = _current.get()
    if found is None:  # rendering outside `rendering()`: bounded all the same
        file = FileBudget()
        found = _Limits(file, file.clock() + file.seconds)
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
    current().charge(ops(n))
    return value


def str_of(value: Any, what: str) -> str:
    """str(value), refused before converting when the value is too large to be text."""
    if size(value) > MAX_VALUE:
        raise LimitError(f"{what}: a value larger than {MAX_VALUE} characters or items cannot become text")
    return str(value)


def refuse_over(estimate: float, what: str) -> None:
    if estimate > MAX_VALUE:
        amount = f"about {estimate:.0f}" if estimate < 1e12 else "over a million million"
        raise LimitError(f"{what} would make {amount} characters; at most {MAX_VALUE}")


def whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LimitError(f"{name} must be a whole number, not {type(value).__name__}")
    return value


# arithmetic ------------------------------------------------------------------------------
def _bits(x: Any) -> int:
    return abs(x).bit_length() if isinstance(x, int) else 0


def check_binop(op: str, left: Any, right: Any) -> None:
    ints = isinstance(left, int) and isinstance(right, int)
    if op == "**" and ints and right > 0 and abs(left) > 1 and right * math.log2(abs(left)) > MAX_INT_BITS:
        raise LimitError(f"{left if _bits(left) < 64 else 'a number'} ** {right} is too large a number")
    if op == "*":
        if ints and _bits(left) + _bits(right) > MAX_INT_BITS:
            raise LimitError("a product too large a number")
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int):
                refuse_over(len(seq) * max(0, n), "a repetition")
    if op == "%" and isinstance(left, str):
        check_printf(left, right)


_PRINTF = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?[a-zA-Z%]")


def check_printf(fmt: str, args: Any) -> None:
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
    refuse_over(total, "this %-formatting")


_SPEC = re.compile(r"(\d+)")


def check_spec(spec: str) -> None:
    """A str.format spec such as `>1000000000` or `.500000f`."""
    refuse_over(sum(int(n) if len(n) < 12 else 10**12 for n in _SPEC.findall(spec)), "this format")


# methods of str and bytes that can grow a value in one step ---------------------------------
def estimate_replace(s: Any, old: Any, new: Any, count: Any = -1) -> float:
    if not isinstance(s, (str, bytes)) or not isinstance(old, type(s)) or not isinstance(new, type(s)):
        return 0
    text: Any = s
    found = len(s) + 1 if not old else text.count(old)
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(s) + found * max(0, len(new) - len(old))


def estimate_join(sep: Any, items: Any) -> float:
    seq = items if isinstance(items, (list, tuple, str, bytes)) else list(items)
    return len(str_of(sep, "join's separator")) * max(0, len(seq) - 1) + sum(size(x) for x in seq)


def estimate_translate(s: str, table: Any) -> float:
    longest = (
        max((len(v) for v in table.values() if isinstance(v, str)), default=1)
        if isinstance(table, dict)
        else 1
    )
    return len(s) * max(1, longest)


_METHODS: dict[str, Callable[..., float]] = {
    "center": lambda s, width=0, *_: whole(width, "the width"),
    "ljust": lambda s, width=0, *_: whole(width, "the width"),
    "rjust": lambda s, width=0, *_: whole(width, "the width"),
    "zfill": lambda s, width=0, *_: whole(width, "the width"),
    "expandtabs": lambda s, tabsize=8: (
        len(s) + s.count("\t" if isinstance(s, str) else b"\t") * max(0, tabsize)
    ),
    "replace": estimate_replace,
    "join": estimate_join,
    "translate": estimate_translate,
}


def check_method(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if isinstance(owner, (str, bytes)) and name in _METHODS:
        refuse_over(_METHODS[name](owner, *args, **kwargs), f"{name}()")
