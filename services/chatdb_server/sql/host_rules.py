"""Which network addresses a data source may live at: special addresses and the host allow-list.

Special addresses reach the ChatDB server itself or its cloud rather than a database
someone means to share: loopback, link-local, unspecified (``0.0.0.0`` reaches this machine),
multicast, and the cloud providers' metadata and control endpoints. IPv4 addresses written as
IPv6 (``::ffff:a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d``) are judged as the IPv4 address.

``CHATDB_ALLOWED_HOSTS`` is a comma-separated list of host names and addresses or CIDRs
(``db.internal, 10.0.0.0/8, 127.0.0.1, ::1``). Empty: every address but the special ones is
allowed. Not empty: only a listed name (every address it resolves to) or addresses within a
listed CIDR are, special ones included.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

CLOUD_METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean instance metadata
    "169.254.170.2",  # AWS ECS task metadata and credentials
    "169.254.170.23",  # AWS EKS pod identity
    "fd00:ec2::254",  # AWS instance metadata over IPv6
    "fd00:ec2::23",  # AWS EKS pod identity over IPv6
    "100.100.100.200",  # Alibaba Cloud metadata
    "168.63.129.16",  # Azure WireServer
    "192.0.0.192",  # Oracle Cloud Classic metadata
))
CLOUD_METADATA_NAMES = frozenset({
    "metadata.google.internal", "metadata.goog", "metadata",  # GCP (and the bare name its resolvers answer)
    "instance-data", "instance-data.ec2.internal",  # AWS
    "metadata.azure.com", "metadata.tencentyun.com",  # Azure, Tencent Cloud
})
"""Names of cloud metadata endpoints: special by name, whatever (if anything) they resolve to here."""
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$")


def parse_address(text: str) -> IPAddress | None:
    """The address ``text`` names (brackets and an IPv6 zone dropped), or None when it is a name."""
    try:
        return ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def as_ipv4(address: IPAddress) -> IPAddress:
    """An IPv4 address written as IPv6 (mapped or NAT64), as the IPv4 address; others unchanged."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def special_kind(address: IPAddress) -> str | None:
    """What makes ``address`` special ("cloud metadata", "loopback", ...), or None for an ordinary one."""
    address = as_ipv4(address)
    if address in CLOUD_METADATA_ADDRESSES:
        return "cloud metadata"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified or (isinstance(address, ipaddress.IPv4Address) and address in _THIS_NETWORK):
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    return None


def normalise_host(host: str) -> str:
    """A host name as compared: lower case, no trailing dot, no IPv6 brackets."""
    return host.strip().strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class HostAllowList:
    """The operator's ``allowed_hosts``: names and networks."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, raw: str) -> HostAllowList:
        """Read the comma-separated setting; ValueError naming a malformed entry."""
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in (normalise_host(e) for e in raw.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            if not _HOST_NAME.match(entry):
                raise ValueError(f"CHATDB_ALLOWED_HOSTS: {entry!r} is neither a host name, an address nor a CIDR")
            names.add(entry)
        return cls(frozenset(names), tuple(networks))

    @property
    def empty(self) -> bool:
        """Whether the operator listed nothing (every ordinary address is allowed)."""
        return not self.names and not self.networks

    def lists(self, host: str, address: IPAddress) -> bool:
        """Whether the list names ``host`` or has a network holding ``address``."""
        if normalise_host(host) in self.names:
            return True
        candidates = {address, as_ipv4(address)}
        return any(a.version == n.version and a in n for a in candidates for n in self.networks)

    def admits(self, host: str, address: IPAddress) -> bool:
        """Whether a connection to ``host`` at ``address`` is allowed."""
        if self.empty:
            return special_kind(address) is None
        return self.lists(host, address)


NO_HOST_LIMITS = HostAllowList()
"""An empty allow-list: every ordinary address, no special one."""
