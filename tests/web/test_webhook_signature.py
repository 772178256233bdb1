"""X-Hub-Signature-256 verification, against GitHub's published test vector."""

import hashlib
import hmac

from bot.web import signature

# From GitHub's "Validating webhook deliveries" page.
SECRET = "It's a Secret to Everybody"
PAYLOAD = b"Hello, World!"
HEADER = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_github_test_vector_is_accepted():
    assert signature.sign(SECRET, PAYLOAD) == HEADER
    assert signature.verify((SECRET,), PAYLOAD, HEADER)


def test_wrong_secret_is_rejected():
    assert not signature.verify(("It's a Secret to Nobody",), PAYLOAD, HEADER)


def test_signature_over_another_body_is_rejected():
    assert not signature.verify((SECRET,), b"Hello, World?", HEADER)


def test_missing_or_empty_signature_is_rejected():
    assert not signature.verify((SECRET,), PAYLOAD, None)
    assert not signature.verify((SECRET,), PAYLOAD, "")
    assert not signature.verify((SECRET,), PAYLOAD, "sha256=")


def test_sha1_only_signature_is_rejected_even_when_valid():
    sha1 = "sha1=" + hmac.new(SECRET.encode(), PAYLOAD, hashlib.sha1).hexdigest()
    assert not signature.verify((SECRET,), PAYLOAD, sha1)


def test_tampered_digest_and_non_ascii_header_are_rejected():
    tampered = HEADER[:-1] + ("0" if HEADER[-1] != "0" else "1")
    assert not signature.verify((SECRET,), PAYLOAD, tampered)
    assert not signature.verify((SECRET,), PAYLOAD, "sha256=ü" + HEADER[8:])


def test_previous_secret_accepted_during_rotation():
    assert signature.verify(("new secret", SECRET), PAYLOAD, HEADER)
    assert not signature.verify(("new secret",), PAYLOAD, HEADER)


def test_delivery_headers_carry_githubs_signature_and_a_fresh_guid():
    first = signature.delivery_headers("pull_request", PAYLOAD, SECRET)
    again = signature.delivery_headers("pull_request", PAYLOAD, SECRET, first["X-GitHub-Delivery"])
    assert first["X-Hub-Signature-256"] == HEADER and first["X-GitHub-Event"] == "pull_request"
    assert again["X-GitHub-Delivery"] == first["X-GitHub-Delivery"]  # a redelivery's GUID
    assert (
        signature.delivery_headers("ping", PAYLOAD, SECRET)["X-GitHub-Delivery"]
        != (first["X-GitHub-Delivery"])
    )
    assert "User-Agent" not in first
    assert signature.delivery_headers("ping", b"", SECRET, agent="b")["User-Agent"] == (
        "GitHub-Hookshot/b"
    )
