"""The helpers several modules now share instead of keeping their own copies."""

from __future__ import annotations

from bot.jobs import audit
from bot.ops import devserver
from bot.practices.evaluation import Override
from bot.practices.task_thread import MAX_SCAN_CHARS, body_cut_note
from bot.web.env_file import read_env_file


def test_body_cut_note_only_for_bodies_longer_than_github_allows() -> None:
    assert body_cut_note(None) == ""
    assert body_cut_note("x" * MAX_SCAN_CHARS) == ""
    assert f"{MAX_SCAN_CHARS:,}" in body_cut_note("x" * (MAX_SCAN_CHARS + 1))


def test_devserver_reads_env_with_the_setup_flow_reader() -> None:
    assert devserver.read_env_file is read_env_file


def test_audit_records_the_evaluations_own_override() -> None:
    assert audit.AuditOverride is Override
