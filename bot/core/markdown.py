"""Markdown read the way GitHub renders it, for the practices.

PR bodies and AGENTS.md files are Markdown; reading them with regexes gets
fences, code spans and nested lists wrong. This wraps markdown-it-py (the
CommonMark parser) into the few shapes the practices need: sections under
headings, list items, inline code, and prose lines outside code blocks.

Parsing is the expensive part of an evaluation, so each distinct text is
parsed once: `parse`, `reference_text` and `inline_refs` all read one cached
walk of the same token stream, keyed by the source string, and return
immutable results that every practice can share. At most `MAX_PARSE_CHARS`
of any text is parsed, which keeps the cost linear on hostile input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")

MAX_PARSE_CHARS = 128 * 1024
"""Characters of any one text that are parsed; the rest is ignored.

Twice what GitHub allows in a PR or issue body (65,536 characters) and four
times the 32 KiB Codex reads of an AGENTS chain (``project_doc_max_bytes``),
so real input is never cut. Longer text is cut at the last line break before
the limit (or at the limit, for one endless line); `Document.truncated` says
so, for a practice that wants to mention it.
"""

_CACHE_SIZE = 32
"""Distinct texts whose parse is kept: a body, its issues, head and base AGENTS files."""


@dataclass(frozen=True)
class ListItem:
    """One list item: its inline text, code spans, task-box state, first line."""

    text: str
    code: tuple[str, ...]
    line: int
    checked: bool | None = None


@dataclass(frozen=True)
class Section:
    """A heading and everything up to the next heading of any level.

    ``title`` is empty for the text before the first heading. Lines are
    1-based and refer to the source text. Immutable: a parse is shared by
    every practice that reads the same text.
    """

    title: str
    level: int
    line: int
    end_line: int
    paragraphs: tuple[tuple[int, str], ...] = ()
    items: tuple[ListItem, ...] = ()
    code_blocks: tuple[tuple[int, str], ...] = ()
    inline_code: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """Prose of the section (paragraphs and list items), code blocks left out."""
        parts = [p for _, p in self.paragraphs] + [i.text for i in self.items]
        return "\n".join(parts)


@dataclass(frozen=True)
class Document:
    source: str
    sections: tuple[Section, ...]
    truncated: bool = False
    """Whether ``source`` was longer than `MAX_PARSE_CHARS` and only its start was parsed."""

    def find(self, *titles: str) -> list[Section]:
        """Sections whose heading matches one of ``titles``, case and colon insensitive."""
        wanted = {normalise_title(t) for t in titles}
        return [s for s in self.sections if s.title and normalise_title(s.title) in wanted]


@dataclass(frozen=True)
class InlineRef:
    """A code span or link destination with its 1-based source line.

    ``kind`` is ``code`` or ``link`` (images count as links). ``section`` is
    the title of the heading above it, empty before the first heading.
    """

    kind: str
    value: str
    line: int
    section: str = ""


def normalise_title(title: str) -> str:
    return " ".join(title.strip().strip(":").replace("*", "").split()).casefold()


def bounded(source: str) -> str:
    """The part of ``source`` that is parsed: all of it up to `MAX_PARSE_CHARS`."""
    if len(source) <= MAX_PARSE_CHARS:
        return source
    cut = source.rfind("\n", 0, MAX_PARSE_CHARS)
    return source[: cut + 1] if cut > 0 else source[:MAX_PARSE_CHARS]


def _tokens(source: str) -> list[Token]:
    return _PARSER.parse(bounded(source))


def _inline_parts(token: Token) -> tuple[str, list[str]]:
    """Plain text and code spans of an inline token (links keep their text)."""
    text: list[str] = []
    code: list[str] = []
    for child in token.children or []:
        if child.type == "code_inline":
            code.append(child.content)
            text.append(f"`{child.content}`")
        elif child.type in ("softbreak", "hardbreak"):
            text.append("\n")
        elif child.type == "html_inline":
            continue
        else:
            text.append(child.content)
    return "".join(text), code


def _task_state(text: str) -> tuple[bool | None, str]:
    if len(text) >= 3 and text[0] == "[" and text[2] == "]" and text[1] in " xX":
        return text[1] != " ", text[3:].lstrip()
    return None, text


class _Open:
    """A section while its tokens are read; frozen into a `Section` at the end."""

    def __init__(self, level: int, line: int) -> None:
        self.title = ""
        self.level = level
        self.line = line
        self.end_line = line
        self.paragraphs: list[tuple[int, str]] = []
        self.items: list[ListItem] = []
        self.code_blocks: list[tuple[int, str]] = []
        self.inline_code: list[str] = []

    def freeze(self) -> Section:
        return Section(
            title=self.title,
            level=self.level,
            line=self.line,
            end_line=self.end_line,
            paragraphs=tuple(self.paragraphs),
            items=tuple(self.items),
            code_blocks=tuple(self.code_blocks),
            inline_code=tuple(self.inline_code),
        )


def _document(source: str, tokens: Sequence[Token]) -> Document:
    sections: list[_Open] = [_Open(level=0, line=1)]
    item_depth = 0
    pending_item_line: int | None = None
    in_heading = False
    for token in tokens:
        line = (token.map[0] + 1) if token.map else sections[-1].line
        if token.type == "heading_open":
            in_heading = True
            sections[-1].end_line = max(sections[-1].line, line - 1)
            sections.append(_Open(level=int(token.tag[1:]), line=line))
        elif token.type == "heading_close":
            in_heading = False
        elif token.type == "list_item_open":
            item_depth += 1
            pending_item_line = line
        elif token.type == "list_item_close":
            item_depth -= 1
        elif token.type in ("fence", "code_block"):
            sections[-1].code_blocks.append((line, token.content))
        elif token.type == "inline":
            text, code = _inline_parts(token)
            current = sections[-1]
            if in_heading:
                current.title = text.strip()
                continue
            current.inline_code.extend(code)
            if item_depth and pending_item_line is not None:
                checked, text = _task_state(text)
                current.items.append(
                    ListItem(text=text.strip(), code=tuple(code), line=line, checked=checked)
                )
                pending_item_line = None
            else:
                current.paragraphs.append((line, text.strip()))
        if token.map:
            sections[-1].end_line = max(sections[-1].end_line, token.map[1])
    first = sections[0]
    if not first.paragraphs and not first.items and not first.code_blocks:
        sections.pop(0)
    return Document(
        source=source,
        sections=tuple(s.freeze() for s in sections),
        truncated=len(source) > MAX_PARSE_CHARS,
    )


def _reference_text(tokens: Sequence[Token]) -> str:
    parts: list[str] = []
    for token in tokens:
        if token.type != "inline":
            continue
        for child in token.children or []:
            if child.type in ("text", "text_special"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append("\n")
            elif child.type in ("code_inline", "html_inline"):
                parts.append(" ")
            elif child.type == "link_open":
                parts.append(f" {child.attrs.get('href', '')} ")
            elif child.type == "link_close":
                parts.append(" ")
        parts.append("\n")
    return "".join(parts)


def _inline_refs(tokens: Sequence[Token]) -> tuple[InlineRef, ...]:
    refs: list[InlineRef] = []
    title = ""
    in_heading = False
    for token in tokens:
        if token.type == "heading_open":
            in_heading = True
            continue
        if token.type == "heading_close":
            in_heading = False
            continue
        if token.type != "inline":
            continue
        if in_heading:
            title = _inline_parts(token)[0].strip()
            continue
        line = token.map[0] + 1 if token.map else 1
        for child in token.children or []:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "code_inline":
                refs.append(InlineRef("code", child.content, line, title))
            elif child.type in ("link_open", "image"):
                target = child.attrs.get("href" if child.type == "link_open" else "src", "")
                refs.append(InlineRef("link", str(target), line, title))
            elif child.type == "text":
                line += child.content.count("\n")
    return tuple(refs)


@dataclass(frozen=True)
class _Reading:
    document: Document
    reference_text: str
    inline_refs: tuple[InlineRef, ...]


@lru_cache(maxsize=_CACHE_SIZE)
def _read(source: str) -> _Reading:
    """Everything the practices read from one text, from one parse (cached by text)."""
    tokens = _tokens(source)
    return _Reading(_document(source, tokens), _reference_text(tokens), _inline_refs(tokens))


def clear_cache() -> None:
    """Forget every cached parse (tests, or a caller that wants the memory back)."""
    _read.cache_clear()


def parse(source: str) -> Document:
    """Split a Markdown document into sections; never raises on any input.

    Cached by text: the same text returns the same (immutable) `Document`.
    """
    return _read(source).document


def reference_text(source: str, *, cache: bool = True) -> str:
    """The text a reader sees as references: prose plus link destinations.

    Code spans, code blocks and raw HTML (template comments such as
    ``<!-- Closes #123 -->``) are left out, because a reference there is not
    one the author made. Link destinations are kept, padded with spaces, so
    ``[Codex Task](https://...)`` yields its URL. Blocks are separated by
    newlines. Never raises on any input. ``cache=False`` parses without
    touching the cache, for many short texts read once (other PRs' bodies)
    that would otherwise push out the ones every practice reads.
    """
    if not cache:
        return _reference_text(_tokens(source))
    return _read(source).reference_text


def inline_refs(source: str) -> tuple[InlineRef, ...]:
    """Every code span and link target outside code blocks, with its line.

    The line follows soft and hard breaks inside a paragraph, so a finding on
    a span lands on the right line of a file. Never raises on any input.
    """
    return _read(source).inline_refs
