"""Test doubles for the Space: a scripted model whose questions make real code calls, and small
transcript datasets (a `r1ci rollouts` JSONL and an SFT traces folder) for the Browse tab."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from code_interpreter.episode import EpisodeRunner
from dataset_builders import get_task
from tests.doubles import EchoSandbox, ScriptedGenerator

#: A question whose scripted answer makes one code call and then answers.
CODE_QUESTION = "What is 6*7? Check with code."
CODE_SCRIPT = [
    "Let me compute it.\n```python\nimport math\nprint(6 * 7, math.factorial(5))\n```\n",
    "The interpreter says 42.\n<<<42>>>",
]
#: A question whose code runs far longer than any test waits: only the stop button ends it.
LONG_QUESTION = "Count slowly to a million."
LONG_SCRIPT = [
    "This takes a while.\n```python\nimport time\ntime.sleep(120)\nprint('finished')\n```\n",
    "<<<1000000>>>",
]
#: Hostile model text and output: HTML, a remote image, a fence-closing run, terminal escapes.
HOSTILE_TEXT = (
    'Look: <img src="http://evil.invalid/track.png" onerror="alert(1)"> and ![pixel](http://evil.invalid/p.png)\n'
    "```python\nprint('`' * 5 + '\\x1b[31m' + '<script>alert(2)</script>')\n```\n"
)


def example_entries() -> list[dict[str, Any]]:
    """Two example questions of a test task: the script answers the first right, the second wrong."""
    return list(get_task("reasoning_gym/prime_factorization").generate(2, seed=3))


def scripted_factory(extra: dict[str, list[str]] | None = None) -> Any:
    """A `GeneratorFactory` that plays the scripts above and answers the examples (fresh for every turn)."""
    right, wrong = example_entries()
    scripts = {
        CODE_QUESTION: CODE_SCRIPT,
        LONG_QUESTION: LONG_SCRIPT,
        right["question"]: [f"```python\nprint('{right['answer']}')\n```\n", f"<<<{right['answer']}>>>"],
        wrong["question"]: ["<<<1 × 1>>>"],
        **(extra or {}),
    }

    def factory(settings: Any) -> ScriptedGenerator:
        return ScriptedGenerator({q: list(chunks) for q, chunks in scripts.items()})

    return factory


def _episodes() -> list[tuple[Any, dict[str, Any], float]]:
    """Episodes over real task entries: right and wrong answers, zero to two code calls, one hostile."""
    specs = [("reasoning_gym/prime_factorization", 3), ("symbench/light_puzzles", 2)]
    scripts, entries = {}, []
    for name, n in specs:
        for k, entry in enumerate(get_task(name).generate(n, seed=1)):
            answer = entry["answer"] if k != 1 else "definitely wrong"
            code = [f"```python\nprint({k})\n```\n"] * k
            scripts[entry["question"]] = [f"Step {j}.\n{c}" for j, c in enumerate(code)] + [f"Done.\n<<<{answer}>>>"]
            entries.append(entry)
    hostile = dict(entries[0], id="hostile-1", question="Hostile " + entries[0]["question"])
    scripts[hostile["question"]] = [HOSTILE_TEXT, "<<<no>>>"]
    entries.append(hostile)
    runner = EpisodeRunner(ScriptedGenerator(scripts), EchoSandbox())
    episodes = runner.run([e["question"] for e in entries])
    out = []
    for ep, entry in zip(episodes, entries, strict=True):
        score = get_task(entry["task"]).score(ep.completion, entry, inserted_spans=ep.inserted_spans)
        out.append((ep, entry, score))
    return out


def write_rollouts(folder: Path) -> Path:
    """A `transcripts.jsonl` as `r1ci rollouts` writes it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "transcripts.jsonl"
    records = [ep.to_dict() | {"entry": entry, "score": score} for ep, entry, score in _episodes()]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return path


def write_traces(folder: Path) -> Path:
    """An SFT traces dataset folder (rows as `dataset_builders.traces.trace_row` makes them)."""
    from datasets import Dataset

    from dataset_builders.traces import trace_row
    from hub_tools.dataset_folder import write_dataset_folder

    rows = [
        trace_row(get_task(entry["task"]), entry, "free", ep, {"backend": "scripted"}, 1.0)
        for ep, entry, score in _episodes()
        if score == 1.0
    ]
    return write_dataset_folder(
        folder, {"default": {"train": Dataset.from_list(rows)}}, "---\nlicense: mit\n---\n# t\n"
    )


class StreamingEndpoint:
    """An OpenAI-compatible chat endpoint that streams its replies (server-sent events) a few
    characters at a time: the first reply makes a code call, the reply after a result answers."""

    FIRST = "Let me compute it with code.\n```python\nprint(6 * 7)\n```\n"
    SECOND = "The interpreter printed 42, so the answer is <<<42>>>."

    def __init__(self, delay_s: float = 0.02) -> None:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.requests.append(body)
                seen = any(
                    m["role"] == "user" and "Code Execution Results" in m["content"] for m in body["messages"][2:]
                )
                reply = endpoint.SECOND if seen else endpoint.FIRST
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for i in range(0, len(reply), 4):
                    self._event({"content": reply[i : i + 4]}, None)
                    time.sleep(delay_s)
                self._event({}, "stop")
                usage = {"prompt_tokens": 10, "completion_tokens": len(reply) // 4, "total_tokens": 99}
                self._send(
                    {
                        "id": "x",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": "m",
                        "choices": [],
                        "usage": usage,
                    }
                )
                self.wfile.write(b"data: [DONE]\n\n")

            def _event(self, delta: dict, finish: str | None) -> None:
                choice = {"index": 0, "delta": delta, "finish_reason": finish}
                self._send(
                    {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m", "choices": [choice]}
                )

            def _send(self, event: dict) -> None:
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()

        self.requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> StreamingEndpoint:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
