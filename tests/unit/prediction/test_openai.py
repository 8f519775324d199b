"""OpenAIGenerator against a real HTTP server on a loopback port speaking /v1/chat/completions."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chatdb_server.errors import FailedPrecondition, NotFound, Unavailable
from chatdb_server.prediction.openai_backend import UNKNOWN_CONFIDENCE, OpenAIGenerator
from chatdb_server.settings import Settings
from tests.unit.prediction.prediction_fixtures import request


class ChatServer:
    """A minimal OpenAI-compatible server: records requests, answers with a scripted reply."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.status = 200
        self.reply: dict[str, Any] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, **body})
                server.headers.append(dict(self.headers))
                payload = json.dumps(server.reply if server.status == 200 else {"error": "no"}).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[ChatServer]:
    running = ChatServer()
    yield running
    running.close()


def generator(server: ChatServer, key: str = "sk-test-secret") -> OpenAIGenerator:
    return OpenAIGenerator(Settings(openai_base_url=server.url, openai_model="sql-coder", openai_api_key=key))


def choice(content: str, logprobs: list[float] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": content},
                             "finish_reason": "stop"}
    if logprobs is not None:
        entry["logprobs"] = {"content": [{"token": "x", "logprob": lp} for lp in logprobs]}
    return entry


async def test_candidates_with_confidences_from_logprobs(server: ChatServer) -> None:
    server.reply = {"choices": [choice("```sql\nSELECT COUNT(*) FROM singer;\n```", [-0.1, -0.3]),
                                choice("SELECT name FROM singer", [-1.0, -2.0]),
                                choice("SELECT COUNT(*) FROM singer", [-2.0])],
                    "usage": {"prompt_tokens": 120, "completion_tokens": 17}}
    result = await generator(server).generate(request(candidate_count=3, constrained=True))
    assert [c.sql for c in result.candidates] == ["SELECT COUNT(*) FROM singer", "SELECT name FROM singer"]
    assert result.candidates[0].confidence == pytest.approx(math.exp(-0.2))
    assert result.candidates[1].confidence == pytest.approx(math.exp(-1.5))
    assert (result.model, result.backend, result.prompt_tokens, result.completion_tokens) == (
        "models/sql-coder", "openai", 120, 17)
    sent = server.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["model"] == "sql-coder"
    assert sent["n"] == 3 and sent["logprobs"] is True
    assert sent["messages"][0]["role"] == "system" and "How many singers" in sent["messages"][-1]["content"]
    assert "root ::= " in sent["structured_outputs"]["grammar"]
    assert server.headers[0]["Authorization"] == "Bearer sk-test-secret"


async def test_without_logprobs_the_confidence_says_it_does_not_know(server: ChatServer) -> None:
    server.reply = {"choices": [choice("SELECT 1", None)]}
    result = await generator(server, key="").generate(request())
    assert result.candidates[0].confidence == UNKNOWN_CONFIDENCE
    assert "no token probabilities" in result.candidates[0].explanation
    assert "Authorization" not in server.headers[0] and "structured_outputs" not in server.requests[0]


async def test_a_reply_without_sql_is_no_answer(server: ChatServer) -> None:
    server.reply = {"choices": [choice("", [-1.0])]}
    with pytest.raises(FailedPrecondition) as caught:
        await generator(server).generate(request())
    assert caught.value.reason == "NO_ANSWER"


@pytest.mark.parametrize(("status", "error", "text"), [
    (401, FailedPrecondition, "API key"), (404, FailedPrecondition, "does not serve"),
    (503, Unavailable, "HTTP 503"),
])
async def test_http_errors_become_clear_statuses_without_the_key(server: ChatServer, status: int,
                                                                 error: type[Exception], text: str) -> None:
    server.status = status
    with pytest.raises(error, match=text) as caught:
        await generator(server).generate(request())
    assert "sk-test-secret" not in str(caught.value)


async def test_an_unreachable_endpoint_is_unavailable(server: ChatServer) -> None:
    url = server.url
    server.close()
    unreachable = OpenAIGenerator(Settings(openai_base_url=url, openai_model="m"), timeout_s=2)
    with pytest.raises(Unavailable) as caught:
        await unreachable.generate(request())
    assert caught.value.reason == "BACKEND_UNAVAILABLE"


async def test_other_model_names_are_unknown(server: ChatServer) -> None:
    with pytest.raises(NotFound):
        await generator(server).generate(request(model="models/other"))
    assert server.requests == []
