"""Benchmark the episode loop's scheduling on a batch of rollouts; prints one JSON line.

    python benchmarks/rollouts.py [--rollouts 16] [--seed 0]

Rollouts talk to a fake OpenAI-compatible chat server (every request answers after a fixed
latency) through `OpenAIGenerator`, and their snippets really run in the local sandbox. Each
question names the sleep of each code call; the server writes a python block that sleeps that long
and prints the call's number, then the answer once every result is back. Every scenario checks
that each rollout answered with all its results before its time counts.

(a) Latency 1 s, 2 code calls per rollout, asynchronous episodes: `sleeping_wall_s` (every call
    sleeps 0.5 s) vs `nonsleeping_wall_s` (no sleep); baselines with the sleeping code:
    `sequential_wall_s` runs generation batched per round but the snippets one rollout after
    another (TRL's built-in tool loop), `one_at_a_time_wall_s` runs whole rollouts one after
    another. Targets: sleeping within 1.5x of non-sleeping, and >= 8x faster than one at a time.
    (With each rollout's own calls in sequence, sleeping <= 1.5x non-sleeping needs the
    non-sleeping time to be at least the sleep per rollout; then TRL's loop can be at most ~6x
    slower, so the 8x target is read against whole rollouts one at a time.)
(b) Latency 0.1 s, 4 code calls per rollout, round-based vs asynchronous: `round_wall_s` /
    `async_wall_s` when every rollout runs the same mix of durations spread over 0.1-2 s in its own
    seeded order (target: async <= 0.6x rounds); `iid_round_wall_s` / `iid_async_wall_s` when
    every call draws its duration independently, uniformly in 0.1-2 s (seeded): async is then
    bounded below by the slowest rollout's own total, so the gain is smaller.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from code_interpreter.episode import EpisodeRunner  # noqa: E402
from code_interpreter.generation import OpenAIGenerator  # noqa: E402
from code_interpreter.protocol import ProtocolConfig  # noqa: E402
from code_interpreter.sandboxes import get_sandbox  # noqa: E402
from code_interpreter.sandboxes.base import ExecutionResult, Sandbox  # noqa: E402

RESULT = "Code Execution Results:"


class LatencyServer:
    """/v1/chat/completions that answers after `latency` seconds; the question lists the sleeps."""

    def __init__(self) -> None:
        self.latency = 0.0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @staticmethod
    def reply(messages: list[dict]) -> str:
        question = next(m["content"] for m in messages if m["role"] == "user")
        sleeps = json.loads(re.search(r"SLEEPS=(\[.*?\])", question).group(1))
        done = sum(1 for m in messages if m["role"] == "user" and m["content"].startswith(RESULT))
        if done < len(sleeps):
            body = f"import time\ntime.sleep({sleeps[done]})\nprint({done})" if sleeps[done] else f"print({done})"
            return f"Call {done}.\n```python\n{body}\n```\n"
        return f"All {done} results are in. <<<{done}>>>"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(fake.latency)
                text = fake.reply(body["messages"])
                for stop in body.get("stop") or []:
                    text = text.split(stop)[0]
                choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                usage = {"prompt_tokens": 10, "completion_tokens": len(text.split()), "total_tokens": 10}
                data = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                                   "choices": [choice], "usage": usage}).encode()  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SnippetsOneRolloutAtATime(Sandbox):
    """A round's snippets run one after another, as TRL's built-in tool loop runs tools."""

    name = "sequential"

    def __init__(self, inner: Sandbox) -> None:
        self.inner = inner

    async def arun(self, code: str, timeout: float = 60.0) -> ExecutionResult:
        return await self.inner.arun(code, timeout=timeout)

    async def arun_many(self, codes: Sequence[str], timeout: float = 60.0) -> list[ExecutionResult]:
        return [await self.inner.arun(c, timeout=timeout) for c in codes]


def questions(plans: list[list[float]]) -> list[str]:
    return [f"Rollout {i}: SLEEPS={json.dumps(p)}" for i, p in enumerate(plans)]


def timed(runner: EpisodeRunner, plans: list[list[float]], one_at_a_time: bool = False) -> float:
    qs = questions(plans)
    t0 = time.perf_counter()
    episodes = [ep for q in qs for ep in runner.run([q])] if one_at_a_time else runner.run(qs)
    wall = time.perf_counter() - t0
    for ep, plan in zip(episodes, plans, strict=True):
        results = [s.execution for s in ep.segments if s.role == "interpreter"]
        if ep.answer != str(len(plan)) or [r["stdout"] for r in results] != [f"{k}\n" for k in range(len(plan))]:
            raise RuntimeError(f"a rollout went wrong ({ep.finish_reason}, {ep.error}): {ep.completion[-300:]}")
    return round(wall, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rollouts", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n, rng = args.rollouts, random.Random(args.seed)

    server = LatencyServer()
    generator = OpenAIGenerator("fake", base_url=server.base_url, api_key="k", mode="chat", max_concurrency=n)
    protocol = ProtocolConfig(timeout_s=10.0)
    out: dict = {"rollouts": n, "seed": args.seed}
    with get_sandbox("local") as sandbox:
        sandbox.run("print(1)", timeout=30)  # start the worker outside the timings

        def runner(mode: str, sb: Sandbox = sandbox) -> EpisodeRunner:
            return EpisodeRunner(generator, sb, protocol, max_new_tokens=4096, mode=mode)

        # (a) sleeping vs non-sleeping code, and the sequential baselines
        server.latency = 1.0
        sleeping, awake = [[0.5, 0.5]] * n, [[0, 0]] * n
        out["latency_a_s"] = server.latency
        out["nonsleeping_wall_s"] = timed(runner("async"), awake)
        out["sleeping_wall_s"] = timed(runner("async"), sleeping)
        out["sequential_wall_s"] = timed(runner("rounds", SnippetsOneRolloutAtATime(sandbox)), sleeping)
        out["one_at_a_time_wall_s"] = timed(runner("rounds"), sleeping, one_at_a_time=True)
        out["sleeping_vs_nonsleeping"] = round(out["sleeping_wall_s"] / out["nonsleeping_wall_s"], 3)
        out["sequential_vs_sleeping"] = round(out["sequential_wall_s"] / out["sleeping_wall_s"], 2)
        out["one_at_a_time_vs_sleeping"] = round(out["one_at_a_time_wall_s"] / out["sleeping_wall_s"], 2)

        # (b) mixed durations: round-based vs asynchronous
        server.latency = 0.1
        out["latency_b_s"] = server.latency
        mix = [0.1, 0.7, 1.3, 2.0]
        shuffled = [rng.sample(mix, len(mix)) for _ in range(n)]
        iid = [[round(rng.uniform(0.1, 2.0), 2) for _ in mix] for _ in range(n)]
        out["round_wall_s"] = timed(runner("rounds"), shuffled)
        out["async_wall_s"] = timed(runner("async"), shuffled)
        out["async_vs_round"] = round(out["async_wall_s"] / out["round_wall_s"], 3)
        out["iid_round_wall_s"] = timed(runner("rounds"), iid)
        out["iid_async_wall_s"] = timed(runner("async"), iid)
        out["iid_async_vs_round"] = round(out["iid_async_wall_s"] / out["iid_round_wall_s"], 3)
        out["isolation"] = sandbox.isolation
    server.close()
    out["targets_met"] = {
        "sleeping_within_1.5x": out["sleeping_vs_nonsleeping"] <= 1.5,
        "8x_faster_than_one_at_a_time": out["one_at_a_time_vs_sleeping"] >= 8,
        "async_at_most_0.6x_rounds": out["async_vs_round"] <= 0.6,
    }
    out |= {"cores": os.cpu_count(), "python": platform.python_version()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
