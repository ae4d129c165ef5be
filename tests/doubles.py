"""Test doubles for the episode loop: a generator that plays back scripts and a sandbox that echoes."""

from __future__ import annotations

from code_interpreter.generation import Chunk, GenerationRequest, TextOnlyCodec
from code_interpreter.protocol import first_closed_python
from code_interpreter.sandboxes.base import ExecutionResult, Sandbox


class ScriptedGenerator(TextOnlyCodec):
    """Plays back a script per question: a list of model chunks, one per generation round."""

    def __init__(self, scripts: dict[str, list[str | Exception]]):
        self.scripts = {q: list(chunks) for q, chunks in scripts.items()}
        self.batches: list[int] = []

    def generate(self, requests: list[GenerationRequest]) -> list[Chunk]:
        self.batches.append(len(requests))
        queues = [self.scripts[req.messages[-1]["content"]] for req in requests]
        for queue in queues:
            if isinstance(queue[0], Exception):  # a failed request fails the whole call, like a server
                raise queue[0]
        out = []
        for queue in queues:
            nxt = queue.pop(0)
            finish = "code" if first_closed_python(nxt) else "eos"
            out.append(Chunk(text=nxt, finish=finish, num_tokens=self.count_tokens(nxt)))
        return out


class EchoSandbox(Sandbox):
    """Runs nothing: 'executes' by echoing the code; code containing CRASH or SLOW misbehaves."""

    name = "echo"

    def __init__(self):
        self.batches: list[list[str]] = []

    async def arun(self, code, timeout=60.0):
        if "CRASH" in code:
            return ExecutionResult.failed("worker died", isolation="test")
        if "SLOW" in code:
            return ExecutionResult(stdout="partial\n", timed_out=True, duration_s=timeout, isolation="test")
        return ExecutionResult(stdout=f"ran:{code.strip()}\n", exit_code=0, duration_s=0.001, isolation="test")

    def run_many(self, codes, timeout=60.0):
        self.batches.append(list(codes))
        return super().run_many(codes, timeout=timeout)
