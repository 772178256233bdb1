"""Slash commands in PR comments: `/codex-guard recheck` and `/codex-guard skip`.

Only the command is parsed here; who may run it is decided by the worker from
the permission GitHub reports, never from anything the comment says.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.findings import PRACTICE_IDS

PREFIX = "/codex-guard"
MAX_REASON = 200


@dataclass(frozen=True)
class Command:
    name: str  # "recheck" | "skip" | "invalid"
    practice: str | None = None
    reason: str | None = None
    error: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "practice": self.practice,
            "reason": self.reason,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, str | None]) -> Command:
        return cls(
            name=data.get("name") or "invalid",
            practice=data.get("practice"),
            reason=data.get("reason"),
            error=data.get("error"),
        )


def parse_command(body: str) -> Command | None:
    """The first `/codex-guard` line of a comment, or None if there is none."""
    for raw in body.splitlines()[:50]:
        line = raw.strip()
        if not line.lower().startswith(PREFIX):
            continue
        words = line[len(PREFIX) :].split(maxsplit=2)
        if line[len(PREFIX) : len(PREFIX) + 1] not in ("", " ", "\t"):
            continue
        if not words:
            return Command("invalid", error="say `/codex-guard recheck` or `/codex-guard skip`")
        verb = words[0].lower()
        if verb == "recheck":
            return Command("recheck")
        if verb == "skip":
            if len(words) < 2 or words[1] not in PRACTICE_IDS:
                return Command(
                    "invalid",
                    error="usage: `/codex-guard skip <practice> <reason>` with a practice of "
                    + ", ".join(f"`{p}`" for p in PRACTICE_IDS),
                )
            reason = words[2].strip() if len(words) > 2 else ""
            if not reason:
                return Command("invalid", error="a skip needs a reason after the practice")
            return Command("skip", practice=words[1], reason=reason[:MAX_REASON])
        return Command("invalid", error=f"unknown command; try `{PREFIX} recheck`")
    return None
