"""The Jinja environment prompts render in: the immutable sandbox, bounded in memory and time.

A template is code the storyboard's author wrote (or downloaded). The sandbox stops it from
reaching Python's internals; the bounds here stop it from eating the machine:

- every value an operation makes (`*`, `**`, `%`, `+`, `~`, a filter, a method, a call) is
  measured, deeply, and refused above MAX_VALUE items or characters;
- operations that could build a huge value in one step (`'x'|center(10**9)`, `9**64**64`,
  `s.replace('', t)`, `'%1000000000s' % x`) are refused by arithmetic on their arguments
  before anything is built;
- every piece of text written, captured blocks and macros included, every loop iteration,
  call (by its arguments, and a method of a long text or list by its length), slice and
  operator counts as work, against each rendering's budget and the file's (bounds.FileBudget:
  one budget of work and time for all the templates of a file, across passes);
- a template is compiled only when it is short and shallow enough to compile quickly: its
  tokens are counted before Jinja parses it (MAX_TOKENS), and its nesting is measured before
  Jinja's code generator, whose time grows with the square of it, sees it (MAX_NESTING).

The bounds themselves live in bounds.py, the bounded filters in filters.py; this module is
the environment: Jinja's compiler with three hooks, and the sandbox's interception points.

Whatever goes wrong inside a template raises an exception the caller turns into a located
problem; LimitError (a SecurityError) says which bound was hit.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame, operators
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter

from storyboard.prompts.bounds import (
    MAX_ITERATIONS,
    MAX_NESTING,
    MAX_TOKENS,
    MAX_WRITTEN,
    FileBudget,
    FileLimitError,
    LimitError,
    check_binop,
    check_method,
    check_spec,
    current,
    made,
    ops,
    refuse_over,
    rendering,
    size,
    str_of,
)
from storyboard.prompts.filters import bounded_filter, counted

__all__ = [
    "BoundedSandbox",
    "FileBudget",
    "FileLimitError",
    "LimitError",
    "bounded_filter",
    "bounded_range",
    "rendering",
]

_SIZED = (str, bytes, list, tuple, dict, set, frozenset)
_SPLIT = "split it into parts: {% set part = ... %}, then use the parts"


class _BoundedFormatter(SandboxedFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        check_spec(format_spec)
        return made(super().format_field(value, format_spec), "a formatted text")


# the environment -------------------------------------------------------------------------
class _CodeGenerator(CodeGenerator):
    """Jinja's compiler with four hooks: every loop iterates through `environment.sb_loop`,
    every `~` joins through `environment.sb_concat`, every piece of output (yielded or
    captured by set blocks, macros and filter blocks) passes `environment.sb_written`, and
    what a slice makes or a comparison walks passes `environment.sb_handled`."""

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

    def visit_Getitem(self, node: nodes.Getitem, frame: Frame) -> None:
        if not isinstance(node.arg, nodes.Slice):  # the rest go through environment.getitem
            super().visit_Getitem(node, frame)
            return
        self.write("environment.sb_handled(")  # a slice copies: Jinja writes it inline
        super().visit_Getitem(node, frame)
        self.write(")")

    def visit_Compare(self, node: nodes.Compare, frame: Frame) -> None:
        # `==` and `in` walk both sides: each side is counted by its size
        self.write("(environment.sb_handled(")
        self.visit(node.expr, frame)
        self.write(")")
        for op in node.ops:
            self.write(f" {operators[op.op]} environment.sb_handled(")
            self.visit(op.expr, frame)
            self.write(")")
        self.write(")")

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
        self.filters = {name: bounded_filter(name, f) for name, f in self.filters.items()}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        check_binop(operator, left, right)
        return made(super().call_binop(context, operator, left, right), f"a `{operator}`")

    def compile_counted(self, source: str, name: str) -> tuple[Any, int]:
        """The template compiled under its own file name (so Jinja maps runtime errors to its
        lines), and how many tokens it is (what compiling it costs): refused past MAX_TOKENS
        before Jinja parses it."""
        tokens = 0
        for _ in self._tokenize(source, name, name):
            tokens += 1
            if tokens > MAX_TOKENS:
                raise LimitError(
                    f"the template is more than {MAX_TOKENS:,} tokens long",
                    "text outside `{{ }}` and `{% %}` is one token however long, `{{ x }}` is "
                    "three: keep the tags few, or put the long parts in `vars:`",
                )
        code = self.compile(source, name=name, filename=name)
        return self.template_class.from_code(self, code, self.make_globals(None), None), tokens

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Jinja's parser, and the tree's nesting measured before the code generator sees it."""
        try:
            tree = super()._parse(source, name, filename)
        except RecursionError:
            raise LimitError(f"the template nests more than {MAX_NESTING} levels deep", _SPLIT) from None
        deepest = 0
        stack: list[tuple[nodes.Node, int]] = [(tree, 0)]
        while stack:
            node, d = stack.pop()
            deepest = max(deepest, d)
            if deepest > MAX_NESTING:
                raise LimitError(
                    f"the template nests more than {MAX_NESTING} levels deep (an expression of "
                    "many operators, or tags within tags)",
                    _SPLIT,
                )
            stack.extend((child, d + 1) for child in node.iter_child_nodes())
        return tree

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # a call costs by its arguments (`f(*range(9999))` passes 9999), and a method of a long
        # text or list by that length: count, find and the like scan it whole
        owner = getattr(__obj, "__self__", None)
        scanned = size(owner) if isinstance(owner, _SIZED) else 0
        current().charge(ops(len(args) + len(kwargs) + scanned))
        if getattr(__obj, "__name__", "") == "join" and args and isinstance(args[0], Iterator):
            args = (list(counted(args[0])), *args[1:])
        # inside a loop or block Jinja passes its own _loop_vars/_block_vars along (Context.call
        # takes them off again): they are not the method's arguments
        own = {k: v for k, v in kwargs.items() if k not in ("_loop_vars", "_block_vars")}
        check_method(__obj, args, own)
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
        limits = current()
        for item in iterable:
            limits.iterations -= 1
            if limits.iterations < 0:
                raise LimitError(f"loops run past {MAX_ITERATIONS} items")
            limits.charge(1)
            yield item

    def sb_concat(self, parts: tuple[Any, ...]) -> str:
        texts = [str_of(p, "`~`") for p in parts]
        refuse_over(sum(len(t) for t in texts), "this `~`")
        return str(made("".join(texts), "a `~`"))

    def sb_written(self, text: Any) -> Any:
        limits = current()
        n = len(text) if isinstance(text, str) else size(text)
        limits.written -= n
        if limits.written < 0:
            raise LimitError(f"the template writes more than {MAX_WRITTEN} characters")
        limits.charge(ops(n))
        return text

    def sb_handled(self, value: Any) -> Any:
        """A value an operation walks or copies (a slice, a side of `==` or `in`), counted."""
        current().charge(ops(size(value)))
        return value


def bounded_range(*args: Any) -> range:
    """range() for templates: at most MAX_ITERATIONS items (loops count them again)."""
    r = range(*args)
    if len(r) > MAX_ITERATIONS:
        raise LimitError(f"a range of {len(r)} items; at most {MAX_ITERATIONS}")
    return r
