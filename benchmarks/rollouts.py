"""Benchmark the episode loop's scheduling on a batch of rollouts; prints one JSON line.

    python benchmarks/rollouts.py [--rollouts 16] [--calls 4] [--seed 0]

Rollouts talk to a fake OpenAI-compatible chat server (every request answers after a fixed
latency L, however many are in flight) through `OpenAIGenerator`, and their snippets really run in
the local sandbox. Each question names the sleep of each code call; the server writes a python
block that sleeps that long and prints the call's number, then the answer once every result is
back. Every scenario checks that each rollout answered with all its results before its time counts.
`floors_s` gives each scenario's critical path (requests and sleeps that must follow one another),
which no scheduler can beat; the measured walls sit a little above them.

(a) L = 1 s, 2 code calls per rollout, asynchronous episodes: `sleeping_wall_s` (every call sleeps
    0.5 s) vs `nonsleeping_wall_s` (no sleep). Two baselines run the sleeping code:
    - `sequential_wall_s`, TRL's behaviour: TRL 1.16's `GRPOTrainer._tool_call_loop` generates for
      the whole batch at once (one `_generate_single_turn` per round), then calls the tools in a
      Python loop over the rollouts, one after another (async tools are gathered only within one
      rollout). Here: round-based episodes whose snippets run one rollout after another.
    - `whole_rollouts_one_at_a_time_wall_s`: each rollout runs start to end before the next starts
      (generation not batched either), e.g. a plain loop over questions.
    The arithmetic: with n rollouts, G the generation time of a rollout (requests in sequence) and
    S its total sleep, asynchronous episodes take G + S, TRL's loop G + n*S (sleeps add up across
    the batch, generation does not) and whole rollouts one at a time n*(G + S). The issue's targets
    are sleeping <= 1.5x non-sleeping, i.e. S <= G/2, and >= 8x faster than TRL's loop, i.e.
    G + n*S >= 8*(G + S), i.e. S >= 7G/8 for n = 16: no workload of identical rollouts meets both.
    At S = G/2 TRL's loop is at most (1 + n/2)/1.5 = 6x slower (`sequential_vs_sleeping_ceiling`);
    this run (G = 3 s, S = 1 s) expects 19/4 = 4.75x. Against whole rollouts one at a time the
    gain is n = 16x. `targets_met` reports the 8x target against both baselines.
(b) L = 0.1 s, `--calls` code calls per rollout, round-based vs asynchronous episodes, with every
    snippet's duration drawn independently and uniformly in 0.1-2 s (seeded): `round_wall_s`,
    `async_wall_s`. A round waits for its slowest snippet (floor: sum over rounds of the round's
    maximum); asynchronous episodes cannot finish before the rollout with the most sleep in total
    (floor: the largest per-rollout sum). For 16 rollouts the ratio of these floors averages 0.82
    at 4 calls and 0.75 at 8 (`async_vs_round_floor_mean_200_seeds`), so the issue's 0.6x target
    is out of reach of any scheduler on this workload; `async_vs_round_floor` is the best ratio for
    the seed being run. For contrast, `same_mix_round_wall_s` / `same_mix_async_wall_s` give every
    rollout the same durations (evenly spaced over 0.1-2 s) in its own seeded order, so all
    rollouts carry equal work and asynchronous episodes approach the mean instead of the maximum.
See docs/benchmarks.md for the same arithmetic in prose.
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


class _Server(ThreadingHTTPServer):
    # listen()'s backlog is read when the server binds: a burst of 16 connects overflowing the
    # default of 5 costs a dropped SYN and a 1 s retransmit, which would be timed as scheduling.
    request_queue_size = 128
    daemon_threads = True


class LatencyServer:
    """/v1/chat/completions that answers after `latency` seconds; the question lists the sleeps."""

    def __init__(self) -> None:
        self.latency = 0.0
        self.server = _Server(("127.0.0.1", 0), self._handler())
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
    """A round's snippets run one after another, as TRL's `_tool_call_loop` runs tools."""

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


def floors(plans: list[list[float]], latency: float) -> tuple[float, float]:
    """Critical paths (round-based, asynchronous): requests and sleeps that must follow one another."""
    calls = max(len(p) for p in plans)
    rounds = latency + sum(latency + max(p[j] for p in plans if len(p) > j) for j in range(calls))
    alone = max(sum(p) + (len(p) + 1) * latency for p in plans)
    return round(rounds, 3), round(alone, 3)


def mean_floor_ratio(n: int, calls: int, latency: float, seeds: int = 200) -> float:
    """The asynchronous/round-based floor ratio of (b)'s workload, averaged over seeds."""
    ratios = []
    for seed in range(seeds):
        rng = random.Random(seed)
        rounds, alone = floors([[rng.uniform(0.1, 2.0) for _ in range(calls)] for _ in range(n)], latency)
        ratios.append(alone / rounds)
    return sum(ratios) / len(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rollouts", type=int, default=16)
    parser.add_argument("--calls", type=int, default=4, help="code calls per rollout in (b)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.rollouts < 1 or args.calls < 2:
        parser.error("--rollouts must be >= 1 and --calls >= 2")
    n, calls, rng = args.rollouts, args.calls, random.Random(args.seed)

    server = LatencyServer()
    generator = OpenAIGenerator("fake", base_url=server.base_url, api_key="k", mode="chat", max_concurrency=n)
    protocol = ProtocolConfig(timeout_s=10.0, max_code_calls=max(calls, 2))
    out: dict = {"rollouts": n, "seed": args.seed}
    floor: dict[str, float] = {}
    with get_sandbox("local") as sandbox:
        sandbox.run("print(1)", timeout=30)  # start the worker outside the timings

        def runner(mode: str, sb: Sandbox = sandbox) -> EpisodeRunner:
            return EpisodeRunner(generator, sb, protocol, max_new_tokens=4096, mode=mode)

        # (a) sleeping vs non-sleeping code, against TRL's loop and whole rollouts one at a time
        server.latency = 1.0
        sleeping, awake = [[0.5, 0.5]] * n, [[0, 0]] * n
        gen_s, sleep_s = 3 * server.latency, sum(sleeping[0])
        floor |= {"nonsleeping": gen_s, "sleeping": gen_s + sleep_s, "sequential": gen_s + n * sleep_s,
                  "whole_rollouts_one_at_a_time": n * (gen_s + sleep_s)}  # fmt: skip
        out["latency_a_s"] = server.latency
        out["nonsleeping_wall_s"] = timed(runner("async"), awake)
        out["sleeping_wall_s"] = timed(runner("async"), sleeping)
        out["sequential_wall_s"] = timed(runner("rounds", SnippetsOneRolloutAtATime(sandbox)), sleeping)
        out["whole_rollouts_one_at_a_time_wall_s"] = timed(runner("rounds"), sleeping, one_at_a_time=True)
        out["sleeping_vs_nonsleeping"] = round(out["sleeping_wall_s"] / out["nonsleeping_wall_s"], 3)
        out["sequential_vs_sleeping"] = round(out["sequential_wall_s"] / out["sleeping_wall_s"], 2)
        out["sequential_vs_sleeping_ceiling"] = round((1 + n / 2) / 1.5, 2)
        out["whole_rollouts_one_at_a_time_vs_sleeping"] = round(
            out["whole_rollouts_one_at_a_time_wall_s"] / out["sleeping_wall_s"], 2
        )

        # (b) snippets of mixed durations: round-based vs asynchronous
        server.latency = 0.1
        out["latency_b_s"], out["calls_b"] = server.latency, calls
        mixed = [[round(rng.uniform(0.1, 2.0), 2) for _ in range(calls)] for _ in range(n)]
        floor["round"], floor["async"] = floors(mixed, server.latency)
        out["round_wall_s"] = timed(runner("rounds"), mixed)
        out["async_wall_s"] = timed(runner("async"), mixed)
        out["async_vs_round"] = round(out["async_wall_s"] / out["round_wall_s"], 3)
        out["async_vs_round_floor"] = round(floor["async"] / floor["round"], 3)
        out["async_vs_round_floor_mean_200_seeds"] = round(mean_floor_ratio(n, calls, server.latency), 3)
        mix = [round(0.1 + 1.9 * j / (calls - 1), 2) for j in range(calls)]
        same_mix = [rng.sample(mix, calls) for _ in range(n)]
        floor["same_mix_round"], floor["same_mix_async"] = floors(same_mix, server.latency)
        out["same_mix_round_wall_s"] = timed(runner("rounds"), same_mix)
        out["same_mix_async_wall_s"] = timed(runner("async"), same_mix)
        out["same_mix_async_vs_round"] = round(out["same_mix_async_wall_s"] / out["same_mix_round_wall_s"], 3)
        out["isolation"] = sandbox.isolation
    server.close()
    out["floors_s"] = {k: round(v, 3) for k, v in floor.items()}
    out["targets_met"] = {
        "sleeping_within_1.5x_nonsleeping": out["sleeping_vs_nonsleeping"] <= 1.5,
        "8x_faster_than_sequential": out["sequential_vs_sleeping"] >= 8,
        "8x_faster_than_whole_rollouts_one_at_a_time": out["whole_rollouts_one_at_a_time_vs_sleeping"] >= 8,
        "async_at_most_0.6x_rounds": out["async_vs_round"] <= 0.6,
    }
    out |= {"cores": os.cpu_count(), "python": platform.python_version(), "load_1min": os.getloadavg()[0]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
