"""Names the web and worker processes must agree on: the Celery queue, the task names
and the check run's name. Kept in one place so the sender and the receiver of a job
cannot drift apart."""

CHECK_NAME = "codex-guard"
QUEUE = "codex-guard"
"""The Celery queue; priority 0 is the plain Redis list."""

EVALUATE = "codex_guard.evaluate"
EVALUATE_SHA = "codex_guard.evaluate_sha"
COMMAND = "codex_guard.command"
MERGE_GROUP = "codex_guard.merge_group"
INSTALLATION = "codex_guard.installation"
CONFIG_CHANGED = "codex_guard.config_changed"
PR_CLOSED = "codex_guard.pr_closed"
COLLECT_USAGE = "codex_guard.collect_usage"
