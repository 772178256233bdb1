"""What people read: the check run (title, summary table, annotations, re-run button),
the one PR comment, the audit summary and its HTML page.

Pure rendering from an `Evaluation`, a snapshot or audit records: may import only
`bot.core` and `bot.practices`; never GitHub, Redis, the queue or the web app.
"""
