"""Asynchronous episodes: each advances on its own, within bounds, with the same results as rounds."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from code_interpreter import get_sandbox
from code_interpreter.episode import EpisodeRunner
from code_interpreter.errors import InputError
from code_interpreter.generation import OpenAIGenerator, TransformersGenerator
from code_interpreter.protocol import ProtocolConfig
from code_interpreter.sandboxes.base import ExecutionResult
from tests.doubles import EchoSandbox, ScriptedGenerator


def code(src: str) -> str:
    return f"Let me check.\n```python\n{src}\n```"


def scripts() -> dict[str, list]:
    return {
        "two calls": [code("a"), code("b"), "So <<<1>>>"],
        "one call": [code("c"), "Answer <<<2>>>"],
        "no code": ["No code needed <<<3>>>"],
        "boom": [RuntimeError("server said 500")],
        "crash": [code("CRASH")],
        "slow": [code("SLOW"), "It timed out, so <<<?>>>"],
        "silent": ["I refuse to answer."],
        "cap": [code(f"step{i}") for i in range(20)],
        "budget": [code("w " * 50), "never reached"],
    }


def comparable(episode) -> dict:
    return episode.to_dict()


@pytest.mark.parametrize("max_new_tokens", [40, 1024])
def test_async_gives_the_same_episodes_as_rounds(max_new_tokens):
    config = ProtocolConfig(version="v1")
    runs = {}
    for mode in ("rounds", "async"):
        runner = EpisodeRunner(ScriptedGenerator(scripts()), EchoSandbox(), config, max_new_tokens, mode=mode)
        runs[mode] = runner.run(list(scripts()), [{"i": i} for i in range(len(scripts()))])
    assert [comparable(e) for e in runs["async"]] == [comparable(e) for e in runs["rounds"]]
    reasons = {e.finish_reason for e in runs["async"]}
    ended = "length" if max_new_tokens == 40 else "max_code_calls"
    assert reasons == {"answer", "no_answer", "generator_error", "sandbox_error", ended}
    assert [e.metadata["i"] for e in runs["async"]] == list(range(len(scripts())))  # input order kept


class SignallingGenerator(ScriptedGenerator):
    """Sets `event` when the episode named `signaller` asks for its second chunk."""

    concurrent_requests = True

    def __init__(self, scripts, signaller: str):
        super().__init__(scripts)
        self.signaller, self.event, self.calls = signaller, threading.Event(), {}

    def generate(self, requests):
        for req in requests:
            question = req.messages[-1]["content"]
            self.calls[question] = self.calls.get(question, 0) + 1
            if question == self.signaller and self.calls[question] == 2:
                self.event.set()
        return super().generate(requests)


class WaitingSandbox(EchoSandbox):
    """The snippet WAIT waits (up to `patience` s) for `event`, and prints whether it came."""

    def __init__(self, event: threading.Event, patience: float):
        super().__init__()
        self.event, self.patience = event, patience

    async def arun(self, code, timeout=60.0):
        if code.strip() != "WAIT":
            return await super().arun(code, timeout)
        deadline = time.monotonic() + self.patience
        while not self.event.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        return ExecutionResult(stdout=f"overlapped={self.event.is_set()}\n", exit_code=0, isolation="test")


@pytest.mark.parametrize("mode,overlapped", [("async", True), ("rounds", False)])
def test_one_episode_generates_while_another_runs_code(mode, overlapped):
    script = {"slow": [code("WAIT"), "<<<s>>>"], "fast": [code("x"), code("y"), "<<<f>>>"]}
    gen = SignallingGenerator(script, signaller="fast")
    # Rounds can never overlap (the fast episode waits for WAIT), so a short patience proves it.
    sandbox = WaitingSandbox(gen.event, patience=5.0 if overlapped else 0.3)
    finished = []
    episodes = EpisodeRunner(gen, sandbox, mode=mode).run(list(script), on_done=lambda e: finished.append(e.answer))
    assert episodes[0].segments[1].text == f"\nCode Execution Results: overlapped={overlapped}\n"
    assert [e.answer for e in episodes] == ["s", "f"]
    if overlapped:
        assert finished == ["f", "s"]  # reported as they finish, not in input order


class CountingGenerator(ScriptedGenerator):
    concurrent_requests = True

    def __init__(self, scripts):
        super().__init__(scripts)
        self.lock, self.now, self.peak = threading.Lock(), 0, 0

    def generate(self, requests):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(0.02)
        with self.lock:
            self.now -= 1
        return super().generate(requests)


class CountingSandbox(EchoSandbox):
    def __init__(self):
        super().__init__()
        self.now, self.peak = 0, 0

    async def arun(self, code, timeout=60.0):
        self.now += 1
        self.peak = max(self.peak, self.now)
        await asyncio.sleep(0.02)
        self.now -= 1
        return await super().arun(code, timeout)


def test_requests_and_snippets_stay_within_their_bounds():
    many = {f"q{i}": [code(f"a{i}"), code(f"b{i}"), f"<<<{i}>>>"] for i in range(12)}
    gen, sandbox = CountingGenerator(many), CountingSandbox()
    runner = EpisodeRunner(gen, sandbox, max_concurrent_requests=3, max_concurrent_snippets=2)
    assert runner.asynchronous
    episodes = runner.run(list(many))
    assert [e.answer for e in episodes] == [str(i) for i in range(12)]
    assert 1 < gen.peak <= 3 and 1 < sandbox.peak <= 2


def test_run_inside_an_event_loop_and_arun():
    script = {"q": [code("x"), "<<<1>>>"]}

    async def main():
        blocking = EpisodeRunner(ScriptedGenerator(script), EchoSandbox(), mode="async").run(["q"])
        awaited = await EpisodeRunner(ScriptedGenerator(script), EchoSandbox(), mode="async").arun(["q"])
        runner = EpisodeRunner(ScriptedGenerator({"a": ["<<<a>>>"], "b": ["<<<b>>>"]}), EchoSandbox())
        single = await asyncio.gather(*(runner.arun_episode(runner.new_episode(q)) for q in "ab"))
        return blocking, awaited, single

    blocking, awaited, single = asyncio.run(main())
    assert blocking[0].to_dict() == awaited[0].to_dict() and blocking[0].answer == "1"
    assert [e.answer for e in single] == ["a", "b"]


class RaisingSandbox(EchoSandbox):
    async def arun(self, code, timeout=60.0):
        raise OSError("worker vanished")


def test_a_sandbox_that_raises_ends_only_that_episode():
    script = {"q": [code("x"), "<<<1>>>"], "r": ["<<<2>>>"]}
    episodes = EpisodeRunner(ScriptedGenerator(script), RaisingSandbox(), mode="async").run(list(script))
    assert episodes[0].finish_reason == "sandbox_error" and "worker vanished" in episodes[0].error
    assert episodes[1].answer == "2"


def test_mode_is_picked_from_the_backend_and_bad_settings_are_refused():
    server = OpenAIGenerator("m", base_url="http://127.0.0.1:9/v1")
    assert EpisodeRunner(server, EchoSandbox()).asynchronous
    assert EpisodeRunner(server, EchoSandbox()).max_concurrent_requests == server.max_concurrency
    assert not EpisodeRunner(server, EchoSandbox(), mode="rounds").asynchronous
    assert TransformersGenerator.concurrent_requests is False  # batches its rounds
    assert not EpisodeRunner(ScriptedGenerator({}), EchoSandbox()).asynchronous  # says nothing: rounds
    with pytest.raises(InputError, match="mode must be one of"):
        EpisodeRunner(server, EchoSandbox(), mode="parallel")
    with pytest.raises(InputError, match="max_concurrent_snippets"):
        EpisodeRunner(server, EchoSandbox(), max_concurrent_snippets=-2)
    with pytest.raises(InputError, match="2 metadata dicts for 1 questions"):
        EpisodeRunner(server, EchoSandbox()).run(["q"], [{}, {}])


def test_real_sandbox_a_hanging_snippet_holds_up_no_other_episode():
    """Hostile code in the real local sandbox: an endless loop times out as an ordinary result,
    a crash is an ordinary result, and the honest episode finishes first."""
    script = {
        "hang": [code("while True:\n    pass"), "It hung, so <<<0>>>"],
        "crash": [code("import os\nos._exit(3)"), "<<<c>>>"],
        "honest": [code("print(6 * 7)"), code("print(sum(range(10)))"), "<<<42>>>"],
    }
    finished = []
    with get_sandbox("local") as sandbox:
        runner = EpisodeRunner(ScriptedGenerator(script), sandbox, ProtocolConfig(timeout_s=2.0), mode="async")
        episodes = runner.run(list(script), on_done=lambda e: finished.append(e.messages[-1]["content"]))
    hang, crash, honest = episodes
    assert hang.segments[1].execution["timed_out"] and hang.answer == "0"
    assert crash.segments[1].execution["exit_code"] == 3 and crash.answer == "c"
    assert [s.text for s in honest.segments if s.role == "interpreter"] == [
        "\nCode Execution Results: 42\n",
        "\nCode Execution Results: 45\n",
    ]
    assert finished.index("honest") < finished.index("hang")


def test_trace_builder_runs_a_server_teacher_asynchronously(tmp_path, monkeypatch):
    from code_interpreter import get_generator
    from dataset_builders import traces
    from tests.teacher_double import SolverTeacher

    runners = []

    class Recording(EpisodeRunner):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            runners.append(self)

    monkeypatch.setattr(traces, "EpisodeRunner", Recording)
    teacher = SolverTeacher(wrong_every=10**9)
    try:
        gen = get_generator("openai", model="solver", base_url=teacher.base_url, api_key="k", temperature=0)
        config = traces.TraceBuildConfig(
            tasks=["symbench/number_multiply"], max_per_task=3, attempts_per_task=3, batch_size=3, max_new_tokens=256
        )
        with get_sandbox("local") as sandbox:
            build = traces.build_traces(gen, sandbox, config, cache_dir=tmp_path, teacher={"model": "solver"})
    finally:
        teacher.close()
    assert [r.asynchronous for r in runners] == [True]
    assert len(build.rows) == 3 and all(r["num_code_calls"] == 1 for r in build.rows)


def test_one_runner_serves_runs_from_several_threads():
    """A web app shares one runner between requests: each `run` keeps its own bounds and threads."""
    from concurrent.futures import ThreadPoolExecutor

    many = {f"q{i}": [code(f"a{i}"), code(f"b{i}"), f"<<<{i}>>>"] for i in range(12)}
    runner = EpisodeRunner(CountingGenerator(many), CountingSandbox(), max_concurrent_requests=2)
    with ThreadPoolExecutor(3) as users:
        runs = list(users.map(runner.run, [[f"q{i}" for i in range(k, 12, 3)] for k in range(3)]))
    assert [[e.answer for e in run] for run in runs] == [[str(i) for i in range(k, 12, 3)] for k in range(3)]
    assert all(e.num_code_calls == 2 for run in runs for e in run)
