"""Config loading as users meet it: merging, error messages, schema and docs in sync."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.config import DEFAULT_CONFIG, ConfigError, PracticeLevel, json_schema, load_config
from bot.ops.cli import schema_text

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schema" / "codex-guard.schema.json"
DOCS = ROOT / "docs" / "configuration.md"
EXAMPLE = ROOT / "docs" / "example-codex-guard.yml"


def test_no_files_means_defaults() -> None:
    assert load_config(None) == DEFAULT_CONFIG
    assert load_config("") == DEFAULT_CONFIG


def test_repo_merges_over_org_key_by_key() -> None:
    org = """
detection:
  labels: [codex, ai]
practices:
  tests:
    required_checks: ["ci / *"]
    when_no_ci: warn
comment: never
"""
    repo = """
practices:
  tests:
    when_no_ci: fail
  done-when:
    level: warning
"""
    cfg = load_config(repo, org)
    assert cfg.practices.tests.required_checks == ["ci / *"]  # from the org
    assert cfg.practices.tests.when_no_ci == "fail"  # repo wins
    assert cfg.practices.done_when.level is PracticeLevel.WARNING
    assert cfg.detection.labels == ["codex", "ai"]
    assert cfg.comment == "never"


def test_repo_lists_replace_org_lists() -> None:
    cfg = load_config("detection:\n  labels: [bot]\n", "detection:\n  labels: [codex, ai]\n")
    assert cfg.detection.labels == ["bot"]


def test_org_only() -> None:
    cfg = load_config(None, "applies_to: all\n")
    assert cfg.applies_to == "all"


def test_unknown_key_is_named_with_its_path() -> None:
    with pytest.raises(ConfigError) as info:
        load_config("practices:\n  tests:\n    levle: error\n")
    message = str(info.value)
    assert "practices.tests.levle" in message
    assert message.startswith(".github/codex-guard.yml:")


def test_bad_value_names_the_key_and_the_allowed_values() -> None:
    with pytest.raises(ConfigError) as info:
        load_config("comment: sometimes\n")
    assert "`comment`" in str(info.value)
    assert "on_failure" in str(info.value)


def test_invalid_org_file_is_blamed_on_the_org() -> None:
    with pytest.raises(ConfigError) as info:
        load_config("comment: always\n", "applies_to: humans\n", org_source="acme/.github")
    assert info.value.source == "acme/.github"
    assert "applies_to" in info.value.detail


def test_bad_yaml_says_where() -> None:
    with pytest.raises(ConfigError) as info:
        load_config("practices:\n  tests: [unclosed\n")
    assert "not valid YAML" in str(info.value)
    assert "line" in str(info.value)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_top_level_must_be_a_mapping(text: str) -> None:
    with pytest.raises(ConfigError, match="mapping"):
        load_config(text)


def test_quoted_off_turns_a_practice_off() -> None:
    cfg = load_config('practices:\n  agents-md:\n    level: "off"\n')
    assert cfg.practices.level_of("agents-md") is PracticeLevel.OFF


def test_committed_schema_matches_the_models() -> None:
    """Regenerate with: codex-guard schema > schema/codex-guard.schema.json"""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text()
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == json_schema()


def test_example_config_loads_and_changes_something() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    cfg = load_config(text)
    assert cfg != DEFAULT_CONFIG
    assert cfg.practices.task_thread.trackers.jira_keys == ["PROJ", "OPS"]


def _key_paths(schema: dict, node: dict, prefix: str = "") -> Iterator[str]:
    ref = node.get("$ref")
    if ref:
        node = schema["$defs"][ref.rsplit("/", 1)[-1]]
    for key, sub in node.get("properties", {}).items():
        path = f"{prefix}{key}"
        target = sub
        if "$ref" in sub:
            target = schema["$defs"][sub["$ref"].rsplit("/", 1)[-1]]
        if "properties" in target:
            yield from _key_paths(schema, target, f"{path}.")
        else:
            yield path


def test_docs_describe_every_key() -> None:
    schema = json_schema()
    docs = DOCS.read_text(encoding="utf-8")
    paths = list(_key_paths(schema, schema))
    assert len(paths) >= 20
    missing = [p for p in paths if f"| `{p}` |" not in docs]
    assert missing == []


def test_docs_example_loads() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    block = docs.split("## Example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    assert load_config(block) != DEFAULT_CONFIG
