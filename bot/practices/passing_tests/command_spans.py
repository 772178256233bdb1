"""Which code spans in Markdown name a command: shared by the Testing notes and
AGENTS.md, so both sides of the comparison read commands the same way."""

from __future__ import annotations

from collections.abc import Iterator


def _split_code(text: str) -> tuple[str, list[str]]:
    """Text with code spans removed, and the spans, from ``markdown_doc``'s `x` form."""
    plain: list[str] = []
    spans: list[str] = []
    inside = False
    start = 0
    for i, ch in enumerate(text):
        if ch != "`":
            continue
        if inside:
            spans.append(text[start:i])
            plain.append(" ")
        else:
            plain.append(text[start:i])
        inside = not inside
        start = i + 1
    plain.append(text[start:] if not inside else "`" + text[start:])
    return "".join(plain), spans


KNOWN_TOOLS = frozenset(
    """pytest py.test python python3 py npm pnpm yarn npx bun bunx deno node make just
    cargo go ruff black isort flake8 pylint mypy pyright tox nox uv uvx poetry pipenv
    hatch pre-commit eslint prettier tsc jest vitest mocha playwright cypress gradle
    gradlew mvn mvnw bazel bazelisk buck2 dotnet swift xcodebuild mix rspec rake bundle
    phpunit composer ctest cmake meson ninja shellcheck golangci-lint gofmt rustfmt
    terraform turbo nx lerna sbt stack cabal dune zig bats coverage django-admin
    manage.py biome stylelint markdownlint vale codespell semgrep bandit""".split()
)


def _first_word(command: str) -> str:
    words = command.split(maxsplit=1)
    if not words:
        return ""
    word = words[0].casefold()
    if word.startswith("./"):
        word = word[2:]
    return word.rsplit("/", 1)[-1] if word.startswith(("bin/", "scripts/")) else word


def _looks_like_command(span: str) -> bool:
    """A code span that names a command, not a file, symbol or value."""
    span = span.strip()
    if not span or len(span) > 300 or "\n" in span:
        return False
    first = _first_word(span.removeprefix("$ "))
    if first in KNOWN_TOOLS:
        return True
    return " " in span and "/" not in first.rstrip("/") and not first.endswith((":", ","))


def _code_block_commands(block: str) -> Iterator[tuple[int, str]]:
    for offset, raw in enumerate(block.splitlines()):
        text = raw.strip().removeprefix("$ ").strip()
        if text and not text.startswith("#"):
            yield offset, text
