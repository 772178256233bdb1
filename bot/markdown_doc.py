"""Markdown read the way GitHub renders it, for the practices.

PR bodies and AGENTS.md files are Markdown; reading them with regexes gets
fences, code spans and nested lists wrong. This wraps markdown-it-py (the
CommonMark parser) into the few shapes the practices need: sections under
headings, list items, inline code, and prose lines outside code blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")


@dataclass(frozen=True)
class ListItem:
    """One list item: its inline text, code spans, task-box state, first line."""

    text: str
    code: tuple[str, ...]
    line: int
    checked: bool | None = None


@dataclass
class Section:
    """A heading and everything up to the next heading of any level.

    ``title`` is empty for the text before the first heading. Lines are
    1-based and refer to the source text.
    """

    title: str
    level: int
    line: int
    end_line: int
    paragraphs: list[tuple[int, str]] = field(default_factory=list)
    items: list[ListItem] = field(default_factory=list)
    code_blocks: list[tuple[int, str]] = field(default_factory=list)
    inline_code: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Prose of the section (paragraphs and list items), code blocks left out."""
        parts = [p for _, p in self.paragraphs] + [i.text for i in self.items]
        return "\n".join(parts)


@dataclass(frozen=True)
class Document:
    source: str
    sections: tuple[Section, ...]

    def find(self, *titles: str) -> list[Section]:
        """Sections whose heading matches one of ``titles``, case and colon insensitive."""
        wanted = {normalise_title(t) for t in titles}
        return [s for s in self.sections if s.title and normalise_title(s.title) in wanted]


def normalise_title(title: str) -> str:
    return " ".join(title.strip().strip(":").replace("*", "").split()).casefold()


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


def parse(source: str) -> Document:
    """Split a Markdown document into sections; never raises on any input."""
    tokens = _PARSER.parse(source)
    sections: list[Section] = [Section(title="", level=0, line=1, end_line=1)]
    item_depth = 0
    pending_item_line: int | None = None
    heading_level = 0
    in_heading = False
    for token in tokens:
        line = (token.map[0] + 1) if token.map else sections[-1].line
        if token.type == "heading_open":
            in_heading = True
            heading_level = int(token.tag[1:])
            sections[-1].end_line = max(sections[-1].line, line - 1)
            sections.append(Section(title="", level=heading_level, line=line, end_line=line))
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
    if not sections[0].paragraphs and not sections[0].items and not sections[0].code_blocks:
        sections.pop(0)
    return Document(source=source, sections=tuple(sections))


def reference_text(source: str) -> str:
    """The text a reader sees as references: prose plus link destinations.

    Code spans, code blocks and raw HTML (template comments such as
    ``<!-- Closes #123 -->``) are left out, because a reference there is not
    one the author made. Link destinations are kept, padded with spaces, so
    ``[Codex Task](https://...)`` yields its URL. Blocks are separated by
    newlines. Never raises on any input.
    """
    parts: list[str] = []
    for token in _PARSER.parse(source):
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


def inline_refs(source: str) -> list[InlineRef]:
    """Every code span and link target outside code blocks, with its line.

    The line follows soft and hard breaks inside a paragraph, so a finding on
    a span lands on the right line of a file. Never raises on any input.
    """
    refs: list[InlineRef] = []
    title = ""
    in_heading = False
    for token in _PARSER.parse(source):
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
    return refs
