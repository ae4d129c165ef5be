"""The sandbox contract every backend honours (see DESIGN.md, "Sandboxes")."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Coroutine, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from code_interpreter.protocol import DEFAULT_TIMEOUT_S

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class ExecutionResult:
    """What one snippet did. `isolation` names the containment in effect (e.g. "bwrap", "e2b").

    Keyword-only: a positional literal such as `ExecutionResult("", "", None, False, 0.0, False)`
    says nothing to its reader. Use `ExecutionResult.failed(...)` when the sandbox itself failed.
    """

    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    timed_out: bool = False
    duration_s: float = 0.0
    truncated: bool = False
    isolation: str = "unknown"
    error: str | None = None
    """Set when the sandbox itself failed (not the snippet): the result is still well-formed."""

    @classmethod
    def failed(
        cls, error: str, *, isolation: str, duration_s: float = 0.0, stdout: str = "", stderr: str = ""
    ) -> ExecutionResult:
        """The sandbox (not the snippet) failed: no exit code, `error` says what went wrong."""
        return cls(stdout=stdout, stderr=stderr, duration_s=duration_s, isolation=isolation, error=error)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and self.error is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Sandbox(ABC):
    """Runs untrusted Python snippets. Subclasses implement `arun`; the rest derives from it."""

    name: str = "abstract"

    @abstractmethod
    async def arun(self, code: str, timeout: float = DEFAULT_TIMEOUT_S) -> ExecutionResult:
        """Run one snippet in a fresh interpreter state."""

    def run(self, code: str, timeout: float = DEFAULT_TIMEOUT_S) -> ExecutionResult:
        return _run_sync(self.arun(code, timeout=timeout))

    async def arun_many(self, codes: Sequence[str], timeout: float = DEFAULT_TIMEOUT_S) -> list[ExecutionResult]:
        return list(await asyncio.gather(*(self.arun(c, timeout=timeout) for c in codes)))

    def run_many(self, codes: Sequence[str], timeout: float = DEFAULT_TIMEOUT_S) -> list[ExecutionResult]:
        """Run a batch concurrently (bounded by the backend's own limit); results keep input order."""
        return _run_sync(self.arun_many(codes, timeout=timeout))

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold resources
        """Release workers, pools and connections. Idempotent."""

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _run_sync(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    raise RuntimeError("Sandbox.run/run_many were called inside a running event loop; use `await sandbox.arun(...)`.")
