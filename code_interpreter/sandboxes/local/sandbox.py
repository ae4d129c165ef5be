"""The public local sandbox: a warm, isolated worker on this machine runs model-written snippets.

One worker process (`_worker.py`, started inside bubblewrap when available) imports the scientific
stack once and then forks a fresh child per snippet, so a snippet costs milliseconds instead of an
interpreter start-up, and still starts from a clean state. Isolation levels, limits and their
defaults are documented in docs/sandbox.md; `LocalSandbox.info` and every `ExecutionResult.isolation`
say which level is in effect.

The worker hands the host the sockets of pre-started snippet processes ("spares"), so a call goes
straight from the calling thread to its snippet process and back (batch.py); a supervisor thread per
sandbox starts the worker and relays its exit reports (worker_proxy.py). `run()` works from any
thread, `arun()` from any event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import itertools
import logging
import os
import select
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

from code_interpreter.protocol import DEFAULT_TIMEOUT_S
from code_interpreter.sandboxes.base import ExecutionResult, Sandbox
from code_interpreter.sandboxes.local.batch import Batch
from code_interpreter.sandboxes.local.host_view import userns_map
from code_interpreter.sandboxes.local.levels import (
    FULL_ISOLATION,
    ISOLATION_LEVELS,
    REQUIRE_FULL_ISOLATION_ENV,
    SandboxUnavailable,
    candidate_levels,
    weaker_level_notice,
)
from code_interpreter.sandboxes.local.limits import Limits
from code_interpreter.sandboxes.local.memory_cgroup import (
    MEMORY_CGROUP_ENV,
    cgroup_version,
    default_limit_mb,
    own_memory_cgroup,
)
from code_interpreter.sandboxes.local.worker_proxy import WorkerProxy

log = logging.getLogger(__name__)

_TOLD: set[str] = set()  # weaker levels this process has already explained
_TOLD_LOCK = threading.Lock()
#: Host uids from here on run snippets on a root host (inside the range systemd leaves to containers).
DEFAULT_SLOT_UID_BASE = 1_800_000_000
#: Imported once in the worker, so snippets that use them start in milliseconds.
DEFAULT_PRELOAD = ("numpy", "sympy", "scipy", "networkx")


class LocalSandbox(Sandbox):
    """Runs snippets in a warm worker on this machine, isolated as strongly as the host allows.

    Args:
        isolation: "auto" (strongest available), or one of "bwrap", "namespaces", "rlimits".
        require_full_isolation: refuse to run unless bubblewrap isolation is in effect (default:
            the R1CI_SANDBOX_REQUIRE_FULL_ISOLATION environment variable).
        max_concurrency: snippets running at once; more wait in a queue (default 8 x cores, >= 32).
        spares: snippet processes kept pre-started while idle, ready for the next call.
        preload: modules imported once in the worker (those that are missing are skipped).
        python: interpreter for snippets (default: this one, so the same packages are available).
        env: extra environment variables for snippets (the host's environment is never passed on).
        sandbox_uid: unprivileged host uid the worker runs as when the host runs as root.
        slot_uid_base: first of the host uids snippets run as when the host runs as root: each live
            snippet gets one of its own (`slot_uid_count` of them, by default enough for
            max_concurrency plus the spares), so per-user kernel limits are not shared.
        memory_cgroup: a parent cgroup (v2 with the memory controller delegated, or a writable v1
            memory directory) in which each worker gets a cgroup of its own with a hard limit of
            `cgroup_memory_mb` (default: half the machine's memory) for it and all its snippets
            (default: the R1CI_SANDBOX_MEMORY_CGROUP environment variable, else "auto": the cgroup
            this process runs in when it is usable; "none" turns it off).
        seccomp: load the seccomp filter (seccomp.py) into every snippet process where the kernel
            supports it; False only to measure what it costs.
        start_timeout: seconds to wait for the worker to start (it imports the preload modules).
        grace_s: extra seconds past a call's timeout before the worker is declared stuck and replaced.
        warm: start the worker now, in the background, rather than at the first call.
        limits: a `Limits`; the keyword arguments below override its fields.
        memory_mb, cpu_time_s, file_size_mb, tmp_size_mb, max_processes, max_open_files,
        max_output_bytes, output_kill_bytes: see `Limits`.

    `run` and `run_many` do their I/O in the calling thread (any thread); `arun` and `arun_many`
    hand the call to a thread pool, so they work from any event loop.
    """

    name = "local"

    def __init__(
        self,
        *,
        isolation: str = "auto",
        require_full_isolation: bool | None = None,
        max_concurrency: int | None = None,
        spares: int = 4,
        preload: Sequence[str] = DEFAULT_PRELOAD,
        python: str | None = None,
        env: Mapping[str, str] | None = None,
        sandbox_uid: int = 65534,
        slot_uid_base: int = DEFAULT_SLOT_UID_BASE,
        slot_uid_count: int | None = None,
        seccomp: bool = True,
        memory_cgroup: str | None = None,
        cgroup_memory_mb: int | None = None,
        start_timeout: float = 120.0,
        grace_s: float = 5.0,
        warm: bool = True,
        limits: Limits | None = None,
        memory_mb: int | None = None,
        cpu_time_s: float | None = None,
        file_size_mb: int | None = None,
        tmp_size_mb: int | None = None,
        max_processes: int | None = None,
        max_open_files: int | None = None,
        max_output_bytes: int | None = None,
        output_kill_bytes: int | None = None,
    ) -> None:
        overrides = {
            k: v
            for k, v in dict(
                memory_mb=memory_mb,
                cpu_time_s=cpu_time_s,
                file_size_mb=file_size_mb,
                tmp_size_mb=tmp_size_mb,
                max_processes=max_processes,
                max_open_files=max_open_files,
                max_output_bytes=max_output_bytes,
                output_kill_bytes=output_kill_bytes,
            ).items()
            if v is not None
        }
        self.limits = Limits(**{**asdict(limits or Limits()), **overrides})
        if require_full_isolation is None:
            require_full_isolation = os.environ.get(REQUIRE_FULL_ISOLATION_ENV, "").lower() in ("1", "true", "yes")
        self.require_full_isolation = require_full_isolation
        if isolation != "auto" and isolation not in ISOLATION_LEVELS:
            raise ValueError(f"isolation must be 'auto' or one of {ISOLATION_LEVELS}, got {isolation!r}")
        if require_full_isolation and isolation not in ("auto", FULL_ISOLATION):
            raise ValueError(f"require_full_isolation needs isolation={FULL_ISOLATION!r}, got {isolation!r}")
        self._candidates = candidate_levels(isolation, require_full_isolation)
        self.requested_isolation = isolation
        self.max_concurrency = max_concurrency or max(32, 8 * (os.cpu_count() or 1))
        if self.max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        _warn_if_pids_at_risk(self.max_concurrency * self.limits.max_processes)
        self.spares = spares
        self.preload = tuple(preload)
        self.python = python or sys.executable
        self.extra_env = dict(env or {})
        self.sandbox_uid = sandbox_uid
        self.seccomp = seccomp
        choice = memory_cgroup or os.environ.get(MEMORY_CGROUP_ENV) or "auto"
        if choice == "auto":
            found = own_memory_cgroup()
            self.memory_cgroup = str(found) if found is not None else None
        elif choice == "none":
            self.memory_cgroup = None
        else:
            cgroup_version(choice)  # a clear error now rather than a failed start later
            self.memory_cgroup = choice
        self.cgroup_memory_mb = cgroup_memory_mb or default_limit_mb()
        self.slot_uid_base = slot_uid_base
        # Spares and killed snippets not yet reaped hold a uid too; with none free the worker waits.
        self.slot_uid_count = slot_uid_count or self.max_concurrency + 2 * spares + 8
        userns_map(sandbox_uid, slot_uid_base, self.slot_uid_count)  # a bad range is refused now
        self.start_timeout = start_timeout
        self.grace_s = grace_s
        self.slots = threading.Semaphore(self.max_concurrency)
        self._cond = threading.Condition()
        self._waiters: set[int] = set()  # wake pipes of callers waiting for a slot or a spare
        self._worker: WorkerProxy | None = None
        self._want_start = warm
        self._start_gen = 0
        self._start_error: str | None = None
        self._closed = False
        self._ids = itertools.count(1)
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._req_r, self._req_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        # Workers are started from this long-lived thread: bwrap's --die-with-parent (a parent-death
        # signal) fires when the *thread* that started it ends.
        self._supervisor = threading.Thread(target=self._supervise, name="r1ci-sandbox", daemon=True)
        self._supervisor.start()

    # -- public API ---------------------------------------------------------------------------------

    @property
    def isolation(self) -> str:
        """The isolation level in effect (starts the worker if needed)."""
        return self.info["isolation"]

    @property
    def info(self) -> dict:
        """What the worker reported at start-up: isolation, uid, preloaded modules, warnings, limits."""
        return dict(self.ensure_worker().info)

    def wait_ready(self, timeout: float | None = None) -> dict:
        """Block until the worker is up; returns `info`. Raises SandboxUnavailable if it cannot start."""
        return dict(self.ensure_worker(timeout).info)

    def run(self, code: str, timeout: float = DEFAULT_TIMEOUT_S) -> ExecutionResult:
        return Batch(self, [code], self._timeout(timeout)).run()[0]

    def _timeout(self, timeout: float | None) -> float:
        return DEFAULT_TIMEOUT_S if timeout is None else max(0.001, float(timeout))

    def run_many(self, codes: Sequence[str], timeout: float = DEFAULT_TIMEOUT_S) -> list[ExecutionResult]:
        """Run a batch, at most `max_concurrency` at a time (shared by all callers); results keep input order."""
        return Batch(self, list(codes), self._timeout(timeout)).run()

    async def arun(self, code: str, timeout: float = DEFAULT_TIMEOUT_S) -> ExecutionResult:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), functools.partial(self.run, code, timeout))

    async def arun_many(self, codes: Sequence[str], timeout: float = DEFAULT_TIMEOUT_S) -> list[ExecutionResult]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), functools.partial(self.run_many, list(codes), timeout))

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
            self._poke()
        if threading.current_thread() is not self._supervisor:
            self._supervisor.join(10)
            if not self._supervisor.is_alive():  # only now can nobody write to them any more
                os.close(self._req_r)
                os.close(self._req_w)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # -- worker life cycle --------------------------------------------------------------------------

    def _pool(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._cond:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(self.max_concurrency, "r1ci-sandbox-call")
            return self._executor

    def _poke(self) -> None:
        try:
            os.write(self._req_w, b"!")
        except OSError:
            pass

    def ensure_worker(self, timeout: float | None = None) -> WorkerProxy:
        worker = self._worker
        if worker is not None and worker.alive:
            return worker
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                worker = self._worker
                if worker is not None and worker.alive:
                    return worker
                if self._closed:
                    raise RuntimeError("the sandbox is closed")
                gen = self._start_gen
                self._want_start = True
                self._poke()
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError("the sandbox worker did not start in time")
                self._cond.wait_for(lambda gen=gen: self._start_gen != gen or self._closed, left)
                if self._start_gen != gen and self._start_error is not None:
                    raise SandboxUnavailable(self._start_error)

    def _supervise(self) -> None:
        poller = select.poll()
        watched: list[int] = []
        while True:
            with self._cond:
                closed = self._closed
                start = self._want_start and (self._worker is None or not self._worker.alive)
            if closed:
                break
            if start:
                self._start_worker()
            worker = self._worker
            fds = [self._req_r] + (worker.watch_fds() if worker is not None and worker.alive else [])
            if fds != watched:
                for fd in watched:
                    poller.unregister(fd)
                for fd in fds:
                    poller.register(fd, select.POLLIN)
                watched = fds
            for fd, _ in poller.poll(1000):
                if fd == self._req_r:
                    try:
                        while os.read(self._req_r, 4096):
                            pass
                    except BlockingIOError:
                        pass
                elif worker is not None:
                    worker.on_readable(fd)
        if self._worker is not None:
            self._worker.stop("the sandbox was closed")

    def _start_worker(self) -> None:
        errors = []
        started = None
        for level in self._candidates:
            worker = WorkerProxy(self, level)
            try:
                worker.start()
            except Exception as exc:  # try the next, weaker level (or report them all)
                errors.append(f"{level}: {exc}")
                log.warning("local sandbox: %s isolation unavailable: %s", level, exc)
                continue
            started = worker
            msg = "local sandbox ready: isolation=%s seccomp=%s uid per slot=%s preloaded=%s (%.1fs)"
            info = worker.info
            seccomp_on = info.get("seccomp", {}).get("applied")
            args = (worker.isolation, seccomp_on, info.get("per_slot_uid"), info.get("preloaded"), worker.start_s)
            log.info(msg, *args)
            if worker.isolation != FULL_ISOLATION:
                notice = weaker_level_notice(worker.isolation, worker.warnings(), self.requested_isolation)
                with _TOLD_LOCK:  # once per process and level: a trainer makes many sandboxes
                    first = worker.isolation not in _TOLD
                    _TOLD.add(worker.isolation)
                (log.warning if first else log.info)(notice)
            break
        with self._cond:
            self._worker = started
            self._start_error = None if started else "could not start a local sandbox worker: " + " | ".join(errors)
            self._want_start = False
            self._start_gen += 1
            self._cond.notify_all()

    def wake_waiters(self) -> None:
        # Under the lock: a waiter closes its pipe under it too, so we never write to a reused fd.
        with self._cond:
            for fd in self._waiters:
                try:
                    os.write(fd, b"!")
                except OSError:  # full: already woken
                    pass

    def add_waiter(self, wake_fd: int) -> None:
        """`wake_fd` (a pipe's write end) gets a byte whenever a slot, a spare or an exit report frees up."""
        with self._cond:
            self._waiters.add(wake_fd)

    def remove_waiter(self, wake_fd: int) -> None:
        # Closed under the lock, so wake_waiters never writes to a reused fd.
        with self._cond:
            self._waiters.discard(wake_fd)
            os.close(wake_fd)

    def next_job_id(self) -> int:
        return next(self._ids)

    def current_worker(self) -> WorkerProxy | None:
        return self._worker

    def release_slot(self) -> None:
        self.slots.release()
        self.wake_waiters()

    def env_for(self, tmp: str) -> dict[str, str]:
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": tmp,
            "TMPDIR": tmp,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "NUMEXPR_NUM_THREADS": "1",
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.update(self.extra_env)
        return env

    # -- running snippets ---------------------------------------------------------------------------


def _warn_if_pids_at_risk(worst: int) -> None:
    """Snippets at full concurrency, each at its process limit, must leave the host room to fork."""
    room = []
    for path in ("/proc/sys/kernel/pid_max", "/proc/sys/kernel/threads-max"):
        try:
            room.append(int(Path(path).read_text()))
        except (OSError, ValueError):
            pass
    if room and worst > min(room) // 2:
        log.warning(
            "local sandbox: max_concurrency x max_processes = %d could use up more than half of this "
            "host's process ids (%d); lower one of them",
            worst,
            min(room),
        )
