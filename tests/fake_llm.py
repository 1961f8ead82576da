"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol and
answers from a script: good replies, bad JSON, 429s, 500s, slow replies."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # a client closing a kept-alive connection
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


@dataclass
class Scripted:
    content: str | None = None  # the assistant message text
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # a raw body instead of a chat completion


class FakeLLM:
    def __init__(self):
        self.script: deque[Scripted] = deque()
        self.default: Scripted | None = None  # served when the script is empty
        # Or a function of the request payload, for concurrent clients whose order varies.
        self.responder = None
        self.requests: list[dict] = []
        self.request_times: list[float] = []
        self._lock = threading.Lock()
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeLLM:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def push(self, *items: Scripted | str) -> None:
        for item in items:
            self.script.append(item if isinstance(item, Scripted) else Scripted(content=item))

    def _next(self, payload: dict) -> Scripted:
        if self.responder is not None:
            return self.responder(payload)
        with self._lock:
            if self.script:
                return self.script.popleft()
        if self.default is not None:
            return self.default
        return Scripted(status=500, body='{"error": {"message": "script exhausted"}}')

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real endpoints do
            disable_nagle_algorithm = True  # headers and body go out at once, as real servers do

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(payload)
                    fake.request_times.append(time.monotonic())
                item = fake._next(payload)
                if item.delay:
                    time.sleep(item.delay)
                if item.body is not None:
                    body = item.body
                else:
                    body = json.dumps(
                        {
                            "id": "chatcmpl-test",
                            "object": "chat.completion",
                            "created": int(time.time()),
                            "model": payload.get("model", "fake"),
                            "choices": [
                                {"index": 0, "message": {"role": "assistant", "content": item.content}, "finish_reason": "stop"}
                            ],
                            "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
                        }
                    )
                data = body.encode("utf-8")
                try:
                    self.send_response(item.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in item.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

        return Handler


def judge_reply(rubric, verdicts: dict[str, str] | None = None, quotes: dict[str, list[str]] | None = None,
                misconceptions: list[dict] | None = None, default_verdict: str = "met") -> str:
    """A well-formed judge reply for `rubric`: verdict per criterion, with the given quotes."""
    verdicts = verdicts or {}
    quotes = quotes or {}
    return json.dumps(
        {
            "reasoning": "scripted",
            "criteria": [
                {
                    "id": c.id,
                    "reasoning": f"scripted {c.id}",
                    "evidence": quotes.get(c.id, []),
                    "verdict": verdicts.get(c.id, default_verdict),
                }
                for c in rubric.criteria
            ],
            "misconceptions": misconceptions or [],
            "feedback": {"missing": [], "fix": [], "follow_up": "scripted follow-up"},
        },
        ensure_ascii=False,
    )


def question_id_of(payload: dict) -> str:
    """The bank question a judge request is about (from the rendered prompt)."""
    import re

    m = re.search(r"^Question \(([a-z0-9-]+)\)", payload["messages"][1]["content"], re.M)
    return m.group(1) if m else ""
