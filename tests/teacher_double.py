"""A teacher over the OpenAI chat API (a local HTTP server) that solves number-multiply questions with code.

It writes a short plan and a python block; once the request carries the "Code Execution Results:"
of that block, it answers with what the code printed. Questions whose product is divisible by
`wrong_every` get a wrong answer (to test rejection). `fail_with` makes every request fail with an
HTTP status (401, 429 ...), `delay_s` slows every reply (to interrupt a build in the middle).
"""

from __future__ import annotations

import re
import time

from tests.json_server import JSONServer

RESULT = "Code Execution Results:"


class SolverTeacher:
    def __init__(self, wrong_every: int = 3, delay_s: float = 0.0) -> None:
        self.wrong_every, self.delay_s = wrong_every, delay_s
        self.fail_with: int | None = None
        self.requests = 0
        self.http = JSONServer(self._serve)
        self.base_url = self.http.base_url

    def close(self) -> None:
        self.http.close()

    def reply(self, messages: list[dict]) -> str:
        question = next(m["content"] for m in messages if m["role"] == "user")
        factors = [int(x) for x in re.search(r"result of ([\d*\s-]+)\?", question).group(1).split("*")]
        last = messages[-1]
        if last["role"] == "user" and last["content"].startswith(RESULT):
            printed = int(last["content"][len(RESULT) :].strip().split()[0])
            wrong = printed % self.wrong_every == 0
            return f"The product is {printed + wrong}.\n<<<{printed + wrong}>>>"
        return f"I multiply the numbers with code.\n```python\nprint({'*'.join(map(str, factors))})\n```\n"

    def _serve(self, path: str, body: dict) -> tuple[int, dict]:
        self.requests += 1
        time.sleep(self.delay_s)
        if self.fail_with:
            return self.fail_with, {"error": {"message": "refused by the test", "type": "test"}}
        text = self.reply(body["messages"])
        for stop in body.get("stop") or []:
            text = text.split(stop)[0]
        message = {"role": "assistant", "content": text}
        usage = {"prompt_tokens": 10, "completion_tokens": len(text.split()), "total_tokens": 10}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return 200, {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                     "choices": [choice], "usage": usage}  # fmt: skip
