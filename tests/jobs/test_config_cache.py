"""Config is cached by blob SHA: an event for a known repository costs no API call and
no YAML parse, a push that changes the config is seen at once, and a PR can never
slip its own config in (the pointer is per base ref, the text per blob)."""

from __future__ import annotations

import hashlib

import pytest

from bot.core.config import ConfigError
from bot.jobs import config_source
from bot.jobs.store import Store

STRICT = "practices:\n  done-when: {level: error}\n"
RELAXED = "practices:\n  done-when: {level: off}\n"


def blob_sha(text: str) -> str:
    return hashlib.sha1(f"blob {len(text)}\0{text}".encode()).hexdigest()


class ContentsGateway:
    """The contents API as the config source sees it: (blob SHA, text) per repo and ref."""

    def __init__(self) -> None:
        self.files: dict[tuple[str, str | None], str] = {}
        self.reads: list[tuple[str, str | None]] = []

    def file_blob(self, repo: str, path: str, ref: str | None) -> tuple[str, str] | None:
        assert path == ".github/codex-guard.yml"
        self.reads.append((repo, ref))
        text = self.files.get((repo, ref))
        return None if text is None else (blob_sha(text), text)


@pytest.fixture(autouse=True)
def _fresh_parse_cache():
    config_source.PARSED.clear()
    yield
    config_source.PARSED.clear()


def test_a_known_config_costs_no_call_and_no_parse(redis_client):
    gw, store = ContentsGateway(), Store(redis_client)
    gw.files[("octo-org/app", "main")] = STRICT
    first = config_source.load_for(gw, store, "octo-org/app", "main")
    assert gw.reads == [("octo-org/app", "main"), ("octo-org/.github", None)]
    again = config_source.load_for(gw, store, "octo-org/app", "main")
    assert gw.reads == [("octo-org/app", "main"), ("octo-org/.github", None)]
    assert again is first  # the parsed config itself, not a re-parse
    assert first.practices.done_when.level == "error"


def test_the_same_text_in_two_repositories_is_stored_once(redis_client):
    gw, store = ContentsGateway(), Store(redis_client)
    gw.files[("octo-org/app", "main")] = STRICT
    gw.files[("octo-org/api", "main")] = STRICT
    a = config_source.load_for(gw, store, "octo-org/app", "main")
    b = config_source.load_for(gw, store, "octo-org/api", "main")
    assert a == b
    assert redis_client.keys("codex-guard:cache:config-blob:*") == [
        f"codex-guard:cache:config-blob:{blob_sha(STRICT)}".encode()
    ]


def test_a_push_that_changes_the_config_is_seen_by_the_next_event(redis_client):
    gw, store = ContentsGateway(), Store(redis_client)
    gw.files[("octo-org/app", "main")] = STRICT
    strict = config_source.load_for(gw, store, "octo-org/app", "main")
    assert strict.practices.done_when.level == "error"
    gw.files[("octo-org/app", "main")] = RELAXED
    # Until the push arrives the pointer holds; the push handler drops `config:<repo>*`.
    store.forget_cache("config:octo-org/app")
    relaxed = config_source.load_for(gw, store, "octo-org/app", "main")
    assert relaxed.practices.done_when.level == "off"


def test_a_push_that_leaves_the_config_alone_reuses_the_parse(redis_client):
    gw, store = ContentsGateway(), Store(redis_client)
    gw.files[("octo-org/app", "main")] = STRICT
    first = config_source.load_for(gw, store, "octo-org/app", "main")
    store.forget_cache("config:octo-org/app")
    assert config_source.load_for(gw, store, "octo-org/app", "main") is first
    assert gw.reads.count(("octo-org/app", "main")) == 2  # the pointer was looked up again


def test_each_base_ref_has_its_own_pointer(redis_client):
    gw, store = ContentsGateway(), Store(redis_client)
    gw.files[("octo-org/app", "main")] = STRICT
    gw.files[("octo-org/app", "release")] = RELAXED
    main = config_source.load_for(gw, store, "octo-org/app", "main")
    release = config_source.load_for(gw, store, "octo-org/app", "release")
    assert main.practices.done_when.level == "error"
    assert release.practices.done_when.level == "off"


def test_org_defaults_are_merged_and_cached_too(redis_client):
    gw, store = ContentsGateway(), Store(redis_client)
    gw.files[("octo-org/.github", None)] = RELAXED
    gw.files[("octo-org/app", "main")] = "comment: always\n"
    merged = config_source.load_for(gw, store, "octo-org/app", "main")
    assert merged.practices.done_when.level == "off"
    assert merged.comment == "always"
    config_source.load_for(gw, store, "octo-org/api", "main")  # another repo, same org
    assert gw.reads.count(("octo-org/.github", None)) == 1


def test_an_absent_config_is_remembered_as_absent(redis_client):
    gw, store = ContentsGateway(), Store(redis_client)
    config_source.load_for(gw, store, "octo-org/app", "main")
    config_source.load_for(gw, store, "octo-org/app", "main")
    assert gw.reads == [("octo-org/app", "main"), ("octo-org/.github", None)]


def test_an_invalid_config_fails_the_same_way_every_time_without_a_parse(redis_client):
    gw, store = ContentsGateway(), Store(redis_client)
    gw.files[("octo-org/app", "main")] = "practices:\n  done-when:\n    levle: error\n"
    errors = []
    for _ in range(2):
        with pytest.raises(ConfigError) as caught:
            config_source.load_for(gw, store, "octo-org/app", "main")
        errors.append(caught.value)
    assert str(errors[0]) == str(errors[1])
    assert "practices.done-when.levle" in str(errors[0])
    assert errors[0] is not errors[1]  # a fresh exception, no traceback carried over
    assert len(gw.reads) == 2  # read once (repo, org); the second time neither


def test_the_parse_cache_is_bounded(redis_client, monkeypatch):
    monkeypatch.setattr(config_source, "PARSED", config_source._Parsed(2))
    gw, store = ContentsGateway(), Store(redis_client)
    for n in range(3):
        gw.files[(f"octo-org/r{n}", "main")] = f"comment: always\n# {n}\n"
        config_source.load_for(gw, store, f"octo-org/r{n}", "main")
    assert len(config_source.PARSED._items) == 2


def test_a_pointer_without_its_blob_reads_the_file_again(redis_client):
    gw, store = ContentsGateway(), Store(redis_client)
    gw.files[("octo-org/app", "main")] = STRICT
    config_source.load_for(gw, store, "octo-org/app", "main")
    redis_client.delete(f"codex-guard:cache:config-blob:{blob_sha(STRICT)}")  # evicted
    config_source.PARSED.clear()
    again = config_source.load_for(gw, store, "octo-org/app", "main")
    assert again.practices.done_when.level == "error"
    assert gw.reads.count(("octo-org/app", "main")) == 2
