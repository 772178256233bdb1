"""Installation tokens are reused until near expiry, across worker processes too (issue 2),
and the gateway follows no URL from the PR's text (issue 4, Security)."""

from __future__ import annotations

from bot.github.tokens import TokenStore
from bot.runtime.settings import load_settings
from tests.conftest import APP_ID

pytest_plugins = ["tests.double_fixtures"]

# -- installation tokens reused until near expiry ---------------------------------------------


def _settings(app_key, redis_server, github_double):
    return load_settings({
        "APP_ID": str(APP_ID), "PRIVATE_KEY": app_key[0], "WEBHOOK_SECRET": "s",
        "REDIS_URL": redis_server.url, "GITHUB_API_URL": github_double.base_url,
    })  # fmt: skip


def test_installation_token_is_minted_once_and_shared_across_processes(
    github_double, seeded_pr, app_key, redis_client, redis_server
) -> None:
    settings = _settings(app_key, redis_server, github_double)
    installation = seeded_pr.installation_id
    exchanges = rf"^/app/installations/{installation}/access_tokens$"
    first = TokenStore(settings, redis_client)
    token = first.token(installation)
    assert token
    assert first.token(installation) == token
    # A second store stands for another worker process: it reads the shared token from Redis.
    second = TokenStore(settings, redis_client)
    assert second.token(installation) == token
    assert len(github_double.calls("POST", exchanges)) == 1
    # The shared copy is stored encrypted and expires before the token itself does.
    [key] = [k for k in redis_client.keys("*") if str(installation) in k.decode()]
    assert token.encode() not in redis_client.get(key)
    assert 0 < redis_client.ttl(key) <= 3600
    # Forgotten (e.g. installation removed): the next call mints a fresh one.
    second.forget(installation)
    third = TokenStore(settings, redis_client)
    assert third.token(installation)
    assert len(github_double.calls("POST", exchanges)) == 2
    github_double.assert_clean()


# -- URLs in PR text are never followed (issue 4, Security) -----------------------------------


def test_urls_in_the_pr_text_are_never_fetched(
    github_double, pr_opened, app_key, redis_client, redis_server
) -> None:
    from bot.jobs import pipeline

    base = github_double.base_url
    root = base.removesuffix("/api/v3")
    pr_opened["pull_request"]["body"] = (
        "https://chatgpt.com/codex/tasks/task_e_" + "a" * 32 + "\n\n"
        f"See [the spec]({base}/canary-link) and ![img]({root}/canary-image.png).\n\n"
        f"Done when: {base}/repos/canary/canary/contents/x answers.\n\n"
        f"## Testing\n- Ran `curl {root}/canary-curl` (failed)\n"
    )
    seeded = github_double.seed_from_event(pr_opened)
    settings = _settings(app_key, redis_server, github_double)
    svc = pipeline.Services.from_settings(settings)
    result = pipeline.evaluate_pull(svc, seeded.installation_id, seeded.repo, seeded.number)
    assert result is not None  # it did evaluate, so the body was read
    paths = [c.path for c in github_double.calls()]
    assert paths, "the evaluation made no GitHub calls at all"
    assert not [p for p in paths if "canary" in p], paths
    github_double.assert_clean()
