"""/metrics is not open on the public webhook port (issue 11, item 11).

Off unless `METRICS_TOKEN` is set; then only a scraper sending the token reads it.
"""

from __future__ import annotations

import pytest

from bot.runtime.settings import SettingsError, load_settings
from tests.conftest import METRICS_AUTH
from tests.receiver_rig import app_settings, receiver_client


def test_without_a_token_metrics_are_not_served(app_key, redis_server, redis_client):
    client = receiver_client(app_settings(app_key, redis_server, METRICS_TOKEN=""), redis_client)
    assert client.get("/metrics").status_code == 404
    assert client.get("/healthz").status_code == 200


def test_with_a_token_only_the_scraper_reads_them(app_key, redis_server, redis_client):
    client = receiver_client(app_settings(app_key, redis_server), redis_client)
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token-at-all"})
    assert wrong.status_code == 401
    assert "codex_guard" not in wrong.get_data(as_text=True)
    right = client.get("/metrics", headers=METRICS_AUTH)
    assert right.status_code == 200
    assert "codex_guard_deliveries_total" in right.get_data(as_text=True)


def test_a_short_token_is_refused_at_start(app_key):
    with pytest.raises(SettingsError, match="METRICS_TOKEN"):
        load_settings(
            {
                "APP_ID": "1",
                "PRIVATE_KEY": app_key[0],
                "WEBHOOK_SECRET": "x",
                "METRICS_TOKEN": "abc",
            }
        )
