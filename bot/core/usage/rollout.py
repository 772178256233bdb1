"""Token usage per Codex thread, read from the JSON Lines Codex writes.

Two formats, told apart line by line so a mixed or concatenated file still reads:

* A, `codex exec --json`: `thread.started` names the thread, each `turn.completed`
  carries `usage` figures that are cumulative for the thread.
* B, the CLI's rollout files (`rollout-<time>-<thread uuid>.jsonl`): `event_msg` lines
  whose `payload.type` is `token_count` carry cumulative `info.total_token_usage`;
  `turn_context` lines carry the model.

Figures are cumulative, so the last good record per thread wins; summing would
count every turn again. The files come from workflow artifacts anyone with write
access can shape, so a bad line is noted and skipped, never fatal, and never costs
the good lines around it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

MAX_TOKENS = 10**10  # per field: more than any real thread, less than any overflow trick
MAX_NOTES = 50  # per file: a file of a million bad lines yields a bounded report
MAX_ID_CHARS = 200
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
)
_REQUIRED = ("input_tokens", "output_tokens")
_FORMAT_B_TYPES = {"session_meta", "turn_context", "event_msg", "response_item", "compacted"}


@dataclass(frozen=True)
class ThreadUsage:
    """One thread's cumulative token counts; `model` is None when the file never says.

    Cached and cache-write tokens are part of `input_tokens`, reasoning is part of
    `output_tokens`: construction refuses counts that break that, so every instance
    can be priced without further checks.
    """

    thread_id: str
    model: str | None
    input_tokens: int
    cached_input_tokens: int
    cache_write_input_tokens: int
    output_tokens: int
    reasoning_output_tokens: int

    def __post_init__(self) -> None:
        for name in _FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} is not an integer")
            if value < 0:
                raise ValueError(f"{name} is negative ({value})")
            if value > MAX_TOKENS:
                raise ValueError(f"{name} is implausibly large ({value})")
        if self.cached_input_tokens + self.cache_write_input_tokens > self.input_tokens:
            raise ValueError(
                "cached_input_tokens + cache_write_input_tokens "
                f"({self.cached_input_tokens} + {self.cache_write_input_tokens}) "
                f"exceed input_tokens ({self.input_tokens})"
            )

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class ParsedFile:
    """What one file said: usages per thread, threads with none, and problems found."""

    name: str
    usages: tuple[ThreadUsage, ...] = ()
    without_usage: tuple[str, ...] = ()  # threads seen with "no usage recorded": not an error
    notes: tuple[str, ...] = ()


@dataclass
class _Reader:
    name: str
    fallback_id: str
    notes: list[str] = field(default_factory=list)
    dropped: int = 0
    # format A: threads in order of appearance, their last good usage
    a_threads: list[str] = field(default_factory=list)
    a_usage: dict[str, ThreadUsage] = field(default_factory=dict)
    a_current: str | None = None
    # format B: one thread per file
    b_seen: bool = False
    b_meta_id: str | None = None
    b_model: str | None = None
    b_counts: dict[str, int] | None = None

    def note(self, text: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(f"{self.name}: {text}")
        else:
            self.dropped += 1


def thread_id_from_name(name: str) -> str | None:
    """The uuid at the end of `rollout-<time>-<uuid>.jsonl`, folders allowed before it.

    Sliced, not searched: no pattern runs over the name's unbounded part."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if not (base.startswith("rollout-") and base.lower().endswith(".jsonl")):
        return None
    stem = base[: -len(".jsonl")]
    candidate = stem[-36:]
    if len(stem) < len("rollout-") + 37 or stem[-37] != "-" or not _UUID.fullmatch(candidate):
        return None
    return candidate.lower()


def default_fallback_id(name: str, text: str) -> str:
    """A stable id for a thread no line names: the same file always gets the same one."""
    digest = hashlib.sha256(name.encode("utf-8", "replace") + b"\0")
    digest.update(text.encode("utf-8", "replace"))
    return "sha256:" + digest.hexdigest()


def _thread_id(value: Any) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS and value.isprintable():
        return value
    return None


def _counts(raw: Any) -> dict[str, int] | str:
    """The five counts of a usage object, or why they cannot be trusted."""
    if not isinstance(raw, Mapping):
        return "usage is not an object"
    counts: dict[str, int] = {}
    for name in _FIELDS:
        if name not in raw:
            if name in _REQUIRED:
                return f"usage has no {name}"
            counts[name] = 0
            continue
        value = raw[name]
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} is not an integer"
        counts[name] = value
    try:
        ThreadUsage("check", None, **counts)
    except ValueError as exc:
        return str(exc)
    return counts


def _line_a(reader: _Reader, number: int, kind: str, obj: Mapping[str, Any]) -> None:
    if kind == "thread.started":
        thread = _thread_id(obj.get("thread_id"))
        if thread is None:
            reader.note(f"line {number}: thread.started has no usable thread_id")
            return
        reader.a_current = thread
        if thread not in reader.a_threads:
            reader.a_threads.append(thread)
    elif kind == "turn.completed":
        counts = _counts(obj.get("usage"))
        if isinstance(counts, str):
            reader.note(f"line {number} skipped: {counts}")
            return
        thread = reader.a_current or reader.fallback_id
        if thread not in reader.a_threads:
            reader.a_threads.append(thread)
        reader.a_usage[thread] = ThreadUsage(thread, None, **counts)


def _line_b(reader: _Reader, number: int, kind: str, payload: Any) -> None:
    reader.b_seen = True
    if not isinstance(payload, Mapping):
        return
    if kind == "session_meta" and reader.b_meta_id is None:
        reader.b_meta_id = _thread_id(payload.get("id"))
    elif kind == "turn_context":
        model = payload.get("model")
        if isinstance(model, str) and 0 < len(model) <= MAX_ID_CHARS:
            reader.b_model = model
    elif kind == "event_msg" and payload.get("type") == "token_count":
        info = payload.get("info")
        if info is None:
            return  # Codex writes a null info before the first response: nothing to count
        if not isinstance(info, Mapping):
            reader.note(f"line {number} skipped: token_count info is not an object")
            return
        counts = _counts(info.get("total_token_usage"))
        if isinstance(counts, str):
            reader.note(f"line {number} skipped: {counts}")
            return
        reader.b_counts = counts


def _read_line(reader: _Reader, number: int, line: str) -> None:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):  # also too-long integers and deep nesting
        reader.note(f"line {number} is not valid JSON")
        return
    if not isinstance(obj, Mapping) or not isinstance(obj.get("type"), str):
        return  # valid JSON that is neither format: not ours to judge
    kind = obj["type"]
    if "payload" in obj or kind in _FORMAT_B_TYPES:
        _line_b(reader, number, kind, obj.get("payload"))
    else:
        _line_a(reader, number, kind, obj)


def parse_jsonl(name: str, text: str, *, fallback_id: str | None = None) -> ParsedFile:
    """Every thread's last cumulative usage in one JSON Lines file.

    `name` gives a rollout file its thread id; `fallback_id` (by default a sha256 of
    name and content) names a thread no line and no file name identifies. Lines split
    on newline only: JSON strings may hold U+2028 and friends, which `splitlines`
    would cut. Each line is parsed once, so time is linear in the input.
    """
    reader = _Reader(name=name, fallback_id=fallback_id or default_fallback_id(name, text))
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if line:
            _read_line(reader, number, line)

    usages: list[ThreadUsage] = [reader.a_usage[t] for t in reader.a_threads if t in reader.a_usage]
    without = [t for t in reader.a_threads if t not in reader.a_usage]
    if reader.b_seen:
        thread = thread_id_from_name(name) or reader.b_meta_id or reader.fallback_id
        if reader.b_counts is not None:
            usages.append(ThreadUsage(thread, reader.b_model, **reader.b_counts))
        else:
            without.append(thread)
    if reader.dropped:
        reader.notes.append(f"{name}: {reader.dropped} more problems not listed")
    return ParsedFile(name, tuple(usages), tuple(without), tuple(reader.notes))


def merge_threads(usages: Iterable[ThreadUsage]) -> list[ThreadUsage]:
    """Each thread once, with its latest cumulative figures; threads in first-seen order.

    The same thread can arrive in several files or deliveries: the record with the
    most tokens is the latest. A thread's model is the thread's, so when the latest
    record lacks one (format A never names it) it is taken from another record.
    """
    best: dict[str, ThreadUsage] = {}
    models: dict[str, tuple[int, str]] = {}
    for usage in usages:
        kept = best.get(usage.thread_id)
        if kept is None or usage.total_tokens > kept.total_tokens:
            best[usage.thread_id] = usage
        if usage.model is not None:
            seen = models.get(usage.thread_id)
            if seen is None or usage.total_tokens > seen[0]:
                models[usage.thread_id] = (usage.total_tokens, usage.model)
    merged = []
    for thread, usage in best.items():
        if usage.model is None and thread in models:
            usage = replace(usage, model=models[thread][1])
        merged.append(usage)
    return merged
