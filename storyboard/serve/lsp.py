"""`storyboard lsp`: a language server over stdio (pygls) for editors writing storyboards.

- Diagnostics: on open, change and save, the validator's own problems (what `validate`
  says, in the same words, at the same line and column), errors and warnings. Nothing is
  sent anywhere and no key is needed: the same pass as `validate`.
- Completion of the names a storyboard refers to (serve.outline): shot ids after
  `continues:` (the shots before this one), images and characters in `frames` and
  `references`, vars and characters inside `{{ }}`, provider names and their options, takes
  after `select:`.
- Hover on a shot: its prompt as sent (templates applied) and its price on the file's
  provider. Go to definition: from a name to where the file defines it.

The editor's unsaved text is what is checked, as the file it will be saved as (its folder
for the images and templates it names).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from storyboard import __version__
from storyboard.errors import Problem, Severity, StoryboardError, ValidationError
from storyboard.money import Money
from storyboard.providers import registry
from storyboard.serve.outline import Context, Name, Want, context, outline, word_at

SOURCE = "storyboard"


@dataclass(frozen=True)
class Checked:
    """One version of a document, checked."""

    problems: list[Problem]  # errors and warnings, in the file's order
    plan: Any = None  # plan.compiler.Plan of the last version that validated (for hover)


def check_text(path: Path, text: str) -> Checked:
    """What `validate` says of `text` as the file at `path`: its problems, and its plan."""
    from storyboard import pipeline  # lazy: start-up
    from storyboard.plan.compiler import plan_warnings  # lazy: start-up

    try:
        sb = pipeline.load(path, text=text)
        plan = pipeline.make_plan(sb)
    except ValidationError as e:
        return Checked(list(e.problems))
    except StoryboardError as e:
        return Checked([Problem(e.message, hint=getattr(e, "hint", None))])
    return Checked(plan_warnings(plan), plan)


def _words(p: Problem) -> str:
    """A problem's words as `validate` prints them, without the location (the range says it)."""
    text = f"{p.path}: {p.message}" if p.path else p.message
    return f"{text} ({p.hint})" if p.hint else text


def _range(text_line: str, line: int, column: int) -> lsp.Range:
    """From the problem's column to the end of the word there (or a character at least)."""
    start = max(column - 1, 0)
    end = start
    while end < len(text_line) and not text_line[end].isspace():
        end += 1
    return lsp.Range(lsp.Position(line - 1, start), lsp.Position(line - 1, max(end, start + 1)))


def diagnostics(path: Path, text: str, problems: list[Problem]) -> dict[str, list[lsp.Diagnostic]]:
    """The problems as diagnostics, by the URI of the file each stands in (a template file's
    problem is that file's); one with no location stands on the first line."""
    lines = text.splitlines()
    here = str(path)
    out: dict[str, list[lsp.Diagnostic]] = {from_fs_path(here) or "": []}
    for p in problems:
        loc = p.location
        file = loc.file if loc is not None and loc.file else here
        if loc is not None and loc.line > 0:
            source = (
                lines[loc.line - 1] if file == here and loc.line <= len(lines) else (loc.source_line or "")
            )
            rng = _range(source, loc.line, loc.column)
        else:
            rng = lsp.Range(lsp.Position(0, 0), lsp.Position(0, 1))
        uri = from_fs_path(str(Path(path).parent / file) if not Path(file).is_absolute() else file)
        severity = (
            lsp.DiagnosticSeverity.Warning if p.severity is Severity.WARNING else lsp.DiagnosticSeverity.Error
        )
        out.setdefault(uri or "", []).append(
            lsp.Diagnostic(range=rng, message=_words(p), severity=severity, source=SOURCE)
        )
    return out


class StoryboardServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(SOURCE, __version__)
        self.checked: dict[str, Checked] = {}  # by document URI
        self.plans: dict[str, Any] = {}  # the last plan that validated, by document URI
        self.touched: dict[str, set[str]] = {}  # the URIs we published to, by document URI

    def check(self, uri: str) -> None:
        doc = self.workspace.get_text_document(uri)
        path = Path(to_fs_path(uri) or doc.path)
        result = check_text(path, doc.source)
        self.checked[uri] = result
        if result.plan is not None:
            self.plans[uri] = result.plan
        found = diagnostics(path, doc.source, result.problems)
        for stale in self.touched.get(uri, set()) - set(found):
            found[stale] = []  # clear what an earlier version said of another file
        self.touched[uri] = {u for u, d in found.items() if d}
        for target, items in found.items():
            self.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(uri=target, diagnostics=items, version=doc.version)
            )


server = StoryboardServer()


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def _opened(ls: StoryboardServer, params: lsp.DidOpenTextDocumentParams) -> None:
    ls.check(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def _changed(ls: StoryboardServer, params: lsp.DidChangeTextDocumentParams) -> None:
    ls.check(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def _saved(ls: StoryboardServer, params: lsp.DidSaveTextDocumentParams) -> None:
    ls.check(params.text_document.uri)


def _item(label: str, kind: lsp.CompletionItemKind, detail: str) -> lsp.CompletionItem:
    return lsp.CompletionItem(label=label, kind=kind, detail=detail)


def _provider_items(prefix: str) -> list[lsp.CompletionItem]:
    return [
        _item(n, lsp.CompletionItemKind.Module, "provider") for n in registry.names() if n.startswith(prefix)
    ]


def _option_items(provider: str) -> list[lsp.CompletionItem]:
    try:
        declared = registry.get(provider).Options.declared()
    except Exception:  # an unknown or broken provider: no options to offer
        return []
    return [
        _item(name, lsp.CompletionItemKind.Property, f"{provider} option: {getattr(kind, '__name__', kind)}")
        for name, (kind, _) in declared.items()
    ]


def completions(text: str, line: int, column: int) -> list[lsp.CompletionItem]:
    """What may be typed at the cursor (0-based)."""
    where: Context | None = context(text, line, column)
    if where is None:
        return []
    names = outline(text)
    kind = lsp.CompletionItemKind
    if where.want is Want.SHOT:
        before = [s for s in names.shots if where.shot is None or s.index < where.shot.index]
        return [_item(s.id.name, kind.Reference, f"shot {s.index + 1}") for s in before if s.id.name]
    if where.want is Want.ASSET:
        return [_item(n.name, kind.File, "image") for n in names.images] + [
            _item(n.name, kind.Class, "character (all its images)") for n in names.characters
        ]
    if where.want is Want.CHARACTER:
        return [_item(n.name, kind.Class, "character") for n in names.characters]
    if where.want is Want.TEMPLATE:
        return [_item(n.name, kind.Variable, "var") for n in names.vars] + [
            _item(n, kind.Module, "template name") for n in ("characters", "images", "vars", "shot", "title")
        ]
    if where.want is Want.PROVIDER:
        return _provider_items(where.prefix)
    if where.want is Want.OPTION and where.provider:
        return _option_items(where.provider)
    if where.want is Want.TAKE and where.shot is not None:
        return [_item(str(k), kind.Value, f"take {k}") for k in range(1, where.shot.takes + 1)]
    return []


@server.feature(
    lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[" ", ".", "{", "[", ","])
)
def _complete(ls: StoryboardServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    items = completions(doc.source, params.position.line, params.position.character)
    return lsp.CompletionList(is_incomplete=False, items=items)


def definition(text: str, line: int, column: int) -> Name | None:
    """Where the name under the cursor is defined in the file."""
    word = word_at(text, line, column)
    if word is None:
        return None
    names = outline(text)
    where = context(text, line, column + 0)
    lines = text.splitlines()
    before = lines[line][:column] if line < len(lines) else ""
    if (where is not None and where.want is Want.CHARACTER) or "characters." + word in before + word:
        order = ["characters"]
    elif (where is not None and where.want is Want.SHOT) or "continues" in before:
        order = ["shots"]
    elif where is not None and where.want is Want.TEMPLATE:
        order = ["vars", "characters", "images"]
    else:
        order = ["images", "characters", "shots", "vars"]
    for kind in order:
        found = names.find(kind, word)
        if found is not None and (found.line, found.column) != (line, column):
            return found
    return None


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def _definition(ls: StoryboardServer, params: lsp.DefinitionParams) -> lsp.Location | None:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    found = definition(doc.source, params.position.line, params.position.character)
    if found is None:
        return None
    start = lsp.Position(found.line, found.column)
    end = lsp.Position(found.line, found.column + len(found.name))
    return lsp.Location(uri=params.text_document.uri, range=lsp.Range(start, end))


def _cost(cost: Money) -> str:
    """In its own units, as plan shows it; where it came from is plan's to say."""
    return cost.text() if cost.known else "price unknown (no document gives one, and none is declared)"


def hover_text(plan: Any, text: str, line: int) -> str | None:
    """A shot's prompt as sent and its price, for a cursor in its lines."""
    shot = outline(text).shot_at(line)
    if plan is None or shot is None:
        return None
    for sp in plan.shots:
        if sp.compiled.shot.index == shot.index and sp.selected:
            name = plan.provider.name
            return f"**{sp.id}** on {name}: {_cost(sp.cost)}\n\n```text\n{sp.compiled.prompt}\n```"
    return None


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def _hover(ls: StoryboardServer, params: lsp.HoverParams) -> lsp.Hover | None:
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)
    checked = ls.checked.get(uri)
    plan = checked.plan if checked is not None and checked.plan is not None else ls.plans.get(uri)
    said = hover_text(plan, doc.source, params.position.line)
    if said is None:
        return None
    if checked is not None and checked.plan is None:
        said += "\n\n(as of the last version without errors)"
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=said))


def serve() -> None:
    """Speak LSP on stdin and stdout until the editor says exit."""
    server.start_io()
