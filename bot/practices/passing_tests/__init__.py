"""Practice `tests`: CI passed on the head commit, and Codex's own notes agree.

Two sources, judged separately: the check runs and commit statuses on the
head SHA (the evidence that counts), and the Testing section Codex writes in
the PR body (which says what the agent ran, and what it could not run, in its
sandbox). The second catches what CI cannot: a command the agent saw fail, a
setup problem such as no network, or a check AGENTS.md asks for that was never
run. Pure: reads only the snapshot and config; may import only `bot.core` and
`bot.practices`.

The engine calls ``evaluate`` (`practice`); the parts are `ci` (check runs and
statuses), `notes` (the Testing section), `agents_checks` (commands AGENTS.md
asks for, matched loosely) and `command_spans` (which code spans are commands).
"""

from bot.practices.passing_tests.agents_checks import AgentsCommand, agents_commands, command_key
from bot.practices.passing_tests.ci import OK_CONCLUSIONS
from bot.practices.passing_tests.command_spans import KNOWN_TOOLS
from bot.practices.passing_tests.notes import (
    TESTING_TITLES,
    NoteState,
    TestingNote,
    network_notice_lines,
    testing_notes,
)
from bot.practices.passing_tests.practice import (
    NO_NETWORK_FIX,
    OFFLINE_REASON,
    PRACTICE_ID,
    evaluate,
)

__all__ = [
    "KNOWN_TOOLS",
    "NO_NETWORK_FIX",
    "OFFLINE_REASON",
    "OK_CONCLUSIONS",
    "PRACTICE_ID",
    "TESTING_TITLES",
    "AgentsCommand",
    "NoteState",
    "TestingNote",
    "agents_commands",
    "command_key",
    "evaluate",
    "network_notice_lines",
    "testing_notes",
]
