"""E2B cloud sandboxes (`get_sandbox("e2b")`), for when local cores run short.

A small pool of `e2b_code_interpreter.AsyncSandbox`es is reused across calls; every snippet runs in
a fresh code context (its own kernel), so no state leaks from one episode to the next. Concurrency
is bounded by a semaphore, transient errors are retried with exponential backoff, an expired
sandbox is replaced, and results are mapped to `ExecutionResult` (stdout/stderr from the logs; the
error's name, value and traceback go to stderr).

All SDK calls run on one private event-loop thread (the SDK's HTTP clients belong to the loop that
created them), so `run()` works from any thread and `arun()` from any event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from code_interpreter.protocol import DEFAULT_TIMEOUT_S, truncate_middle
from code_interpreter.sandboxes.base import ExecutionResult, Sandbox

log = logging.getLogger(__name__)

ISOLATION = "e2b"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_MISSING_KEY = (
    "the E2B sandbox needs an API key: set the E2B_API_KEY environment variable or pass "
    "get_sandbox('e2b', api_key=...); get one at https://e2b.dev/dashboard, or use get_sandbox('local')"
)


class E2BUnavailable(RuntimeError):
    """The E2B backend cannot be used here (no API key, or the SDK is not installed)."""


class E2BSandbox(Sandbox):
    """Runs snippets on E2B's cloud code interpreter.

    Args:
        api_key: E2B API key (default: the E2B_API_KEY environment variable). Required.
        template: sandbox template (default: the SDK's code-interpreter template).
        pool_size: sandboxes kept and reused; each runs one snippet at a time.
        max_concurrency: snippets in flight at once (default: `pool_size`); more wait in a queue.
        sandbox_lifetime_s: lifetime requested for each sandbox; it is replaced shortly before.
        request_timeout: seconds for each HTTP request to E2B (connect, create, contexts).
        retries: extra attempts after a transient error (connection, rate limit, expired sandbox).
        backoff_s: first retry delay; it doubles on every further attempt.
        envs: environment variables inside the sandboxes.
        max_output_chars: characters kept per stream; beyond it head and tail are kept (`truncated`).
    """

    name = "e2b"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        template: str | None = None,
        pool_size: int = 4,
        max_concurrency: int | None = None,
        sandbox_lifetime_s: int = 600,
        request_timeout: float = 30.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        envs: Mapping[str, str] | None = None,
        max_output_chars: int = 1 << 20,
    ) -> None:
        self.api_key = api_key or os.environ.get("E2B_API_KEY")
        if not self.api_key:
            raise E2BUnavailable(_MISSING_KEY)
        try:
            import e2b_code_interpreter  # noqa: F401
        except ImportError as exc:
            raise E2BUnavailable("the E2B sandbox needs the SDK: pip install 'r1ci[e2b]'") from exc
        if pool_size < 1:
            raise ValueError("pool_size must be >= 1")
        self.template = template
        self.pool_size = pool_size
        self.max_concurrency = max_concurrency or pool_size
        self.sandbox_lifetime_s = sandbox_lifetime_s
        self.request_timeout = request_timeout
        self.retries = retries
        self.backoff_s = backoff_s
        self.envs = dict(envs or {})
        self.max_output_chars = max_output_chars
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="r1ci-e2b", daemon=True)
        self._thread.start()
        self._pool: _Pool = asyncio.run_coroutine_threadsafe(self._make_pool(), self._loop).result()

    async def _make_pool(self) -> _Pool:
        return _Pool(self)

    # -- public API ---------------------------------------------------------------------------------

    async def arun(self, code: str, timeout: float = DEFAULT_TIMEOUT_S) -> ExecutionResult:
        return await asyncio.wrap_future(self._submit(self._execute(code, timeout)))

    def run(self, code: str, timeout: float = DEFAULT_TIMEOUT_S) -> ExecutionResult:
        self._check_thread()
        return self._submit(self._execute(code, timeout)).result()

    async def arun_many(self, codes: Sequence[str], timeout: float = DEFAULT_TIMEOUT_S) -> list[ExecutionResult]:
        return await asyncio.wrap_future(self._submit(self._execute_many(list(codes), timeout)))

    def run_many(self, codes: Sequence[str], timeout: float = DEFAULT_TIMEOUT_S) -> list[ExecutionResult]:
        self._check_thread()
        return self._submit(self._execute_many(list(codes), timeout)).result()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            asyncio.run_coroutine_threadsafe(self._pool.close(), self._loop).result(30)
        except Exception as exc:  # best effort: sandboxes also expire on their own
            log.warning("e2b: closing sandboxes failed: %s", exc)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    # -- plumbing -----------------------------------------------------------------------------------

    def _submit(self, coro):
        if self._closed:
            coro.close()
            raise RuntimeError("the sandbox is closed")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def _check_thread(self) -> None:
        if threading.current_thread() is self._thread:
            raise RuntimeError("E2BSandbox.run called from the sandbox's own event loop; use arun")

    async def _execute_many(self, codes: list[str], timeout: float) -> list[ExecutionResult]:
        return list(await asyncio.gather(*(self._execute(c, timeout) for c in codes)))

    async def _execute(self, code: str, timeout: float) -> ExecutionResult:
        start = time.monotonic()
        async with self._pool.slots:
            attempt = 0
            while True:
                try:
                    sbx = await self._pool.acquire()
                except Exception as exc:
                    if _is_transient(exc) and attempt < self.retries:
                        attempt += 1
                        await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
                        continue
                    return self._failed(start, f"could not create an E2B sandbox: {_describe(exc)}")
                broken = False
                try:
                    execution = await self._run_in_fresh_context(sbx, code, timeout)
                    return to_result(execution, time.monotonic() - start, self.max_output_chars)
                except Exception as exc:
                    kind = classify_error(exc)
                    if kind == "timeout":  # the sandbox is fine; removing the context stopped the snippet
                        return ExecutionResult(timed_out=True, duration_s=time.monotonic() - start, isolation=ISOLATION)
                    broken = kind == "expired"
                    if kind in ("expired", "transient") and attempt < self.retries:
                        attempt += 1
                        log.info("e2b: %s error (%s); retry %d/%d", kind, _describe(exc), attempt, self.retries)
                        await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
                        continue
                    return self._failed(start, f"E2B execution failed: {_describe(exc)}")
                finally:
                    self._pool.release(sbx, broken=broken)

    async def _run_in_fresh_context(self, sbx: Any, code: str, timeout: float) -> Any:
        context = await sbx.create_code_context(language="python", request_timeout=self.request_timeout)
        try:
            return await sbx.run_code(code, context=context, timeout=timeout, request_timeout=self.request_timeout)
        finally:
            # A context is a kernel: removing it ends whatever the snippet left running.
            self._loop.create_task(_quietly(sbx.remove_code_context(context)))

    def _failed(self, start: float, error: str) -> ExecutionResult:
        return ExecutionResult.failed(error, isolation=ISOLATION, duration_s=time.monotonic() - start)


class _Pool:
    """Sandboxes reused across calls, created on demand up to `pool_size`, replaced when expired."""

    def __init__(self, owner: E2BSandbox) -> None:
        self.owner = owner
        self.slots = asyncio.Semaphore(owner.max_concurrency)
        self.free: asyncio.Queue = asyncio.Queue()
        self.count = 0
        self.born: dict[int, float] = {}
        self.all: set = set()

    async def acquire(self) -> Any:
        while True:
            if self.free.empty() and self.count < self.owner.pool_size:
                self.count += 1
                try:
                    return await self._create()
                except BaseException:
                    self.count -= 1
                    raise
            sbx = await self.free.get()
            if sbx is None:  # a slot was freed by a broken sandbox: loop to create a new one
                continue
            if time.monotonic() - self.born.get(id(sbx), 0) > self.owner.sandbox_lifetime_s - 30:
                self._discard(sbx)  # about to expire: replace rather than fail mid-snippet
                continue
            return sbx

    def release(self, sbx: Any, broken: bool) -> None:
        if broken:
            self._discard(sbx)
        else:
            self.free.put_nowait(sbx)

    def _discard(self, sbx: Any) -> None:
        self.count -= 1
        self.all.discard(sbx)
        self.born.pop(id(sbx), None)
        asyncio.get_running_loop().create_task(_quietly(sbx.kill()))
        self.free.put_nowait(None)

    async def _create(self) -> Any:
        from e2b_code_interpreter import AsyncSandbox

        o = self.owner
        kwargs: dict[str, Any] = dict(
            timeout=o.sandbox_lifetime_s, api_key=o.api_key, request_timeout=o.request_timeout
        )
        if o.template:
            kwargs["template"] = o.template
        if o.envs:
            kwargs["envs"] = o.envs
        sbx = await AsyncSandbox.create(**kwargs)
        self.all.add(sbx)
        self.born[id(sbx)] = time.monotonic()
        log.info("e2b: sandbox %s ready (%d in the pool)", getattr(sbx, "sandbox_id", "?"), self.count)
        return sbx

    async def close(self) -> None:
        await asyncio.gather(*(_quietly(s.kill()) for s in list(self.all)))
        self.all.clear()


async def _quietly(coro) -> None:
    try:
        await coro
    except Exception as exc:
        log.debug("e2b: cleanup call failed: %s", exc)


# -- mapping the SDK's objects -----------------------------------------------------------------------


def to_result(execution: Any, duration_s: float, max_output_chars: int = 1 << 20) -> ExecutionResult:
    """Map an `e2b_code_interpreter.Execution` to an `ExecutionResult`.

    stdout/stderr are the joined log chunks; an error adds its traceback (or "name: value") to
    stderr and makes the exit code 1, as an uncaught exception does for `python -c`.
    """
    logs = getattr(execution, "logs", None)
    stdout = "".join(_as_text(x) for x in (getattr(logs, "stdout", None) or []))
    stderr = "".join(_as_text(x) for x in (getattr(logs, "stderr", None) or []))
    error = getattr(execution, "error", None)
    if error is not None:
        stderr += format_error(error)
    stdout, t_out = truncate_middle(stdout, max_output_chars)
    stderr, t_err = truncate_middle(stderr, max_output_chars)
    return ExecutionResult(
        stdout=stdout,
        stderr=stderr,
        exit_code=1 if error is not None else 0,
        duration_s=duration_s,
        truncated=t_out or t_err,
        isolation=ISOLATION,
    )


def format_error(error: Any) -> str:
    """An `ExecutionError` as Python would print it: the traceback, ending with "name: value"."""
    name = getattr(error, "name", "") or "Error"
    value = getattr(error, "value", "") or ""
    tb = _ANSI.sub("", getattr(error, "traceback", "") or "").rstrip("\n")
    last = f"{name}: {value}" if value else name
    if last not in tb:
        tb = f"{tb}\n{last}" if tb else last
    return tb + "\n"


def classify_error(exc: BaseException) -> str:
    """'timeout' (the snippet ran too long), 'expired' (the sandbox is gone), 'transient' or 'fatal'."""
    try:
        from e2b.exceptions import (
            AuthenticationException,
            RateLimitException,
            SandboxNotFoundException,
            TimeoutException,
        )
    except ImportError:  # pragma: no cover - the SDK is a dependency of this backend
        return "transient" if _is_transient(exc) else "fatal"
    text = str(exc).lower()
    not_running = _sdk_class("SandboxNotRunningException")
    if isinstance(exc, SandboxNotFoundException) or (not_running and isinstance(exc, not_running)):
        return "expired"
    if isinstance(exc, TimeoutException):
        if "execution timed out" in text:
            return "timeout"
        if "sandbox was killed" in text or "not running" in text or "not found" in text:
            return "expired"
        return "transient"  # a request timed out
    if isinstance(exc, AuthenticationException):
        return "fatal"
    if isinstance(exc, RateLimitException):
        return "transient"
    return "transient" if _is_transient(exc) else "fatal"


def _sdk_class(name: str):
    try:
        import e2b.exceptions as ex
    except ImportError:  # pragma: no cover
        return None
    return getattr(ex, name, None)


def _is_transient(exc: BaseException) -> bool:
    try:
        import httpx
    except ImportError:  # pragma: no cover
        httpx = None
    if httpx is not None and isinstance(exc, httpx.TransportError | httpx.TimeoutException):
        return True
    for name in (
        "RateLimitException",
        "ServiceBusyException",
        "SandboxUnreachableException",
        "GuestUnresponsiveException",
    ):
        cls = _sdk_class(name)
        if cls is not None and isinstance(exc, cls):
            return True
    return isinstance(exc, ConnectionError | TimeoutError)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _as_text(chunk: Any) -> str:
    return chunk if isinstance(chunk, str) else str(getattr(chunk, "line", chunk))
