"""Client certificates (mTLS) as principals: a certificate's subject or SAN maps to a tenant and roles.

The mapping is a JSON file an operator writes, keyed by a certificate name (the subject's
common name, a DNS or URI SAN such as ``spiffe://chatdb/query``)::

    {"reporting.acme.internal": {"tenant": "acme", "roles": ["asker"], "data_sources": ["shop"]},
     "spiffe://chatdb/query": {"tenant": "default", "roles": ["operator"], "service": true}}

A certificate that verifies against the client CA but is not in the mapping is UNAUTHENTICATED:
being signed by the CA proves who a caller is, not what it may do.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from chatdb_server.access.permissions import parse_roles
from chatdb_server.access.principal import CredentialKind, Principal


class CertificatePrincipals:
    """The principals of known client-certificate names."""

    def __init__(self, entries: Mapping[str, Mapping[str, Any]]) -> None:
        self._principals: dict[str, Principal] = {}
        for name, entry in entries.items():
            sources = entry.get("data_sources")
            self._principals[name] = Principal(
                subject=f"certificate:{name}", tenant=str(entry["tenant"]),
                roles=parse_roles(list(entry.get("roles", [])), f"{name}.roles"),
                kind=CredentialKind.SERVICE if entry.get("service") else CredentialKind.CERTIFICATE,
                data_sources=frozenset(sources) if sources else None,
                attributes={str(k): str(v) for k, v in dict(entry.get("attributes", {})).items()})

    @classmethod
    def from_file(cls, path: str) -> CertificatePrincipals:
        """The mapping in ``path``; an empty mapping when no path is set."""
        return cls(json.loads(Path(path).read_text()) if path else {})

    def principal(self, names: Iterable[str]) -> Principal | None:
        """The principal of the first known name among a certificate's names."""
        return next((self._principals[n] for n in names if n in self._principals), None)
