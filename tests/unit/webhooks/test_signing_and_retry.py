"""The signature a receiver checks and the backoff between attempts."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from chatdb_server.webhooks.retry import RetryPolicy
from chatdb_server.webhooks.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    new_secret,
    signature,
    signed_headers,
    verify,
)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"id":"evt_1","type":"training_job.succeeded"}'
    expected = hmac.new(b"whsec_test", b"1767000000." + body, hashlib.sha256).hexdigest()
    assert signature("whsec_test", 1767000000, body) == f"sha256={expected}"


def test_headers_sign_the_body_and_verify_refuses_any_change() -> None:
    secret = new_secret()
    body = b'{"a":1}'
    headers = signed_headers(secret, event_id="evt_1", event_type="schema.drift_detected", body=body,
                             timestamp=1767000000, attempt=2)
    assert headers["ChatDB-Event-Id"] == "evt_1" and headers["ChatDB-Delivery-Attempt"] == "2"
    assert verify(secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert not verify(secret, headers[TIMESTAMP_HEADER], b'{"a":2}', headers[SIGNATURE_HEADER])
    assert not verify(secret, "1767000001", body, headers[SIGNATURE_HEADER])
    assert not verify(new_secret(), headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert not verify(secret, "not-a-number", body, headers[SIGNATURE_HEADER])


def test_secrets_are_fresh_and_long() -> None:
    secrets = {new_secret() for _ in range(100)}
    assert len(secrets) == 100
    assert all(s.startswith("whsec_") and len(s) >= 6 + 43 for s in secrets)


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(max_attempts=5, base_s=10.0, max_s=60.0)
    assert [policy.ceiling(n) for n in range(1, 6)] == [10.0, 20.0, 40.0, 60.0, 60.0]
    assert [policy.delay(n, rand=lambda: 0.0) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]
    assert [policy.delay(n, rand=lambda: 0.999999) for n in (1, 4)] == pytest.approx([10.0, 60.0])
    assert all(5.0 <= policy.delay(1) <= 10.0 for _ in range(200))
    assert [policy.gives_up_after(n) for n in (1, 4, 5, 6)] == [False, False, True, True]
    assert policy.ceiling(10_000) == 60.0  # no overflow however many attempts


@pytest.mark.parametrize("bad", [{"max_attempts": 0}, {"base_s": -1.0}, {"max_s": -1.0}],
                         ids=["no-attempts", "negative-base", "negative-cap"])
def test_a_policy_that_cannot_work_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**bad)  # type: ignore[arg-type]
