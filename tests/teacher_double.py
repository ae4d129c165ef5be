"""A teacher over the OpenAI chat API (a local HTTP server) that solves number-multiply questions with code.

It writes a short plan and a python block; once the request carries the "Code Execution Results:"
of that block, it answers with what the code printed. Questions whose product is divisible by
`wrong_every` get a wrong answer (to test rejection). `fail_with` makes every request fail with an
HTTP status (401, 429 ...), `delay_s` slows every reply (to interrupt a build in the middle).
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESULT = "Code Execution Results:"


class SolverTeacher:
    def __init__(self, wrong_every: int = 3, delay_s: float = 0.0) -> None:
        self.wrong_every, self.delay_s = wrong_every, delay_s
        self.fail_with: int | None = None
        self.requests = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reply(self, messages: list[dict]) -> str:
        question = next(m["content"] for m in messages if m["role"] == "user")
        factors = [int(x) for x in re.search(r"result of ([\d*\s-]+)\?", question).group(1).split("*")]
        last = messages[-1]
        if last["role"] == "user" and last["content"].startswith(RESULT):
            printed = int(last["content"][len(RESULT) :].strip().split()[0])
            wrong = printed % self.wrong_every == 0
            return f"The product is {printed + wrong}.\n<<<{printed + wrong}>>>"
        return f"I multiply the numbers with code.\n```python\nprint({'*'.join(map(str, factors))})\n```\n"

    def _handler(self):
        teacher = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                teacher.requests += 1
                time.sleep(teacher.delay_s)
                if teacher.fail_with:
                    self._send(teacher.fail_with, {"error": {"message": "refused by the test", "type": "test"}})
                    return
                text = teacher.reply(body["messages"])
                for stop in body.get("stop") or []:
                    text = text.split(stop)[0]
                message = {"role": "assistant", "content": text}
                usage = {"prompt_tokens": 10, "completion_tokens": len(text.split()), "total_tokens": 10}
                choice = {"index": 0, "message": message, "finish_reason": "stop"}
                self._send(200, {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                                 "choices": [choice], "usage": usage})  # fmt: skip

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler
