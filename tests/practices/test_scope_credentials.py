"""Credentials in added lines: found, masked to four characters, never waived."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.core.config.scope import ScopeConfig
from bot.core.findings import Level, Outcome
from bot.practices.scope.credentials import scan_line, scan_text
from bot.practices.scope.practice import (
    RULE_CREDENTIAL,
    UNSKIPPABLE_RULES,
    credentials_found,
    evaluate_scope,
)
from tests.practices.scope_payloads import evidence, file_entry, review_entry

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests/fixtures"
# Built at run time so no token-shaped literal sits in this file.
TOKEN = "ghp_" + "Zq7Lm2Xv9Rt4Kp8Wn3Bc6Hy1Jd5Fs0Ga2Ue7Qi"
MIDDLE = TOKEN[10:30]


def _all_text(result) -> str:
    parts = [result.reason, repr(result)]
    for f in result.findings:
        parts += [f.message, f.fix or "", f.path or "", json.dumps(f.as_json())]
    return "\n".join(parts)


def test_a_token_in_an_added_line_is_found_and_masked() -> None:
    patch = f'@@ -1,2 +1,3 @@\n import os\n+GITHUB_TOKEN = "{TOKEN}"\n DEBUG = False'
    ev = evidence([file_entry("src/settings.py", patch)])
    result = evaluate_scope(ev, ScopeConfig())
    assert result.outcome is Outcome.FAIL
    (finding,) = result.findings
    assert (finding.rule, finding.level) == (RULE_CREDENTIAL, Level.ERROR)
    assert (finding.path, finding.line) == ("src/settings.py", 2)
    assert "GitHub Token" in finding.message
    assert "`ghp_…`" in finding.message
    text = _all_text(result)
    assert len(MIDDLE) == 20 and MIDDLE not in text
    assert TOKEN[:5] not in text  # never more than the first four characters


def test_a_credential_is_not_waived_by_an_approval_and_flags_the_skip() -> None:
    patch = f'@@ -0,0 +1 @@\n+token: "{TOKEN}"'
    ev = evidence(
        [file_entry(".github/workflows/ci.yml", patch)],
        [review_entry("octocat", "APPROVED")],
        {"octocat": "admin"},
    )
    result = evaluate_scope(ev, ScopeConfig())
    assert result.outcome is Outcome.FAIL
    assert [f.rule for f in result.findings] == [RULE_CREDENTIAL]
    assert credentials_found(result)
    assert RULE_CREDENTIAL in UNSKIPPABLE_RULES
    clean = evaluate_scope(evidence([file_entry("src/app.py")]), ScopeConfig())
    assert not credentials_found(clean)


def test_only_added_lines_are_scanned() -> None:
    patch = f'@@ -1,2 +1,2 @@\n-OLD = "{TOKEN}"\n+OLD = None\n context "{TOKEN}"'
    assert evaluate_scope(evidence([file_entry("src/a.py", patch)]), ScopeConfig()).findings == ()


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (f"x = '{'ghs_' + TOKEN[4:]}'", "GitHub Token"),
        (f"x = '{'gho_' + TOKEN[4:]}'", "GitHub Token"),
        (f"x = '{'ghu_' + TOKEN[4:]}'", "GitHub Token"),
        (f"x = '{'ghr_' + TOKEN[4:]}'", "GitHub Token"),
        (
            "pat = github_pat_11AQ7ZKXY0" + "aB3dE5gH7jK9mN2pQ4sT6v_" + "W8yZ1bC3dF5hJ7kL9nP2r",
            "GitHub Token",
        ),
        ("OPENAI_API_KEY=sk-proj-" + "Tq8Zm3Lx7Vb2Nc9Kd4Hf6Jg1Pw5Rs0Ya", "OpenAI Token"),
        ("key = 'sk-" + "Tq8Zm3Lx7Vb2Nc9Kd4Hf6Jg1Pw5Rs0Ya'", "OpenAI Token"),
        ("aws = 'AKIA" + "Q7RDZ3KXW2MNB5TY'", "AWS Access Key"),
        ("-----BEGIN OPENSSH " + "PRIVATE KEY-----", "Private Key"),
        ("-----BEGIN ENCRYPTED " + "PRIVATE KEY-----", "Private Key"),
        ("DEPLOY_TOKEN=q8ZkP2vLx9MwR4tYb7Nc3HdF", "High-entropy value"),
        ("client_secret: Hx7Qm2Zp9Lk4Vt8Rw3Nb6Yc", "High-entropy value"),
        ('db_password = "Vq7!xR2p#Lm9"', "Secret Keyword"),
    ],
)
def test_credential_kinds_the_issue_lists(line: str, kind: str) -> None:
    found = scan_line("src/settings.py", 7, line)
    assert found, line
    assert found[0].kind.startswith(kind)
    assert all(len(c.masked) == 5 and c.masked.endswith("…") for c in found)


@pytest.mark.parametrize(
    "line",
    [
        "GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}",
        'db_password = os.environ["DB_PASSWORD"]',
        "uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11",
        'sha = "6dcb09b5b57875f334f61aebed695e2e4193db5e"',
        'aws = "AKIAIOSFODNN7EXAMPLE"',  # AWS's documented sample key
        'WEBHOOK_SECRET = "a-long-random-webhook-secret-0123456789"',
        "branch = task-management-feature-2024",
        "password: string",
        'password = "<your password here>"',
    ],
)
def test_ordinary_lines_are_not_credentials(line: str) -> None:
    assert scan_line("src/settings.py", 1, line) == []


def test_a_private_key_marker_counts_when_key_material_follows() -> None:
    body = "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu"
    key = scan_text("deploy/key.pem", f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n")
    assert [c.kind for c in key] == ["Private Key"]
    doc = scan_text("docs/install.md", "    -----BEGIN RSA PRIVATE KEY-----\n    ...\n")
    assert doc == []
    inline = scan_text("tests/t.py", 'pem = "-----BEGIN RSA PRIVATE KEY-----\\n..."\nok = 1\n')
    assert inline == []


def _fixture_texts() -> dict[str, str]:
    """The real AGENTS.md files, PR bodies and repository files in the fixtures."""
    texts: dict[str, str] = {}
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file() and path.suffix != ".json" and "agents/secrets" not in str(path):
            texts[str(path.relative_to(ROOT))] = path.read_text(errors="replace")
    samples = json.loads(
        (ROOT / "double/github_double/samples/codex_pull_request_files.json").read_text()
    )
    for side in ("base", "head"):
        for name, text in samples[side].items():
            texts[name] = text
    opened = json.loads(
        (ROOT / "double/github_double/samples/codex_pull_request_opened.json").read_text()
    )
    texts["opened.body"] = opened["pull_request"]["body"]
    events = json.loads((FIXTURES / "github/webhook-examples.json").read_text())
    bodies: list[str] = []

    def walk(obj: object, key: str = "") -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, k)
        elif isinstance(obj, list):
            for v in obj:
                walk(v, key)
        elif isinstance(obj, str) and key in ("body", "title", "message", "description"):
            bodies.append(obj)

    walk(events)
    texts["webhook-examples.txt"] = "\n".join(bodies)
    return texts


def test_no_false_positives_on_the_fixtures() -> None:
    texts = _fixture_texts()
    lines = sum(t.count("\n") + 1 for t in texts.values())
    assert len(texts) >= 50 and lines >= 2000  # the corpus is really there
    findings = {name: scan_text(name, text) for name, text in texts.items()}
    assert {name: [(c.line, c.kind) for c in f] for name, f in findings.items() if f} == {}


def test_the_deliberate_secrets_fixture_is_caught() -> None:
    text = (FIXTURES / "agents/secrets/AGENTS.md").read_text()
    kinds = {c.kind for c in scan_text("AGENTS.md", text)}
    assert {"JSON Web Token", "Private Key", "Secret Keyword"} <= kinds


def _best_of(line: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        scan_line("src/a.py", 1, line)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("unit", ["password", "'", "sk-", "a:b@", "x='pwd' == password "])
def test_scan_time_grows_linearly_on_hostile_lines(unit: str) -> None:
    small = _best_of(unit * (4000 // len(unit)))
    large = _best_of(unit * (32000 // len(unit)))
    assert large / small < 16  # 8x the input: linear is ~8, quadratic ~64
