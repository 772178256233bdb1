"""Celery worker: evaluates pull requests off the webhook receiver's queue."""
