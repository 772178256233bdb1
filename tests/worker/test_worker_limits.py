"""Every Celery job runs under a time limit and a memory bound (issue 11, item 1)."""

from worker.celery_app import make_celery


def test_jobs_have_a_soft_and_a_hard_time_limit():
    conf = make_celery("redis://127.0.0.1:1/0").conf
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert conf.task_time_limit < conf.broker_transport_options["visibility_timeout"]


def test_a_job_held_by_a_killed_worker_is_handed_out_again_within_150_s(monkeypatch):
    """Issue 14: Redis restores an unacknowledged job after the visibility timeout, checked
    every restore interval; both come from the defaults, and stay above the hard limit."""
    monkeypatch.delenv("VISIBILITY_TIMEOUT", raising=False)
    conf = make_celery("redis://127.0.0.1:1/0").conf
    options = conf.broker_transport_options
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.task_time_limit < options["visibility_timeout"]
    assert options["visibility_timeout"] + options["unacked_restore_interval"] <= 150


def test_worker_children_are_replaced_past_a_memory_bound():
    assert make_celery("redis://127.0.0.1:1/0").conf.worker_max_memory_per_child > 0
