"""Practice `task-thread`: a PR is one task, and links the one thread it came from.

Codex works task by task; reviewers need the task (or the issue it came from)
to judge the diff, and two tasks in one PR cannot be reviewed or reverted
apart. References are read from what the body renders as prose and link
targets, so code spans, code blocks and template comments never count.

When the body uses closing keywords (`Closes #7`), those references are the
task thread and other mentions (`see #3`) are context; otherwise every tracker
reference counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from bot.core.config import GuardConfig, PracticeLevel, TrackerConfig
from bot.core.findings import Finding, Level, PracticeResult, outcome_from_findings
from bot.core.markdown import reference_text
from bot.core.snapshot import PRSnapshot

PRACTICE_ID = "task-thread"

# GitHub caps PR and issue bodies at 65,536 characters, so a longer text is not
# from GitHub; only that much is read, since Markdown parsing is slow on junk.
MAX_SCAN_CHARS = 65_536

_TASK_LINK = re.compile(
    r"(?<![\w-])(?:chatgpt\.com|chat\.openai\.com)/codex/(?:cloud/)?tasks/"
    r"task_?([a-z])_?([0-9a-f]{32})(?![0-9a-z])",
    re.IGNORECASE | re.ASCII,
)
_URL = re.compile(r"(?:https?://|(?<![\w.-])www\.)\S+", re.IGNORECASE)
_ISSUE_URL = re.compile(
    r"(?:https?://)?(?:www\.)?github\.com/([\w.-]{1,100})/([\w.-]{1,100})/issues/(\d{1,9})(?!\d)",
    re.IGNORECASE | re.ASCII,
)
_LINEAR_URL = re.compile(
    r"(?:https?://)?(?:www\.)?linear\.app/[\w.-]{1,100}/issue/([a-z][a-z0-9]{0,9}-\d{1,9})(?!\w)",
    re.IGNORECASE | re.ASCII,
)
_REPO_REF = re.compile(
    r"(?<![\w./-])([A-Za-z0-9][A-Za-z0-9-]{0,38})/([\w.-]{1,100})#(\d{1,9})(?!\w)", re.ASCII
)
_BARE_REF = re.compile(r"(?<![\w#&/])#(\d{1,9})(?!\w)", re.ASCII)
_CLOSING = re.compile(
    r"(?<!\w)(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)(?!\w)[ \t]{0,20}:?[ \t]{0,20}",
    re.IGNORECASE,
)
# One reference at an exact position, for the list after a closing keyword.
_REF_AT = re.compile(
    r"(?:(?:https?://)?(?:www\.)?github\.com/([\w.-]{1,100})/([\w.-]{1,100})/issues/(\d{1,9})"
    r"|([A-Za-z0-9][A-Za-z0-9-]{0,38})/([\w.-]{1,100})#(\d{1,9})"
    r"|#(\d{1,9}))(?!\w)",
    re.IGNORECASE | re.ASCII,
)
_LIST_SEPARATOR = re.compile(r"[ \t]{0,20}(?:,|&|\band\b)?[ \t]{0,20}", re.IGNORECASE)
_JIRA_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,29}")


@dataclass(frozen=True)
class TrackerRef:
    """One tracker item the body points at.

    ``key`` is a display form built only from matched characters (digits,
    repo-name characters, upper-case keys), so it is safe to show.
    """

    key: str
    issue: int | None = None
    closing: bool = False


@lru_cache(maxsize=64)
def _prose(text: str) -> str:
    """Reference text of a body, computed once per body across practices."""
    return reference_text(text[:MAX_SCAN_CHARS])


def body_cut_note(body: str | None) -> str:
    """Said in a finding when the body is longer than GitHub allows, so only its start was read."""
    if len(body or "") <= MAX_SCAN_CHARS:
        return ""
    return f" (Only the first {MAX_SCAN_CHARS:,} characters of the body were read.)"


def codex_task_ids(text: str) -> tuple[str, ...]:
    """Codex task IDs linked in ``text``, normalised to ``task_<letter>_<hex>``, in order.

    Tolerates the forms seen in real bodies: a plain URL or a
    ``[Codex Task](...)`` link, ``/codex/cloud/tasks/``, ``www.``, upper-case
    hex, a dropped underscore, trailing punctuation.
    """
    return _task_ids_in(_prose(text))


def _task_ids_in(prose: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for match in _TASK_LINK.finditer(prose):
        seen.setdefault(f"task_{match.group(1).lower()}_{match.group(2).lower()}", None)
    return tuple(seen)


def _same_repo(owner: str, name: str, repo: str) -> bool:
    return f"{owner}/{name}".casefold() == repo.casefold()


def _github_key(owner: str | None, name: str | None, number: int, repo: str) -> TrackerRef:
    if owner is None or name is None or _same_repo(owner, name, repo):
        return TrackerRef(key=f"#{number}", issue=number)
    return TrackerRef(key=f"{owner}/{name}#{number}")


def _closing_refs(prose: str, repo: str) -> list[tuple[int, TrackerRef]]:
    """References after a closing keyword, including lists (`Fixes #1, #2 and #3`)."""
    found: list[tuple[int, TrackerRef]] = []
    for keyword in _CLOSING.finditer(prose):
        pos = keyword.end()
        while True:
            ref = _REF_AT.match(prose, pos)
            if ref is None:
                break
            g = ref.groups()
            if g[2] is not None:
                tracker = _github_key(g[0], g[1], int(g[2]), repo)
            elif g[5] is not None:
                tracker = _github_key(g[3], g[4], int(g[5]), repo)
            else:
                tracker = _github_key(None, None, int(g[6]), repo)
            found.append((ref.start(), TrackerRef(tracker.key, tracker.issue, closing=True)))
            sep = _LIST_SEPARATOR.match(prose, ref.end())
            if sep is None or sep.end() == ref.end():
                break
            pos = sep.end()
    return found


def _github_refs(prose: str, repo: str) -> list[tuple[int, TrackerRef]]:
    """Every GitHub issue reference, with its position, closing ones marked."""
    found = _closing_refs(prose, repo)
    closing_at = {pos for pos, _ in found}
    for url in _URL.finditer(prose):
        m = _ISSUE_URL.match(url.group())
        if m and url.start() not in closing_at:
            found.append((url.start(), _github_key(m.group(1), m.group(2), int(m.group(3)), repo)))
    # Blank URLs out so a `#12` fragment is not read as a reference.
    bare = _URL.sub(lambda m: " " * len(m.group()), prose)
    for m in _REPO_REF.finditer(bare):
        if m.start() not in closing_at:
            found.append((m.start(), _github_key(m.group(1), m.group(2), int(m.group(3)), repo)))
    for m in _BARE_REF.finditer(bare):
        if m.start() not in closing_at:
            found.append((m.start(), _github_key(None, None, int(m.group(1)), repo)))
    found.sort(key=lambda item: item[0])
    return found


def linked_issue_numbers(body: str, repo: str, *, exclude: Iterable[int] = ()) -> tuple[int, ...]:
    """Same-repo issue numbers the body references, deduplicated.

    Issues named after a closing keyword come first (they are the task
    thread, so a caller that caps the list keeps them), then the rest in
    document order. The gateway fetches these issues' bodies before
    evaluation. ``exclude`` drops numbers known to be pull requests.
    """
    skip = set(exclude)
    seen: dict[int, None] = {}
    refs = _github_refs(_prose(body), repo)
    for _, ref in sorted(refs, key=lambda item: not item[1].closing):
        if ref.issue is not None and ref.issue not in skip:
            seen.setdefault(ref.issue, None)
    return tuple(seen)


def _jira_pattern(keys: Iterable[str]) -> re.Pattern[str] | None:
    valid = sorted(
        {k.strip().upper() for k in keys if _JIRA_KEY.fullmatch(k.strip().upper())},
        key=len,
        reverse=True,
    )
    if not valid:
        return None
    alternatives = "|".join(map(re.escape, valid))
    return re.compile(r"(?<![\w-])(" + alternatives + r")-(\d{1,9})(?!\w)", re.ASCII)


def tracker_refs(
    body: str,
    repo: str,
    trackers: TrackerConfig,
    *,
    exclude: Iterable[int] = (),
) -> tuple[TrackerRef, ...]:
    """The distinct tracker items the body references, as the team configured them.

    When closing-keyword references exist, only they are returned: they name
    the task, other mentions are context.
    """
    prose = _prose(body)
    skip = set(exclude)
    found: list[tuple[int, TrackerRef]] = []
    if trackers.github_issues:
        found.extend((pos, ref) for pos, ref in _github_refs(prose, repo) if ref.issue not in skip)
    jira = _jira_pattern(trackers.jira_keys)
    if jira is not None:
        # A Linear URL's `ENG-12` is Linear's, even when ENG is also a Jira key.
        outside_linear = _URL.sub(
            lambda m: " " * len(m.group()) if _LINEAR_URL.match(m.group()) else m.group(), prose
        )
        found.extend(
            (m.start(), TrackerRef(key=f"{m.group(1)}-{int(m.group(2))}"))
            for m in jira.finditer(outside_linear)
        )
    if trackers.linear:
        for url in _URL.finditer(prose):
            m = _LINEAR_URL.match(url.group())
            if m:
                found.append((url.start(), TrackerRef(key=f"Linear {m.group(1).upper()}")))
    found.sort(key=lambda item: item[0])
    if any(ref.closing for _, ref in found):
        found = [(pos, ref) for pos, ref in found if ref.closing]
    unique: dict[str, TrackerRef] = {}
    for _, ref in found:
        unique.setdefault(ref.key, ref)
    return tuple(unique.values())


def thread_issue_numbers(snapshot: PRSnapshot, config: GuardConfig) -> tuple[int, ...]:
    """Same-repo issues that are this PR's task thread (where Done-when may live)."""
    refs = tracker_refs(
        snapshot.body,
        snapshot.repo,
        TrackerConfig(github_issues=True, jira_keys=[], linear=False),
        exclude=_pull_numbers(snapshot),
    )
    return tuple(ref.issue for ref in refs if ref.issue is not None)


def _pull_numbers(snapshot: PRSnapshot) -> set[int]:
    """Numbers known to be pull requests, which are not task threads."""
    return {snapshot.number, *(snapshot.other_open_prs or {})}


def _level(level: PracticeLevel) -> Level | None:
    return {PracticeLevel.ERROR: Level.ERROR, PracticeLevel.WARNING: Level.WARNING}.get(level)


def _short(task_id: str) -> str:
    return task_id[:15] + "…"


def _how_to_link(trackers: TrackerConfig) -> str:
    ways = ["the Codex task link (`[Codex Task](https://chatgpt.com/codex/tasks/task_…)`)"]
    if trackers.github_issues:
        ways.append("an issue reference such as `Closes #123`")
    keys = [k for k in trackers.jira_keys if _JIRA_KEY.fullmatch(k.strip().upper())]
    if keys:
        ways.append(f"a Jira key such as `{keys[0].strip().upper()}-123`")
    if trackers.linear:
        ways.append("a Linear issue URL (`https://linear.app/<team>/issue/ABC-123`)")
    return "Add to the PR description " + ", or ".join(ways) + "."


@lru_cache(maxsize=512)
def _other_tasks(body: str) -> frozenset[str]:
    """Task IDs of another open PR, read once per body.

    Kept out of the shared parse cache: a repo may have hundreds of open PRs,
    each read only here, and they would push out the texts every practice reads.
    """
    return frozenset(_task_ids_in(reference_text(body[:MAX_SCAN_CHARS], cache=False)))


def _shared_findings(
    snapshot: PRSnapshot, task_ids: tuple[str, ...], level: Level
) -> list[Finding]:
    others: Mapping[int, str] = snapshot.other_open_prs or {}
    other_tasks = {
        n: _other_tasks(body or "") for n, body in others.items() if n != snapshot.number
    }
    findings = []
    for task_id in task_ids:
        sharing = sorted(n for n, tasks in other_tasks.items() if task_id in tasks)
        if sharing:
            prs = ", ".join(f"#{n}" for n in sharing)
            findings.append(
                Finding(
                    rule="task-thread/shared",
                    level=level,
                    message=f"Codex task {_short(task_id)} is also linked from {prs}: "
                    "one PR per task thread.",
                    fix="Close or merge the other PR, or start a new Codex task for this change.",
                )
            )
    return findings


def evaluate(snapshot: PRSnapshot, config: GuardConfig) -> PracticeResult:
    """Exactly one task thread: one Codex task, one tracker item, or one of each."""
    settings = config.practices.task_thread
    tasks = codex_task_ids(snapshot.body)
    trackers = tracker_refs(
        snapshot.body, snapshot.repo, settings.trackers, exclude=_pull_numbers(snapshot)
    )
    findings: list[Finding] = []
    if len(tasks) > 1:
        findings.append(
            Finding(
                rule="task-thread/multiple",
                level=Level.ERROR,
                message=f"The PR links {len(tasks)} Codex tasks ("
                + ", ".join(_short(t) for t in tasks)
                + "): one thread per task.",
                fix="Split the PR so each one carries the changes of a single Codex task.",
            )
        )
    if len(trackers) > 1:
        findings.append(
            Finding(
                rule="task-thread/multiple",
                level=Level.ERROR,
                message=f"The PR references {len(trackers)} tracker items ("
                + ", ".join(f"`{r.key}`" for r in trackers)
                + "): one thread per task.",
                fix="Split the PR per task, or keep only the reference this change closes.",
            )
        )
    if not tasks and not trackers:
        findings.append(
            Finding(
                rule="task-thread/missing",
                level=Level.ERROR,
                message="The PR links no task thread." + body_cut_note(snapshot.body),
                fix=_how_to_link(settings.trackers),
            )
        )
    shared_level = _level(settings.shared_thread_level)
    if shared_level is not None and tasks and snapshot.other_open_prs:
        findings.extend(_shared_findings(snapshot, tasks, shared_level))

    outcome = outcome_from_findings(findings)
    if findings:
        reason = findings[0].message
    else:
        linked = [f"Codex task {_short(t)}" for t in tasks] + [f"`{r.key}`" for r in trackers]
        reason = "Links one task thread: " + " and ".join(linked)
        reason += "" if reason.endswith("…") else "."
    return PracticeResult(PRACTICE_ID, outcome, reason, tuple(findings))
