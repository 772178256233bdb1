"""Only this App's own comment is edited in place, never another App's copy of the marker."""

from bot.github.gateway import Gateway
from bot.github.tokens import TokenStore
from bot.present.comment import COMMENT_MARKER
from bot.runtime.settings import load_settings
from tests.conftest import APP_ID

pytest_plugins = ["tests.double_fixtures"]


def test_another_apps_comment_with_the_marker_is_not_taken_for_ours(
    github_double, seeded_pr, app_key, redis_client, redis_server
):
    repo, number = seeded_pr.repo, seeded_pr.number
    github_double.world.user("copycat[bot]", "Bot")
    github_double.add_comment(repo, number, COMMENT_MARKER + "\nnot ours", user="copycat[bot]")
    settings = load_settings({
        "APP_ID": str(APP_ID), "PRIVATE_KEY": app_key[0], "WEBHOOK_SECRET": "s",
        "REDIS_URL": redis_server.url, "GITHUB_API_URL": github_double.base_url,
        "GITHUB_SECONDS_BETWEEN_WRITES": "0",
    })  # fmt: skip
    gw = Gateway(settings, TokenStore(settings, redis_client), seeded_pr.installation_id)
    assert gw.find_comment(repo, number, COMMENT_MARKER) is None
    ours = github_double.add_comment(repo, number, COMMENT_MARKER + "\nours")
    assert gw.find_comment(repo, number, COMMENT_MARKER) == (ours.id, COMMENT_MARKER + "\nours")
    github_double.assert_clean()
