"""Where a webhook may POST: the same special-address rules that keep data sources off ChatDB's own host and
its cloud (``chatdb_server.sql.host_rules``), applied to URLs.

A URL must be ``http`` or ``https`` with a host and no credentials. A host that is, or resolves to, a
loopback, link-local, unspecified, multicast or cloud-metadata address (169.254.169.254, fd00:ec2::254, ...),
or is a cloud metadata name (metadata.google.internal, ...), is refused with INVALID_ARGUMENT unless
``CHATDB_WEBHOOK_ALLOWED_HOSTS`` lists it (by name, address or CIDR). Every other address is allowed:
receivers usually live on private networks.

The check runs when a webhook is created and again before every attempt (a name may resolve elsewhere
by then). A name that does not resolve at creation is accepted; an attempt to it fails and is retried.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from chatdb_server.errors import InvalidArgument
from chatdb_server.sql.admission import Resolver, resolve_host
from chatdb_server.sql.host_rules import (
    CLOUD_METADATA_NAMES,
    NO_HOST_LIMITS,
    HostAllowList,
    IPAddress,
    normalise_host,
    parse_address,
    special_kind,
)

URL_FIELD = "webhook.url"
MAX_URL_CHARS = 2048
ALLOW_SETTING = "CHATDB_WEBHOOK_ALLOWED_HOSTS"


class WebhookTargets:
    """The target rules of one process, from its settings."""

    def __init__(self, allowed: HostAllowList = NO_HOST_LIMITS, resolver: Resolver = resolve_host) -> None:
        self._allowed = allowed
        self._resolve = resolver

    @classmethod
    def parse(cls, allowed_hosts: str, resolver: Resolver = resolve_host) -> WebhookTargets:
        """The rules of ``CHATDB_WEBHOOK_ALLOWED_HOSTS``; ValueError for a malformed entry."""
        try:
            allowed = HostAllowList.parse(allowed_hosts)
        except ValueError as error:
            raise ValueError(str(error).replace("CHATDB_ALLOWED_HOSTS", ALLOW_SETTING)) from None
        return cls(allowed, resolver)

    async def check(self, url: str, field: str = URL_FIELD, *, must_resolve: bool = False) -> str:
        """``url`` when ChatDB may POST to it; InvalidArgument naming ``field`` otherwise. With ``must_resolve``
        (before an attempt) a host that does not resolve is refused too."""
        host, port = _host_and_port(url, field)
        if host in CLOUD_METADATA_NAMES and host not in self._allowed.names:
            raise InvalidArgument(field, f"host {host!r} is a cloud metadata endpoint; webhooks may target it only "
                                         f"when {ALLOW_SETTING} lists it")
        for address in await self._addresses(host, port, field, must_resolve):
            kind = special_kind(address)
            if kind is not None and not self._allowed.lists(host, address):
                raise InvalidArgument(field, f"host {host!r} is (or resolves to) a {kind} address; webhooks may "
                                             f"target it only when {ALLOW_SETTING} lists it")
        return url

    async def _addresses(self, host: str, port: int, field: str, must_resolve: bool) -> list[IPAddress]:
        literal = parse_address(host)
        if literal is not None:
            return [literal]
        try:
            found = [parse_address(a) for a in await self._resolve(host, port)]
        except OSError as error:
            if must_resolve:
                raise InvalidArgument(field, f"cannot resolve host {host!r}: {error.strerror or error}") from None
            return []
        return [a for a in found if a is not None]


def _host_and_port(url: str, field: str) -> tuple[str, int]:
    if not url.strip():
        raise InvalidArgument(field, "is required: an http or https URL")
    if len(url) > MAX_URL_CHARS or any(c.isspace() or ord(c) < 32 for c in url):
        raise InvalidArgument(field, f"must be one http(s) URL of at most {MAX_URL_CHARS} characters, no spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidArgument(field, f"is not a URL: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidArgument(field, "must be an http or https URL")
    if parts.username is not None or parts.password is not None:
        raise InvalidArgument(field, "must not carry credentials; receivers verify the signature instead")
    host = normalise_host(parts.hostname or "")
    if not host:
        raise InvalidArgument(field, "must name a host")
    return host, port or (443 if parts.scheme == "https" else 80)
