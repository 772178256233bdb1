"""The `agents-md` practice: the AGENTS chain Codex loads, judged as Codex loads it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.config import GuardConfig, load_config
from bot.core.findings import Level, Outcome, PracticeResult
from bot.core.snapshot import PRSnapshot
from bot.practices.agents_md import (
    chain_paths,
    chains,
    evaluate,
    find_secrets,
    referenced_build_files,
)

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "agents"
DEFAULT = load_config(None)


def tree_of(case: str) -> dict[str, str]:
    root = CASES / case
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def snap(
    case: str | dict[str, str],
    changed: tuple[str, ...] = (),
    *,
    base: dict[str, str] | None = None,
    cfg: GuardConfig = DEFAULT,
    tree_known: bool = True,
) -> PRSnapshot:
    """A snapshot the way the gateway builds one: only chain and build files fetched."""
    files = tree_of(case) if isinstance(case, str) else case
    chain = chain_paths(files, changed, cfg)
    for path in files:  # lint every AGENTS file, like the CLI, when nothing is changed
        if not changed and path.rsplit("/", 1)[-1] in ("AGENTS.md", "AGENTS.override.md"):
            chain = sorted(set(chain) | set(chain_paths(files, [path], cfg)))
    head = {p: files[p] for p in chain}
    head.update({p: files[p] for p in referenced_build_files(dict(head), files)})
    return PRSnapshot(
        repo="acme/shop",
        number=3,
        title="",
        body="",
        author="",
        head_sha="b" * 40,
        head_ref="codex/x",
        base_ref="main",
        changed_files=changed,
        checks=None,
        head_tree=frozenset(files) if tree_known else None,
        head_files=head,
        base_files={} if base is None else base,
    )


def by_rule(result: PracticeResult, rule: str):
    return [f for f in result.findings if f.rule == f"agents-md/{rule}"]


def all_text(result: PracticeResult) -> str:
    parts = [result.reason]
    for f in result.findings:
        parts += [f.message, f.fix or "", f.path or ""]
    return "\n".join(parts)


# --- the chain -------------------------------------------------------------------


def test_chain_paths_follow_codex_loading_rules() -> None:
    tree = tree_of("monorepo")
    api = chain_paths(tree, ["services/api/src/server.ts"], DEFAULT)
    assert api == ["AGENTS.md", "services/api/AGENTS.override.md"]  # override shadows AGENTS.md
    both = chain_paths(tree, ["services/api/src/server.ts", "services/web/src/app.tsx"], DEFAULT)
    assert both == [
        "AGENTS.md",
        "services/api/AGENTS.override.md",
        "services/web/AGENTS.md",
    ]
    assert chain_paths(tree, ["README.md"], DEFAULT) == ["AGENTS.md"]


def test_chains_per_leaf_directory() -> None:
    tree = tree_of("over_budget")
    got = chains(tree, ["packages/core/src/legacy/adapter.ts"], DEFAULT)
    assert got == {
        "": ["AGENTS.md"],
        "packages/core/src/legacy": [
            "AGENTS.md",
            "packages/core/AGENTS.md",
            "packages/core/src/legacy/AGENTS.md",
        ],
    }


def test_fallback_filenames() -> None:
    tree = ["CLAUDE.md", "lib/CLAUDE.md", "lib/AGENTS.md", "lib/x.py", "doc/README.md"]
    cfg = load_config("practices: {agents-md: {fallback_filenames: [CLAUDE.md, README.md]}}")
    assert chain_paths(tree, ["lib/x.py", "doc/y.md"], cfg) == [
        "CLAUDE.md",
        "doc/README.md",
        "lib/AGENTS.md",
    ]
    assert chain_paths(tree, ["lib/x.py"], DEFAULT) == ["lib/AGENTS.md"]


def test_referenced_build_files() -> None:
    tree = tree_of("monorepo")
    texts = {p: tree[p] for p in ("AGENTS.md", "services/api/AGENTS.override.md")}
    assert referenced_build_files(texts, tree) == {
        "package.json",
        "Makefile",
        "services/api/package.json",
    }
    # bare texts: the build files next to every AGENTS file, for the tools they use
    assert referenced_build_files(["Run `make check`."], tree) == {"Makefile"}
    assert referenced_build_files(["nothing to run"], tree) == set()


# --- outcomes on the fixture repos ---------------------------------------------------


def test_tiny_passes() -> None:
    result = evaluate(snap("tiny"), DEFAULT)
    assert result.outcome is Outcome.PASS, result.findings
    assert result.reason == "1 file in the chain, 0.2 KiB of 32 KiB"


def test_monorepo_passes_and_shadowed_file_is_not_read() -> None:
    # services/api/AGENTS.md names `src/routes/`, which does not exist; the
    # override shadows it, so Codex never reads it and neither do we.
    result = evaluate(snap("monorepo", ("services/api/src/server.ts",)), DEFAULT)
    assert result.outcome is Outcome.PASS, result.findings
    assert result.reason.startswith("2 files in the chain")


def test_over_budget_names_cut_file_and_dropped_ones() -> None:
    result = evaluate(snap("over_budget", ("packages/core/src/legacy/adapter.ts",)), DEFAULT)
    (finding,) = by_rule(result, "over-budget")
    assert finding.level is Level.ERROR and result.outcome is Outcome.FAIL
    assert finding.path == "packages/core/AGENTS.md"
    root_size = len(tree_of("over_budget")["AGENTS.md"].encode())
    assert f"at byte {32768 - root_size}" in finding.message
    assert "`packages/core/src/legacy/AGENTS.md`" in finding.message
    assert finding.line and finding.line > 1
    assert "of 32 KiB" in result.reason


def test_over_budget_with_smaller_budget_drops_whole_files() -> None:
    files = {"AGENTS.md": "x" * 100 + "\n`pytest`\n", "a/AGENTS.md": "y\n", "a/f.py": ""}
    cfg = load_config("practices: {agents-md: {project_doc_max_bytes: 110}}")
    (finding,) = by_rule(evaluate(snap(files, ("a/f.py",), cfg=cfg), cfg), "over-budget")
    assert finding.path == "a/AGENTS.md" and "never reads `a/AGENTS.md`" in finding.message


def test_over_budget_already_at_base_is_a_warning() -> None:
    files = tree_of("over_budget")
    base = {p: t for p, t in files.items() if p.endswith("AGENTS.md")}
    result = evaluate(snap("over_budget", ("packages/core/src/legacy/adapter.ts",),
                           base=base), DEFAULT)  # fmt: skip
    (finding,) = by_rule(result, "over-budget")
    assert finding.level is Level.WARNING
    assert "already so before this PR" in finding.message


def test_too_long() -> None:
    result = evaluate(snap("over_budget"), DEFAULT)
    (finding,) = by_rule(result, "too-long")
    assert finding.path == "AGENTS.md" and finding.level is Level.WARNING
    cfg = load_config("practices: {agents-md: {max_file_bytes: 100, max_lines: 5000}}")
    tiny = evaluate(snap("tiny", cfg=cfg), cfg)
    assert [f.path for f in by_rule(tiny, "too-long")] == ["AGENTS.md"]


# --- secrets ---------------------------------------------------------------------------

FIXTURE_SECRETS = [
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE",
    "sk-proj-FAKE0000example0000FAKE0000example",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
    "hunter2hunter2",
    "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6",
]


def assert_masked(result: PracticeResult, values: list[str]) -> None:
    text = all_text(result)
    for value in values:
        assert value not in text
        assert value[:8] not in text, value


def test_secrets_are_errors_and_masked_everywhere() -> None:
    result = evaluate(snap("secrets"), DEFAULT)
    secrets = by_rule(result, "secret")
    assert [f.line for f in secrets] == [9, 11, 13, 15, 18, 23]
    assert all(f.level is Level.ERROR and f.path == "AGENTS.md" for f in secrets)
    assert "AWS access key ID" in secrets[0].message and "`AKIA…`" in secrets[0].message
    assert "private key" in secrets[-1].message
    assert_masked(result, FIXTURE_SECRETS)
    assert result.outcome is Outcome.FAIL


def test_secrets_stay_errors_when_not_introduced() -> None:
    files = tree_of("secrets")
    result = evaluate(snap("secrets", base={"AGENTS.md": files["AGENTS.md"]}), DEFAULT)
    assert {f.level for f in by_rule(result, "secret")} == {Level.ERROR}
    assert result.outcome is Outcome.FAIL


def test_more_secret_shapes_built_at_runtime() -> None:
    # Assembled here so no scanner mistakes the fixture tree for a leak.
    values = {
        "Slack": "xox" + "b-" + "1234567890-FAKEFAKEFAKE",
        "Stripe": "sk_" + "live_" + "FAKE" * 6,
        "Google": "AI" + "za" + ("SyFAKE_fake-" * 3)[:35],
        "OpenAI": "sk-" + "FAKE1234" * 4,
        "GitHub": "github_" + "pat_" + "11FAKE" * 8,
    }
    text = "# Notes\n\n" + "\n".join(f"- {k}: `{v}`" for k, v in values.items())
    text += "\n- `pytest`\n- export API_KEY='s3cr3tv4lue99'\n"
    result = evaluate(snap({"AGENTS.md": text}), DEFAULT)
    assert len(by_rule(result, "secret")) == 6
    assert_masked(result, [*values.values(), "s3cr3tv4lue99"])


@pytest.mark.parametrize(
    "line",
    [
        'password = "<your password>"',
        "api_key: ${OPENAI_API_KEY}",
        "token: see the team vault",
        "Set `OPENAI_API_KEY` in your shell.",
        "password: changeme",
        "secret = os.environ['SECRET']",
        "Use the task-runner, not sk-learn.",
    ],
)
def test_placeholders_are_not_secrets(line: str) -> None:
    assert find_secrets(line) == []


def test_secret_in_a_path_reference_is_not_echoed() -> None:
    token = "ghp_" + "FAKE" * 9
    text = f"# X\n\nSee [notes](docs/{token}.md) and run `pytest`.\n"
    result = evaluate(snap({"AGENTS.md": text, "README.md": ""}), DEFAULT)
    assert by_rule(result, "missing-path") == []
    assert_masked(result, [token])


# --- paths and targets ------------------------------------------------------------------


def test_stale_paths_and_missing_targets() -> None:
    result = evaluate(snap("stale"), DEFAULT)
    stale = by_rule(result, "missing-path")
    paths = [f.message.split("refers to ")[1].split(",")[0] for f in stale]
    assert paths == [
        "`src/app/legacy_import.py`",
        "`src/jobs/`",
        "`docs/adr/README.md`",
        "`./scripts/reset-db.sh`",
    ]
    targets = by_rule(result, "missing-target")
    assert [(f.line, "`lint`" in f.message or "`typecheck`" in f.message) for f in targets] == [
        (15, True),
        (16, True),
    ]
    assert "Makefile" in targets[0].message and "package.json" in targets[1].message
    assert all(f.level is Level.ERROR and f.path == "AGENTS.md" for f in targets)


def test_preexisting_stale_paths_are_warnings() -> None:
    files = tree_of("stale")
    result = evaluate(snap("stale", base={"AGENTS.md": files["AGENTS.md"]}), DEFAULT)
    assert result.outcome is Outcome.WARN
    assert {f.level for f in result.findings} == {Level.WARNING}


def test_deleting_a_referenced_file_is_introduced() -> None:
    files = tree_of("stale")
    del files["src/app/main.py"]
    snapshot = snap(files, ("src/app/main.py",), base={"AGENTS.md": files["AGENTS.md"]})
    result = evaluate(snapshot, DEFAULT)
    (main,) = [f for f in by_rule(result, "missing-path") if "main.py" in f.message]
    assert main.level is Level.ERROR


def test_paths_skipped_when_tree_unknown_and_targets_when_not_fetched() -> None:
    snapshot = snap("stale", tree_known=False)
    snapshot = replace(snapshot, head_files={"AGENTS.md": snapshot.head_files["AGENTS.md"]})
    result = evaluate(snapshot, DEFAULT)
    assert by_rule(result, "missing-path") == [] and by_rule(result, "missing-target") == []


def test_absolute_paths_warn() -> None:
    result = evaluate(snap("absolute"), DEFAULT)
    found = by_rule(result, "absolute-path")
    assert [f.line for f in found] == [3, 4, 5]
    assert all(f.level is Level.WARNING for f in found)
    assert "/home/user" not in all_text(result)


def test_missing_root_and_no_test_command() -> None:
    files = {"src/a.py": "", "src/AGENTS.md": "# Src\n\nKeep functions short.\n"}
    result = evaluate(snap(files, ("src/a.py",)), DEFAULT)
    assert [f.rule for f in result.findings] == [
        "agents-md/missing-root",
        "agents-md/no-test-command",
    ]
    assert result.findings[0].level is Level.ERROR  # require_root: even if it never existed
    assert result.findings[1].level is Level.WARNING
    off = load_config("practices: {agents-md: {require_root: false}}")
    assert by_rule(evaluate(snap(files, ("src/a.py",), cfg=off), off), "missing-root") == []


def test_deleting_root_agents_is_an_error() -> None:
    files = {"src/a.py": ""}
    result = evaluate(snap(files, ("AGENTS.md",)), DEFAULT)
    assert by_rule(result, "missing-root")[0].level is Level.ERROR


def test_no_test_command_only_counts_what_codex_reads() -> None:
    files = {"AGENTS.md": "a" * 40 + "\nRun `pytest`.\n"}
    cfg = load_config("practices: {agents-md: {project_doc_max_bytes: 20}}")
    result = evaluate(snap(files, cfg=cfg), cfg)
    assert by_rule(result, "no-test-command")


# --- robustness ------------------------------------------------------------------------------

fuzz = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
markdownish = st.text(
    alphabet=st.sampled_from(list("`[]()*_-#>!|:=;.\n \t/\\<>@~$AKIghpsk0129xoEYJ")),
    max_size=500,
)


@fuzz
@given(markdownish, markdownish, st.lists(st.sampled_from(["a/b.py", "x.md", "a/c/d"])))
def test_evaluate_never_raises(head: str, base: str, changed: list[str]) -> None:
    files = {"AGENTS.md": head, "a/AGENTS.md": base, "a/b.py": "", "package.json": head,
             "Makefile": base}  # fmt: skip
    snapshot = snap(files, tuple(changed), base={"AGENTS.md": base})
    result = evaluate(snapshot, DEFAULT)
    # The loop below may run zero times; these hold for every input.
    assert result.practice == "agents-md"
    assert isinstance(result.outcome, Outcome)
    assert all(f.line is None or f.line >= 1 for f in result.findings)
    if find_secrets(head):
        # A secret in the head's root AGENTS.md is always an error that fails the practice.
        assert result.outcome is Outcome.FAIL
    for secret in find_secrets(head) + find_secrets(base):
        if len(secret.value) >= 8:
            assert secret.value not in all_text(result)


ADVERSARIAL = [
    "`" * 100_000,
    "[" * 200_000,
    "a" * 1_000_000,
    "> " * 5_000 + "- " * 5_000 + "`x`",
    "eyJ" * 300_000,
    "eyJaaaaaaaaa." * 80_000,
    "password=" * 100_000,
    "/Users/" * 100_000,
    "[x](" * 100_000,
    "`src/a.py` " * 80_000,
    "make " * 200_000,
    "-----BEGIN " * 80_000,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_adversarial_files_complete(text: str) -> None:
    files = {"AGENTS.md": text, "Makefile": text, "package.json": text, "src/a.py": ""}
    result = evaluate(snap(files, ("src/a.py",)), DEFAULT)
    assert result.practice == "agents-md"
