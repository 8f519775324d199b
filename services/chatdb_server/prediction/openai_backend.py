"""The openai backend: an external OpenAI-compatible endpoint (e.g. a separately deployed ``vllm serve``).

Same prompts and SQL extraction as the in-process engine. Speaks ``POST
{base_url}/chat/completions`` with the standard library's HTTP client, so the base
install gains no dependency. Candidates come from ``n`` choices; confidences from
the token log-probabilities when the server returns them. Schema-constrained
decoding is passed as vLLM's ``structured_outputs`` grammar, which vLLM servers honour.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import urllib.error
import urllib.request
from typing import Any

from chatdb_server.errors import FailedPrecondition, NotFound, Unavailable
from chatdb_server.generation.interface import GenerationRequest, GenerationResult, SqlCandidate
from chatdb_server.generation.prompts import build_messages, extract_sql
from chatdb_server.log import get_logger
from chatdb_server.prediction.grammar import build_select_grammar
from chatdb_server.settings import Settings

log = get_logger(__name__)

DEFAULT_MAX_TOKENS = 256
UNKNOWN_CONFIDENCE = 0.5
"""Confidence reported when the server gives no log-probabilities: neither sure nor unsure."""


class OpenAIGenerator:
    """SqlGenerator over an OpenAI-compatible chat-completions endpoint."""

    name = "openai"

    def __init__(self, settings: Settings, *, timeout_s: float | None = None) -> None:
        if not settings.openai_base_url or not settings.openai_model:
            raise FailedPrecondition("the openai backend needs CHATDB_OPENAI_BASE_URL and CHATDB_OPENAI_MODEL",
                                     "BACKEND_UNAVAILABLE", {"backend": "openai"})
        self.base_url = settings.openai_base_url.rstrip("/")
        self.remote_model = settings.openai_model
        self.model_name = f"models/{settings.openai_model}"
        self._api_key = settings.openai_api_key
        self._timeout_s = timeout_s or settings.rpc_deadline_s

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        """Candidates from the endpoint's model."""
        if request.model and request.model != self.model_name:
            raise NotFound(request.model, "model", reason="UNKNOWN_MODEL")
        body = self._body(request)
        started = time.perf_counter()
        reply = await asyncio.to_thread(self._post, body)
        candidates = _candidates(reply.get("choices") or [])
        usage = reply.get("usage") or {}
        return GenerationResult(candidates=candidates, model=self.model_name, backend=self.name,
                                generation_seconds=time.perf_counter() - started,
                                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                                completion_tokens=int(usage.get("completion_tokens") or 0))

    def _body(self, request: GenerationRequest) -> dict[str, Any]:
        sampling = request.sampling
        body: dict[str, Any] = {
            "model": self.remote_model, "messages": build_messages(request), "n": max(1, request.candidate_count),
            "temperature": sampling.temperature, "max_tokens": sampling.max_tokens or DEFAULT_MAX_TOKENS,
            "logprobs": True,
        }
        if sampling.top_p:
            body["top_p"] = sampling.top_p
        if sampling.seed:
            body["seed"] = sampling.seed
        if request.constrained:
            body["structured_outputs"] = {"grammar": build_select_grammar(request.schema, request.dialect).to_ebnf()}
        return body

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        http_request = urllib.request.Request(f"{self.base_url}/chat/completions", data=json.dumps(body).encode(),
                                              headers=headers, method="POST")
        try:
            with urllib.request.urlopen(http_request, timeout=self._timeout_s) as response:
                reply = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise _http_error(exc.code, self.remote_model) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise Unavailable(f"the OpenAI-compatible endpoint is unreachable: {reason}",
                              "BACKEND_UNAVAILABLE", {"backend": "openai"}) from exc
        except json.JSONDecodeError as exc:
            raise Unavailable("the OpenAI-compatible endpoint returned something other than JSON",
                              "BACKEND_UNAVAILABLE", {"backend": "openai"}) from exc
        if not isinstance(reply, dict):
            raise Unavailable("the OpenAI-compatible endpoint returned an unexpected reply",
                              "BACKEND_UNAVAILABLE", {"backend": "openai"})
        return reply


def _http_error(status: int, model: str) -> Exception:
    if status in (401, 403):
        return FailedPrecondition("the OpenAI-compatible endpoint rejected the API key (CHATDB_OPENAI_API_KEY)",
                                  "BACKEND_UNAVAILABLE", {"backend": "openai", "http_status": str(status)})
    if status == 404:
        return FailedPrecondition(f"the OpenAI-compatible endpoint does not serve model {model!r}",
                                  "BACKEND_UNAVAILABLE", {"backend": "openai", "http_status": "404"})
    return Unavailable(f"the OpenAI-compatible endpoint answered HTTP {status}", "BACKEND_UNAVAILABLE",
                       {"backend": "openai", "http_status": str(status)})


def _candidates(choices: list[dict[str, Any]]) -> list[SqlCandidate]:
    best: dict[str, SqlCandidate] = {}
    for choice in choices:
        content = (choice.get("message") or {}).get("content") or ""
        sql = extract_sql(content)
        if not sql:
            continue
        tokens = ((choice.get("logprobs") or {}).get("content")) or []
        logprobs = [float(t["logprob"]) for t in tokens if isinstance(t, dict) and "logprob" in t]
        if logprobs:
            confidence = min(1.0, max(0.0, math.exp(sum(logprobs) / len(logprobs))))
            explanation = f"written by the model; mean token probability {confidence:.2f}"
        else:
            confidence = UNKNOWN_CONFIDENCE
            explanation = "written by the model; the endpoint returned no token probabilities"
        if sql not in best or best[sql].confidence < confidence:
            best[sql] = SqlCandidate(sql=sql, confidence=confidence, explanation=explanation)
    if not best:
        raise FailedPrecondition("the model's reply held no SQL", "NO_ANSWER")
    return sorted(best.values(), key=lambda c: c.confidence, reverse=True)
