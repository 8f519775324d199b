"""The dispatcher: POSTs due deliveries, signed, and records every attempt.

The process hosting WebhookService runs one (any number of replicas may: see
:mod:`chatdb_server.webhooks.delivery_queue`). Each pass claims a batch of due deliveries,
sends them concurrently with httpx and records each outcome: a 2xx answer ends the delivery,
anything else (another status, a refused target, a timeout, a connection error) schedules the
next attempt after an exponential backoff with jitter, until the last attempt allowed marks it
FAILED. Redirects are not followed and the response body is never read. The target rules are
checked again before every attempt. Secrets are opened only to sign and never logged.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from dataclasses import dataclass, field

import httpx

from chatdb_server.crypto import SecretBox
from chatdb_server.errors import InvalidArgument
from chatdb_server.log import get_logger
from chatdb_server.metadata.models import utcnow
from chatdb_server.resilience.background import cancel_and_wait
from chatdb_server.webhooks.delivery_queue import Claim, DeliveryQueue, Outcome
from chatdb_server.webhooks.records import DeliveryState
from chatdb_server.webhooks.retry import RetryPolicy
from chatdb_server.webhooks.signing import signed_headers
from chatdb_server.webhooks.targets import WebhookTargets

log = get_logger(__name__)

CLAIM_LEASE_MARGIN_S = 60.0
"""A claim outlives the request's timeout by this much before another dispatcher may retry the delivery."""


@dataclass(frozen=True)
class DispatchOptions:
    """Timing and limits of a dispatcher."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float = 10.0
    """Time a receiver gets to answer."""
    poll_s: float = 1.0
    """How often an idle dispatcher looks for due deliveries."""
    batch: int = 16
    """Deliveries one pass claims and sends at once."""


class WebhookDispatcher:
    """Delivers the outbox's events until stopped."""

    def __init__(self, queue: DeliveryQueue, targets: WebhookTargets, box: SecretBox,
                 options: DispatchOptions | None = None, worker_id: str | None = None) -> None:
        self._queue = queue
        self._targets = targets
        self._box = box
        self.options = options or DispatchOptions()
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Run passes in the background."""
        if self._task is not None:
            return
        self._task = asyncio.create_task(self._loop(), name="webhook-dispatcher")
        log.info("webhooks.dispatcher_started", worker=self.worker_id)

    async def stop(self) -> None:
        """Stop after the current pass's requests end or are cancelled; close the HTTP client."""
        task, self._task = self._task, None
        await cancel_and_wait(task)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def run_once(self) -> int:
        """Claim due deliveries and make one attempt at each; how many were attempted."""
        claims = await self._queue.claim(self.worker_id, self.options.batch,
                                         self.options.timeout_s + CLAIM_LEASE_MARGIN_S)
        await asyncio.gather(*(self._deliver(claim) for claim in claims))
        return len(claims)

    async def _loop(self) -> None:
        while True:
            try:
                attempted = await self.run_once()
            except Exception:  # the loop outlives any single failure (e.g. the store is down)
                log.exception("webhooks.dispatch_failed", worker=self.worker_id)
                attempted = 0
            if not attempted:
                await asyncio.sleep(self.options.poll_s)

    async def _deliver(self, claim: Claim) -> None:
        outcome = await self._attempt(claim)
        retry = self.options.retry
        if outcome.succeeded:
            state = DeliveryState.SUCCEEDED
        elif retry.gives_up_after(claim.attempt):
            state = DeliveryState.FAILED
        else:
            state = DeliveryState.PENDING
        delay = retry.delay(claim.attempt) if state is DeliveryState.PENDING else 0.0
        if not await self._queue.record(claim, outcome, state, delay):
            log.info("webhooks.delivery_lost", delivery=claim.delivery_id, attempt=claim.attempt)
            return
        log.info("webhooks.attempt", delivery=claim.delivery_id, event_id=claim.event_id, attempt=claim.attempt,
                 status=outcome.status_code, error=outcome.error, state=state.value,
                 retry_in_s=round(delay, 3) if delay else None)

    async def _attempt(self, claim: Claim) -> Outcome:
        started_at = utcnow()
        started = time.perf_counter()
        status, error = 0, ""
        try:
            await self._targets.check(claim.url, "url", must_resolve=True)
            body = claim.body.encode()
            headers = signed_headers(self._box.open(claim.secret_sealed), event_id=claim.event_id,
                                     event_type=claim.event_type, body=body, timestamp=int(time.time()),
                                     attempt=claim.attempt)
            async with self._http().stream("POST", claim.url, content=body, headers=headers) as response:
                status = response.status_code
            if not 200 <= status < 300:
                error = f"the receiver answered HTTP {status}"
        except InvalidArgument as refused:
            error = f"target refused: {refused.message}"
        except ValueError:
            error = "the webhook's secret cannot be opened with this server's keys"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
        return Outcome(status_code=status, error=error, duration_ms=(time.perf_counter() - started) * 1000,
                       time=started_at)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # No proxies from the environment: the target rules judge the address actually connected to.
            self._client = httpx.AsyncClient(timeout=self.options.timeout_s, follow_redirects=False, trust_env=False)
        return self._client
