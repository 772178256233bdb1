"""Reading Codex's token counts (`bot/core/usage/rollout.py`): both JSON Lines formats,
cumulative figures taken last not summed, and hostile lines noted, never fatal."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.core.usage.rollout import (
    MAX_NOTES,
    ThreadUsage,
    merge_threads,
    parse_jsonl,
    thread_id_from_name,
)

USAGE = Path(__file__).resolve().parent.parent / "fixtures" / "usage"
WORKED = USAGE / "rollout-2026-01-20T10-04-31-0199a213-81c0-7800-8aa1-bbab2a035a53.jsonl"
NO_USAGE = USAGE / "rollout-2026-01-21T08-15-00-0199c3d4-0a1b-7c2d-8e3f-405162738495.jsonl"


def _parse(path: Path):
    return parse_jsonl(path.name, path.read_text())


def _turn(input_tokens: int, cached: int, output: int, **more: object) -> str:
    usage = {"input_tokens": input_tokens, "cached_input_tokens": cached, "output_tokens": output}
    return json.dumps({"type": "turn.completed", "usage": {**usage, **more}})


def _usage(thread: str, input_tokens: int, output: int, model: str | None = None) -> ThreadUsage:
    return ThreadUsage(thread, model, input_tokens, 0, 0, output, 0)


# -- format B: rollout files ------------------------------------------------------------------


def test_a_rollout_gives_its_last_totals_model_and_the_uuid_from_its_name():
    parsed = _parse(WORKED)
    assert parsed.notes == ()
    assert parsed.usages == (
        ThreadUsage(
            thread_id="0199a213-81c0-7800-8aa1-bbab2a035a53",
            model="gpt-5-codex",
            input_tokens=935_040,
            cached_input_tokens=875_306,
            cache_write_input_tokens=0,
            output_tokens=11_150,
            reasoning_output_tokens=6_784,
        ),
    )


def test_a_rollout_without_totals_is_no_usage_recorded_not_an_error():
    parsed = _parse(NO_USAGE)
    assert parsed.usages == ()
    assert parsed.without_usage == ("0199c3d4-0a1b-7c2d-8e3f-405162738495",)
    assert parsed.notes == ()


def test_the_last_model_wins_and_session_meta_names_an_unnamed_file():
    lines = [
        {"type": "session_meta", "payload": {"id": "thread-from-meta"}},
        {"type": "turn_context", "payload": {"model": "gpt-5-codex"}},
        {"type": "turn_context", "payload": {"model": "gpt-5.3-codex"}},
        {
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "info": {"total_token_usage": {"input_tokens": 10, "output_tokens": 2}},
            },
        },
    ]
    parsed = parse_jsonl("session.jsonl", "\n".join(json.dumps(x) for x in lines))
    assert [(u.thread_id, u.model, u.input_tokens) for u in parsed.usages] == [
        ("thread-from-meta", "gpt-5.3-codex", 10)
    ]


def test_a_rollout_with_neither_name_nor_meta_uses_the_fallback_id():
    line = json.dumps({"type": "turn_context", "payload": {"model": "gpt-5-codex"}})
    assert parse_jsonl("x.jsonl", line, fallback_id="fb").without_usage == ("fb",)
    # The default fallback is stable for the same file and differs for another.
    first = parse_jsonl("x.jsonl", line).without_usage
    assert first == parse_jsonl("x.jsonl", line).without_usage
    assert first[0].startswith("sha256:")
    assert first != parse_jsonl("y.jsonl", line).without_usage


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "rollout-2026-01-20T10-04-31-0199A213-81C0-7800-8AA1-BBAB2A035A53.jsonl",
            "0199a213-81c0-7800-8aa1-bbab2a035a53",
        ),
        (
            "sessions/2026/01/20/rollout-t-0199a213-81c0-7800-8aa1-bbab2a035a53.jsonl",
            "0199a213-81c0-7800-8aa1-bbab2a035a53",
        ),
        ("rollout-2026-01-20T10-04-31-not-a-uuid.jsonl", None),
        ("session-0199a213-81c0-7800-8aa1-bbab2a035a53.jsonl", None),
        ("rollout-0199a213-81c0-7800-8aa1-bbab2a035a53.jsonl", None),  # no dash before it
        ("rollout-t-0199a213-81c0-7800-8aa1-bbab2a035a53.json", None),
    ],
)
def test_thread_id_from_name(name, expected):
    assert thread_id_from_name(name) == expected


# -- format A: codex exec --json --------------------------------------------------------------


def test_an_exec_stream_gives_each_threads_last_turn_not_the_sum():
    parsed = _parse(USAGE / "exec-two-threads.jsonl")
    assert parsed.notes == ()
    assert parsed.usages == (
        ThreadUsage("0199b0c1-5a2e-7d30-9f11-3c4e5d6f7a81", None, 51_200, 47_616, 0, 900, 0),
        ThreadUsage("0199b0c7-1e44-7a02-b6d8-90aa1bc2d3e4", None, 16_500, 7_936, 4_096, 1_200, 640),
    )


def test_a_turn_before_any_thread_started_belongs_to_the_fallback_thread():
    parsed = parse_jsonl("exec.jsonl", _turn(5, 1, 2), fallback_id="sha256:abc")
    assert [(u.thread_id, u.input_tokens) for u in parsed.usages] == [("sha256:abc", 5)]


def test_a_thread_started_without_turns_has_no_usage():
    line = json.dumps({"type": "thread.started", "thread_id": "t1"})
    parsed = parse_jsonl("exec.jsonl", line)
    assert (parsed.usages, parsed.without_usage, parsed.notes) == ((), ("t1",), ())


def test_a_truncated_stream_keeps_the_lines_before_the_cut():
    parsed = _parse(USAGE / "exec-truncated.jsonl")
    assert [(u.thread_id, u.input_tokens) for u in parsed.usages] == [
        ("0199d111-2222-7333-8444-555566667777", 12_000)
    ]
    assert parsed.notes == ("exec-truncated.jsonl: line 3 is not valid JSON",)


# -- hostile input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (_turn(-5, 0, 1), "input_tokens is negative"),
        (_turn(10, 0, "12"), "output_tokens is not an integer"),
        (_turn(10, 0, 1.0), "output_tokens is not an integer"),
        (_turn(10, True, 1), "cached_input_tokens is not an integer"),
        (_turn(10**10 + 1, 0, 1), "input_tokens is implausibly large"),
        (_turn(100, 80, 1, cache_write_input_tokens=30), "exceed input_tokens"),
        (json.dumps({"type": "turn.completed", "usage": {"output_tokens": 1}}), "no input_tokens"),
        (json.dumps({"type": "turn.completed", "usage": [1, 2]}), "usage is not an object"),
    ],
)
def test_a_bad_record_is_noted_and_the_good_one_before_it_stands(bad, why):
    text = "\n".join(
        [json.dumps({"type": "thread.started", "thread_id": "t"}), _turn(50, 10, 5), bad]
    )
    parsed = parse_jsonl("f.jsonl", text)
    assert [(u.thread_id, u.input_tokens, u.output_tokens) for u in parsed.usages] == [("t", 50, 5)]
    assert len(parsed.notes) == 1
    assert parsed.notes[0].startswith("f.jsonl: line 3 skipped: ")
    assert why in parsed.notes[0]


def test_bad_lines_in_a_rollout_never_discard_the_good_ones():
    good = WORKED.read_text().splitlines()
    bad_counts = json.dumps(
        {
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "info": {
                    "total_token_usage": {
                        "input_tokens": 10,
                        "cached_input_tokens": 11,
                        "output_tokens": 1,
                    }
                },
            },
        }
    )
    text = "\n".join([good[0], "{not json", *good[1:], '{"type": "event_msg", "payl', bad_counts])
    parsed = parse_jsonl(WORKED.name, text)
    assert [(u.input_tokens, u.model) for u in parsed.usages] == [(935_040, "gpt-5-codex")]
    assert [n.split(": ", 1)[1] for n in parsed.notes] == [
        "line 2 is not valid JSON",
        f"line {len(good) + 2} is not valid JSON",
        f"line {len(good) + 3} skipped: cached_input_tokens + cache_write_input_tokens (11 + 0) "
        "exceed input_tokens (10)",
    ]


def test_json_that_python_cannot_hold_is_a_bad_line_not_a_crash():
    deep = "[" * 100_000 + "]" * 100_000
    huge_int = '{"type":"turn.completed","usage":{"input_tokens":' + "9" * 5000 + "}}"
    text = "\n".join([deep, huge_int, _turn(7, 0, 1)])
    parsed = parse_jsonl("f.jsonl", text, fallback_id="fb")
    assert [u.input_tokens for u in parsed.usages] == [7]
    assert parsed.notes == (
        "f.jsonl: line 1 is not valid JSON",
        "f.jsonl: line 2 is not valid JSON",
    )


def test_unicode_line_separators_inside_strings_do_not_split_lines():
    thread = json.dumps({"type": "thread.started", "thread_id": "t"})
    text = "\n".join(
        [thread, '{"type":"item.completed","item":{"text":"a\u2028b\u0085c"}}', _turn(3, 0, 1)]
    )
    parsed = parse_jsonl("f.jsonl", text)
    assert parsed.notes == ()
    assert [u.input_tokens for u in parsed.usages] == [3]


def test_crlf_and_blank_lines_are_fine():
    text = "\r\n".join(
        ["", json.dumps({"type": "thread.started", "thread_id": "t"}), "", _turn(4, 1, 2), ""]
    )
    parsed = parse_jsonl("f.jsonl", text)
    assert (parsed.notes, [u.input_tokens for u in parsed.usages]) == ((), [4])


def test_notes_are_bounded_however_many_lines_are_bad():
    parsed = parse_jsonl("f.jsonl", "\n".join(["{"] * 10_000), fallback_id="fb")
    assert len(parsed.notes) == MAX_NOTES + 1
    assert parsed.notes[-1] == f"f.jsonl: {10_000 - MAX_NOTES} more problems not listed"


def test_an_unusable_thread_id_is_noted():
    lines = [json.dumps({"type": "thread.started", "thread_id": x}) for x in (7, "", "a\nb")]
    parsed = parse_jsonl("f.jsonl", "\n".join([*lines, _turn(1, 0, 1)]), fallback_id="fb")
    assert len(parsed.notes) == 3
    assert [u.thread_id for u in parsed.usages] == ["fb"]


def test_a_huge_line_parses_in_linear_time():
    filler = "x" * 1_000_000

    def elapsed(copies: int) -> float:
        item = json.dumps({"type": "item.completed", "item": {"text": filler}})
        text = "\n".join([item] * copies + [_turn(9, 0, 1), "{" + filler])
        start = time.perf_counter()
        parsed = parse_jsonl("f.jsonl", text, fallback_id="fb")
        assert [u.input_tokens for u in parsed.usages] == [9]
        return time.perf_counter() - start

    small, large = elapsed(2), elapsed(16)
    assert large < small * 8 * 4 + 0.5  # 8x the input, far under 64x the time


def test_thread_usage_refuses_impossible_counts():
    with pytest.raises(ValueError, match="exceed input_tokens"):
        ThreadUsage("t", None, 10, 6, 5, 1, 0)
    with pytest.raises(ValueError, match="negative"):
        ThreadUsage("t", None, 10, 0, 0, -1, 0)


# -- merging across files ---------------------------------------------------------------------


def test_the_same_thread_counts_once_with_its_latest_figures():
    early, late = _usage("t", 100, 10), _usage("t", 400, 40)
    assert merge_threads([early, late]) == [late]
    assert merge_threads([late, early]) == [late]


def test_different_threads_add_up():
    merged = merge_threads([_usage("a", 1, 1), _usage("b", 2, 2), _usage("a", 3, 3)])
    assert [(u.thread_id, u.input_tokens) for u in merged] == [("a", 3), ("b", 2)]
    assert sum(u.total_tokens for u in merged) == 6 + 4


def test_a_model_from_another_record_of_the_thread_fills_a_gap():
    rollout = _usage("t", 100, 10, model="gpt-5-codex")
    stream = _usage("t", 400, 40)  # format A: later figures, no model
    assert merge_threads([rollout, stream]) == [_usage("t", 400, 40, model="gpt-5-codex")]
    assert merge_threads([_usage("u", 1, 1)])[0].model is None
