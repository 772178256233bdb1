"""Reading a zipped workflow artifact (`bot/core/usage/artifact.py`): every `.jsonl`
member at any depth, in memory, and hostile archives refused with a note, never an
exception: not a zip, escaping paths, bombs, too many members."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

from bot.core.usage import artifact
from bot.core.usage.artifact import read_usage_zip, unsafe_path
from bot.core.usage.rollout import merge_threads

USAGE = Path(__file__).resolve().parent.parent / "fixtures" / "usage"
WORKED_NAME = "rollout-2026-01-20T10-04-31-0199a213-81c0-7800-8aa1-bbab2a035a53.jsonl"
WORKED = (USAGE / WORKED_NAME).read_bytes()
NO_USAGE_NAME = "rollout-2026-01-21T08-15-00-0199c3d4-0a1b-7c2d-8e3f-405162738495.jsonl"
EXEC = (USAGE / "exec-two-threads.jsonl").read_bytes()


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in members.items():
            archive.writestr(zipfile.ZipInfo(name), content, compress_type=method)
    return buffer.getvalue()


def _patch_central(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    """Rewrite one field of the (first) central directory entry: a header that lies."""
    at = data.index(b"PK\x01\x02") + offset
    return data[:at] + struct.pack(fmt, value) + data[at + struct.calcsize(fmt) :]


def test_every_jsonl_member_at_any_depth_is_read():
    data = _zip(
        {
            f"sessions/2026/01/20/{WORKED_NAME}": WORKED,
            f"sessions/2026/01/21/{NO_USAGE_NAME}": (USAGE / NO_USAGE_NAME).read_bytes(),
            "exec/run.JSONL": EXEC,
            "sessions/": b"",
            "notes.txt": b"{not json and not read}",
        }
    )
    read = read_usage_zip(data)
    assert not read.refused
    assert read.notes == ()
    assert read.files_read == (
        f"sessions/2026/01/20/{WORKED_NAME}",
        f"sessions/2026/01/21/{NO_USAGE_NAME}",
        "exec/run.JSONL",
    )
    assert [(u.thread_id, u.model, u.input_tokens) for u in read.usages] == [
        ("0199a213-81c0-7800-8aa1-bbab2a035a53", "gpt-5-codex", 935_040),
        ("0199b0c1-5a2e-7d30-9f11-3c4e5d6f7a81", None, 51_200),
        ("0199b0c7-1e44-7a02-b6d8-90aa1bc2d3e4", None, 16_500),
    ]
    assert read.without_usage == ("0199c3d4-0a1b-7c2d-8e3f-405162738495",)


def test_the_same_thread_in_two_deliveries_merges_to_one():
    early = b"\n".join(WORKED.splitlines()[:6])  # cut after the first totals
    read = read_usage_zip(_zip({f"a/{WORKED_NAME}": early, f"b/{WORKED_NAME}": WORKED}))
    assert [u.input_tokens for u in read.usages] == [18_230, 935_040]
    assert [u.input_tokens for u in merge_threads(read.usages)] == [935_040]


def test_member_notes_are_passed_on_and_bad_bytes_cost_a_character_not_the_file():
    garbled = WORKED.replace(b"Fix the retry loop", b"Fix the \xff\xfe loop") + b"\n{trunc"
    assert b"\xff" in garbled
    read = read_usage_zip(_zip({WORKED_NAME: garbled}))
    assert [u.input_tokens for u in read.usages] == [935_040]
    # Ten lines and the fixture's final newline: the cut-off tail is line 12.
    assert read.notes == (f"{WORKED_NAME}: line 12 is not valid JSON",)


def test_an_archive_without_jsonl_says_so():
    read = read_usage_zip(_zip({"readme.txt": b"hi"}))
    assert (read.usages, read.refused) == ((), False)
    assert read.notes == ("the artifact holds no .jsonl file",)


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04" + b"\0" * 40, None])
def test_what_is_not_a_zip_is_refused_with_a_note(data):
    if data is None:  # a real zip cut in half: the central directory is gone
        whole = _zip({WORKED_NAME: WORKED})
        data = whole[: len(whole) // 2]
    read = read_usage_zip(data)
    assert read.refused
    assert read.usages == ()
    assert read.notes == ("the artifact is not a readable zip file",)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../escape.jsonl", "climbs out with .."),
        ("sessions/../../escape.jsonl", "climbs out with .."),
        ("/etc/cron.d/escape.jsonl", "is absolute"),
        ("C:/Users/escape.jsonl", "starts with a drive letter"),
        ("c:escape.jsonl", "starts with a drive letter"),
        ("sessions\\..\\escape.jsonl", "contains a backslash"),
    ],
)
def test_a_member_path_that_escapes_refuses_the_archive(name, why):
    assert unsafe_path(name) == why
    read = read_usage_zip(_zip({WORKED_NAME: WORKED, name: EXEC}))
    assert read.refused
    assert read.usages == ()
    assert len(read.notes) == 1
    assert why in read.notes[0]
    assert read.notes[0].startswith("the artifact was refused: member ")


@pytest.mark.parametrize("name", ["a..b/rollout.jsonl", "sessions/2026/x.jsonl", "..hidden.jsonl"])
def test_dots_inside_a_name_are_not_an_escape(name):
    assert unsafe_path(name) is None


def test_too_many_members_refuses_the_archive():
    members = {f"m{i}.jsonl": EXEC for i in range(4)}
    assert not read_usage_zip(_zip(members), max_files=4).refused
    read = read_usage_zip(_zip(members), max_files=3)
    assert read.refused
    assert read.usages == ()
    assert read.notes == ("the artifact was refused: it has 4 members, more than the 3 allowed",)


def test_a_zip_bomb_is_refused_by_its_declared_size():
    bomb = _zip({"bomb.jsonl": b"\n" * (21 * 1024 * 1024), WORKED_NAME: WORKED})
    assert len(bomb) < 100_000
    read = read_usage_zip(bomb)
    assert read.refused
    assert read.usages == ()
    assert "declare" in read.notes[0]
    assert "more than the 20971520 allowed" in read.notes[0]


def test_declared_sizes_are_summed_over_members():
    members = {f"m{i}.jsonl": b"\n" * 400 for i in range(3)}
    assert not read_usage_zip(_zip(members), max_unpacked=1200).refused
    assert read_usage_zip(_zip(members), max_unpacked=1199).refused


def test_a_header_that_understates_the_size_does_not_get_more_read():
    # The central directory says 100 bytes; the member inflates to 5 MB.
    lying = _patch_central(_zip({"big.jsonl": b"\n" * (5 * 1024 * 1024)}), 24, "<I", 100)
    read = read_usage_zip(lying, max_unpacked=1000)
    assert read.usages == ()
    assert read.notes[0] == "big.jsonl: skipped, cannot be read (BadZipFile)"


def test_the_actual_bytes_are_counted_even_if_every_header_were_believed(monkeypatch):
    monkeypatch.setattr(artifact, "_check_members", lambda *args: None)
    data = _zip({"a.jsonl": EXEC, "b.jsonl": b"\n" * 5000, WORKED_NAME: WORKED})
    read = read_usage_zip(data, max_unpacked=len(EXEC) + 4999)
    assert read.refused
    assert read.usages == ()
    assert read.notes == (
        "the artifact was refused: its members unpack to more than the size allowed",
    )
    assert not read_usage_zip(data, max_unpacked=len(EXEC) + 5000 + len(WORKED)).refused


def test_a_corrupt_member_is_skipped_and_the_others_read():
    data = _zip({"first.jsonl": EXEC, WORKED_NAME: WORKED})
    bad_crc = _patch_central(data, 16, "<I", 0xDEADBEEF)
    read = read_usage_zip(bad_crc)
    assert not read.refused
    assert read.notes == ("first.jsonl: skipped, cannot be read (BadZipFile)",)
    assert [u.input_tokens for u in read.usages] == [935_040]
    encrypted = _patch_central(data, 8, "<H", 0x1)
    read = read_usage_zip(encrypted)
    assert read.notes == ("first.jsonl: skipped, cannot be read (RuntimeError)",)
    assert [u.input_tokens for u in read.usages] == [935_040]


def test_stored_members_read_too():
    read = read_usage_zip(_zip({WORKED_NAME: WORKED}, method=zipfile.ZIP_STORED))
    assert [u.input_tokens for u in read.usages] == [935_040]
