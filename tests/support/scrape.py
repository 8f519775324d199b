"""Reading a server's Prometheus endpoint the way Prometheus does: over HTTP, with prometheus_client's
text parser."""

from __future__ import annotations

import asyncio
import socket
import time
import urllib.request
from collections.abc import Callable

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
"""(sample name, sorted labels) → value."""


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape(port: int) -> Samples:
    """Every sample the endpoint on ``port`` serves now."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample ``name`` with exactly ``labels``; 0 when absent (a counter not yet incremented)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much the sample changed between two scrapes."""
    return value(after, name, **labels) - value(before, name, **labels)


async def scrape_until(port: int, condition: str, check: Callable[[Samples], bool], deadline_s: float) -> Samples:
    """Scrape until ``check(samples)`` holds; the samples that satisfied it. AssertionError naming
    ``condition`` when it does not hold within ``deadline_s``."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        samples = await asyncio.to_thread(scrape, port)
        if check(samples):
            return samples
    raise AssertionError(f"{condition}: not seen on /metrics within {deadline_s:.0f} s")
