"""An offline teacher that writes traces from the tasks' reference solvers (no model, no network).

Where no teacher model is reachable (the offline quickstart, CI), `SolverTeacher` stands in for one
as a `code_interpreter` generator, so `r1ci traces build --teacher solver` runs the same builder,
sandbox and verifier as with GPT-4o. For a question of a task that has a solver
(`Task.solve_with_code`) it writes a one-line plan and a python block and stops at the closing
fence; once the sandbox's real output is in the episode it reads the last line printed and writes
the final answer after it. A question without a solver gets a plain refusal, which no verifier
accepts, so the builder records a failed attempt.
"""

from __future__ import annotations

from collections.abc import Sequence

from code_interpreter.generation import Chunk, GenerationRequest, TextOnlyCodec
from code_interpreter.protocol import ProtocolConfig, iter_blocks
from dataset_builders.task import Task

NO_SOLVER = "I have no solver for this question.\n<<<unknown>>>"


class SolverTeacher(TextOnlyCodec):
    """A `Generator` answering each question with the solver of the first task in `tasks` that has one for it."""

    concurrent_requests = False

    def __init__(self, tasks: Sequence[Task], protocol: ProtocolConfig | None = None) -> None:
        self.tasks = list(tasks)
        self.prefix, self.suffix = (protocol or ProtocolConfig()).result_template.split("{output}")

    def describe(self) -> dict[str, str]:
        """The teacher as recorded in each trace row and the dataset card."""
        return {"backend": "solver", "model": "reference solvers of " + ", ".join(t.name for t in self.tasks)}

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Chunk]:
        return [self._one(r) for r in requests]

    def _one(self, request: GenerationRequest) -> Chunk:
        question = next(m["content"] for m in request.messages if m["role"] == "user")
        solution = next((s for t in self.tasks if (s := t.solve_with_code(question)) is not None), None)
        if solution is None:
            return self._chunk(NO_SOLVER, "eos")
        printed = self._printed(request.completion)
        if printed is None:
            plan, code = solution
            return self._chunk(f"{plan}\n```python\n{code}\n```", "code")
        return self._chunk(f"\n<<<{printed}>>>", "eos")

    def _printed(self, completion: str) -> str | None:
        """The last line the interpreter printed for the last python block, or None before any ran."""
        blocks = [b for b in iter_blocks(completion) if b.is_python and b.end is not None]
        if not blocks:
            return None
        inserted = completion[blocks[-1].end :]
        if inserted.startswith(self.prefix):
            inserted = inserted[len(self.prefix) :]
        if self.suffix and inserted.endswith(self.suffix):
            inserted = inserted[: -len(self.suffix)]
        lines = [line.strip() for line in inserted.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def _chunk(self, text: str, finish: str) -> Chunk:
        return Chunk(text=text, finish=finish, num_tokens=self.count_tokens(text))
