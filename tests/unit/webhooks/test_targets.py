"""Which URLs a webhook may target: the special-address rules of data sources, applied to URLs.

Names are resolved by the system resolver (``localhost`` is this machine; ``.invalid`` never resolves)."""

from __future__ import annotations

import pytest

from chatdb_server.errors import InvalidArgument
from chatdb_server.webhooks.targets import WebhookTargets

OPEN = WebhookTargets.parse("")


@pytest.mark.parametrize("url", [
    "http://10.0.0.5/hook", "https://192.168.1.20:8443/events?x=1", "http://[2001:db8::1]/hook",
    "https://hooks.no-such-host.invalid/unresolvable-yet",
], ids=["private-v4", "private-with-port", "v6", "unresolvable-at-create"])
async def test_ordinary_targets_are_accepted(url: str) -> None:
    assert await OPEN.check(url) == url


@pytest.mark.parametrize(("url", "says"), [
    ("http://169.254.169.254/latest", "cloud metadata"), ("http://169.254.1.1/", "link-local"),
    ("http://[fe80::1%25eth0]/", "link-local"), ("http://[fd00:ec2::254]/", "cloud metadata"),
    ("http://[::ffff:169.254.169.254]/", "cloud metadata"), ("http://127.0.0.1:8080/", "loopback"),
    ("http://localhost/", "loopback"), ("http://0.0.0.0/", "unspecified"),
    ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata endpoint"),
    ("http://METADATA.GOOGLE.INTERNAL./", "cloud metadata endpoint"),
    ("gopher://10.0.0.5/", "http or https"), ("http://user:pw@10.0.0.5/", "credentials"),
    ("http://10.0.0.5:99999/", "not a URL"), ("http://10.0.0.5/a b", "no spaces"), ("", "required"),
    ("http://", "must name a host"), ("https://10.0.0.5/" + "a" * 3000, "at most"),
], ids=["aws", "link-local", "v6-link-local", "aws-v6", "mapped", "loopback", "localhost", "unspecified",
        "gcp-name", "gcp-name-case", "scheme", "credentials", "port", "space", "empty", "no-host", "long"])
async def test_refused_targets_name_the_field_and_the_rule(url: str, says: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await OPEN.check(url)
    assert refused.value.violations[0].field == "webhook.url"
    assert says in refused.value.message


async def test_the_operator_may_allow_special_targets_by_name_address_or_network() -> None:
    allowed = WebhookTargets.parse("metadata.google.internal, 169.254.169.254, fe80::/10, localhost")
    for url in ("http://metadata.google.internal/", "http://169.254.169.254/", "http://[fe80::5]/",
                "http://localhost:9/"):
        assert await allowed.check(url) == url
    with pytest.raises(InvalidArgument):
        await allowed.check("http://169.254.170.2/")  # another metadata address, not listed


async def test_before_an_attempt_the_host_must_resolve() -> None:
    with pytest.raises(InvalidArgument, match="cannot resolve"):
        await OPEN.check("https://hooks.no-such-host.invalid/", "url", must_resolve=True)


def test_a_malformed_allow_list_names_the_setting() -> None:
    with pytest.raises(ValueError, match="CHATDB_WEBHOOK_ALLOWED_HOSTS"):
        WebhookTargets.parse("not a host!")
