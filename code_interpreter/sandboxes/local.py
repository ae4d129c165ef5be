"""The local sandbox: model-written snippets run in a warm, isolated worker on this machine.

One worker process (`_worker.py`, started inside bubblewrap when available) imports the scientific
stack once and then forks a fresh child per snippet, so a snippet costs milliseconds instead of an
interpreter start-up, and still starts from a clean state. Isolation levels, limits and their
defaults are documented in docs/sandbox.md; `LocalSandbox.info` and every `ExecutionResult.isolation`
say which level is in effect.

The worker hands the host the sockets of pre-started snippet processes ("spares"), so a call goes
straight from the calling thread to its snippet process and back; a supervisor thread per sandbox
starts the worker and relays its exit reports. `run()` works from any thread, `arun()` from any
event loop.
"""

from __future__ import annotations

import array
import asyncio
import collections
import concurrent.futures
import functools
import itertools
import json
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from code_interpreter.protocol import DEFAULT_TIMEOUT_S
from code_interpreter.sandboxes.base import ExecutionResult, Sandbox

log = logging.getLogger(__name__)

#: Strongest first. "bwrap" is full isolation; the others are fallbacks for hosts without it.
ISOLATION_LEVELS = ("bwrap", "namespaces", "rlimits")
FULL_ISOLATION = "bwrap"
#: Imported once in the worker, so snippets that use them start in milliseconds.
DEFAULT_PRELOAD = ("numpy", "sympy", "scipy", "networkx")
#: Set to 1/true to make every LocalSandbox refuse to run without full (bwrap) isolation.
REQUIRE_FULL_ISOLATION_ENV = "R1CI_SANDBOX_REQUIRE_FULL_ISOLATION"
_WORKER_SOURCE = (Path(__file__).with_name("_worker.py")).read_text()
# Compiled under its own name so snippet tracebacks ("<string>", as with `python -c`) never mix with it.
_BOOT = "import sys; exec(compile(sys.argv.pop(1), '<sandbox-worker>', 'exec'), {'__name__': '__main__'})"
# Not -I: it would ignore PYTHONMALLOC. The worker's environment is ours alone (never the host's),
# so -s (no user site) is all the isolation from the environment that is needed.
_PY_FLAGS = ("-s", "-X", "utf8")
#: The worker's heap lives in transparent huge pages: forking copies ~30x fewer page-table entries.
_WORKER_ENV = {"PYTHONMALLOC": "malloc", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
_SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_HIDE = (
    "/tmp",
    "/var/tmp",
    "/dev/shm",
    "/run",
    "/home",
    "/root",
    "/mnt",
    "/media",
    "/srv",
    "/opt",
    "/var/lib",
    "/var/cache",
    "/var/log",
    "/var/mail",
    "/var/spool",
    "/var/backups",
    "/boot",
)
_SIGNAL_NOTES = {
    signal.SIGSEGV: "Segmentation fault",
    signal.SIGXCPU: "CPU time limit exceeded",
    signal.SIGKILL: "Killed",
    signal.SIGABRT: "Aborted",
    signal.SIGBUS: "Bus error",
    signal.SIGFPE: "Floating point exception",
    signal.SIGXFSZ: "File size limit exceeded",
}


class SandboxUnavailable(RuntimeError):
    """The requested isolation cannot be provided on this machine."""


class _WorkerGone(RuntimeError):
    pass


@dataclass(frozen=True)
class Limits:
    """Per-snippet limits. Process limits apply to every process of the snippet separately."""

    memory_mb: int = 2048
    """Address space per process (RLIMIT_AS); a memory bomb gets MemoryError."""
    cpu_time_s: float | None = None
    """CPU seconds per process (RLIMIT_CPU); None means the call's timeout plus one second."""
    file_size_mb: int = 64
    """Largest file a snippet may write (RLIMIT_FSIZE); beyond it writes fail with EFBIG."""
    tmp_size_mb: int = 256
    """Size of the snippet's private /tmp (and /dev/shm) in memory."""
    max_processes: int = 128
    """Processes plus threads of one snippet (RLIMIT_NPROC, counted per snippet namespace)."""
    max_open_files: int = 1024
    """Open file descriptors per process (RLIMIT_NOFILE)."""
    max_output_bytes: int = 1 << 20
    """Bytes kept per stream; beyond it the head and tail are kept and `truncated` is set."""
    output_kill_bytes: int = 64 << 20
    """A snippet that writes more than this in total is stopped (an output flood)."""

    def rlimits(self, timeout: float) -> dict[str, list[int]]:
        cpu = self.cpu_time_s if self.cpu_time_s is not None else timeout + 1
        cpu = max(1, int(-(-cpu // 1)))
        mb = 1 << 20
        return {
            "RLIMIT_AS": [self.memory_mb * mb] * 2,
            "RLIMIT_CPU": [cpu, cpu + 1],  # soft: SIGXCPU, hard: SIGKILL
            "RLIMIT_FSIZE": [self.file_size_mb * mb] * 2,
            "RLIMIT_NPROC": [self.max_processes] * 2,
            "RLIMIT_NOFILE": [self.max_open_files] * 2,
            "RLIMIT_CORE": [0, 0],
        }


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
        sandbox_uid: unprivileged host uid that snippets run as when the host runs as root.
        hide_paths: extra host paths to hide in the "namespaces" fallback.
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
        hide_paths: Sequence[str] = (),
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
        self._candidates = _candidate_levels(isolation, require_full_isolation)
        self.max_concurrency = max_concurrency or max(32, 8 * (os.cpu_count() or 1))
        if self.max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        _warn_if_pids_at_risk(self.max_concurrency * self.limits.max_processes)
        self.spares = spares
        self.preload = tuple(preload)
        self.python = python or sys.executable
        self.extra_env = dict(env or {})
        self.sandbox_uid = sandbox_uid
        self.hide_paths = tuple(hide_paths)
        self.start_timeout = start_timeout
        self.grace_s = grace_s
        self._slots = threading.Semaphore(self.max_concurrency)
        self._cond = threading.Condition()
        self._waiters: set[int] = set()  # wake pipes of callers waiting for a slot or a spare
        self._worker: _Worker | None = None
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
        return dict(self._ensure_worker().info)

    def wait_ready(self, timeout: float | None = None) -> dict:
        """Block until the worker is up; returns `info`. Raises SandboxUnavailable if it cannot start."""
        return dict(self._ensure_worker(timeout).info)

    def run(self, code: str, timeout: float = DEFAULT_TIMEOUT_S) -> ExecutionResult:
        return self._run_batch([code], timeout)[0]

    def _timeout(self, timeout: float | None) -> float:
        return DEFAULT_TIMEOUT_S if timeout is None else max(0.001, float(timeout))

    def run_many(self, codes: Sequence[str], timeout: float = DEFAULT_TIMEOUT_S) -> list[ExecutionResult]:
        """Run a batch, at most `max_concurrency` at a time (shared by all callers); results keep input order."""
        return self._run_batch(list(codes), timeout)

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

    def _ensure_worker(self, timeout: float | None = None) -> _Worker:
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
            worker = _Worker(self, level)
            try:
                worker.start()
            except Exception as exc:  # try the next, weaker level (or report them all)
                errors.append(f"{level}: {exc}")
                log.warning("local sandbox: %s isolation unavailable: %s", level, exc)
                continue
            started = worker
            msg = "local sandbox ready: isolation=%s uid=%s preloaded=%s (%.1fs)"
            args = (worker.isolation, worker.info.get("uid"), worker.info.get("preloaded"), worker.start_s)
            if worker.isolation == FULL_ISOLATION:
                log.info(msg, *args)
            else:
                log.warning(msg + "; weaker than full isolation: %s", *args, "; ".join(worker.warnings()))
            break
        with self._cond:
            self._worker = started
            self._start_error = None if started else "could not start a local sandbox worker: " + " | ".join(errors)
            self._want_start = False
            self._start_gen += 1
            self._cond.notify_all()

    def _wake_waiters(self) -> None:
        # Under the lock: a waiter closes its pipe under it too, so we never write to a reused fd.
        with self._cond:
            for fd in self._waiters:
                try:
                    os.write(fd, b"!")
                except OSError:  # full: already woken
                    pass

    def _release_slot(self) -> None:
        self._slots.release()
        self._wake_waiters()

    def _env(self, tmp: str) -> dict[str, str]:
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

    def _run_batch(self, codes: list[str], timeout: float) -> list[ExecutionResult]:
        """Feed `codes` to spares (bounded by the shared slots) and collect their output with poll()."""
        timeout = self._timeout(timeout)
        results: list[ExecutionResult | None] = [None] * len(codes)
        queue = collections.deque(range(len(codes)))
        live: dict[int, _Job] = {}  # fd -> job
        running: set[_Job] = set()
        poller = select.poll()
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        poller.register(wake_r, select.POLLIN)
        with self._cond:
            self._waiters.add(wake_w)
        try:
            while queue or running:
                while queue and self._slots.acquire(blocking=False):
                    i = queue[0]
                    try:
                        for attempt in range(3):
                            worker = self._ensure_worker()
                            try:
                                job = worker.dispatch(next(self._ids), codes[i], float(timeout))
                                break
                            except _WorkerGone:  # it died just now: the next attempt starts a new one
                                if attempt == 2:
                                    raise
                    except Exception as exc:
                        self._slots.release()
                        queue.popleft()
                        results[i] = ExecutionResult(
                            "", "", None, False, 0.0, False, isolation="unavailable", error=str(exc)
                        )
                        continue
                    if job is None:  # no spare yet: one has been requested, wait to be woken
                        self._slots.release()
                        break
                    queue.popleft()
                    job.index = i
                    running.add(job)
                    for fd in job.kinds:
                        live[fd] = job
                        poller.register(fd, select.POLLIN)
                now = time.monotonic()
                wait = min((j.next_check() for j in running), default=now + 1.0) - now
                if queue or any(j.nudged for j in running):
                    wait = min(wait, 0.1)
                settled: list[_Job] = []
                for fd, _ in poller.poll(max(0, int(wait * 1000)) + 1):
                    if fd == wake_r:
                        _drain(wake_r)
                        continue
                    job = live.get(fd)
                    if job is not None:
                        job.pump(fd)
                        settled.append(job)
                now = time.monotonic()
                for job in running:
                    if not job.finished and job.killed_at is None and job.pidfd is not None and now >= job.deadline:
                        job.kill_now(timed_out=True)  # the host enforces its own deadline
                    if job.exit_seen and not job.finished:  # killed, or reported by the supervisor
                        job._finish()
                        settled.append(job)
                for job in settled:
                    for gone in job.closed:
                        live.pop(gone, None)
                        poller.unregister(gone)
                    job.closed.clear()
                    if job.finished and job in running:
                        running.discard(job)
                        results[job.index] = job.result()
                now = time.monotonic()
                worker = self._worker
                stuck_after = max(30.0, 6 * self.grace_s)
                if worker is not None and worker.alive and (queue or running) and worker.stuck(now, stuck_after):
                    worker.abort(f"the worker has not answered for {stuck_after:g}s; replacing it")
                for job in running:  # without a pidfd the worker enforces the deadline: watch it does
                    if now > job.backstop and not job.aborted:
                        # The worker kills at the deadline and says so at once. If it has not, ask
                        # again; replace it only when it has gone silent (stuck), or if even that
                        # does not help: a loaded machine (slow to tear snippets down) is no reason
                        # to fail every other snippet in flight.
                        worker = job.worker
                        silent = now - worker.last_heard > self.grace_s and not worker.has_news()
                        if silent or now > job.backstop + 4 * self.grace_s:
                            job.aborted = True
                            worker.abort(f"no answer {self.grace_s:g}s past a snippet's timeout; replacing the worker")
                        elif not job.nudged:
                            job.nudged = True
                            worker.kill(job)
        finally:
            with self._cond:
                self._waiters.discard(wake_w)
                os.close(wake_w)
            os.close(wake_r)
            for job in running:  # interrupted (e.g. KeyboardInterrupt): stop what we started
                job.kill_now(timed_out=False)
                job.close_all()
        return results  # type: ignore[return-value]


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


def _close_spare(spare: tuple[int, socket.socket, int | None]) -> None:
    spare[1].close()
    if spare[2] is not None:
        os.close(spare[2])


def _candidate_levels(isolation: str, require_full: bool) -> list[str]:
    if require_full:
        if shutil.which("bwrap") is None:
            raise SandboxUnavailable(
                "full sandbox isolation is required but bubblewrap (`bwrap`) is not on PATH; "
                "install it (Debian/Ubuntu: apt-get install bubblewrap) or allow a weaker level"
            )
        return [FULL_ISOLATION]
    if isolation != "auto":
        return [isolation]
    levels = list(ISOLATION_LEVELS)
    if shutil.which("bwrap") is None:
        levels.remove("bwrap")
    return levels


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except (BlockingIOError, OSError):
        pass


def _recv_fds(sock: socket.socket, bufsize: int, maxfds: int) -> tuple[bytes, list[int]]:
    fds = array.array("i")
    msg, ancdata, _, _ = sock.recvmsg(bufsize, socket.CMSG_LEN(maxfds * fds.itemsize))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    return msg, list(fds)


class _Capture:
    """Keeps up to `cap` bytes of a stream: all of it, or its head and tail."""

    __slots__ = ("cap", "head", "tail", "total")

    def __init__(self, cap: int) -> None:
        self.cap, self.head, self.tail, self.total = cap, bytearray(), bytearray(), 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self.cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > 2 * self.cap:
                del self.tail[: len(self.tail) - self.cap]

    def text(self) -> tuple[str, bool]:
        if self.total <= self.cap:
            return _decode(self.head), False
        keep_head = self.cap // 2
        keep_tail = self.cap - keep_head
        tail = (self.head[keep_head:] + self.tail)[-keep_tail:] if keep_tail else b""
        dropped = self.total - keep_head - len(tail)
        return f"{_decode(self.head[:keep_head])}\n... [{dropped} bytes truncated] ...\n{_decode(tail)}", True


def _decode(data: bytes | bytearray) -> str:
    # Invalid UTF-8 becomes visible escapes (\xff); control characters pass through unchanged.
    return bytes(data).decode("utf-8", "backslashreplace")


class _Job:
    """One snippet in flight. Pipes are read by the calling thread; the supervisor thread only sets
    `exit_msg` (the snippet was killed or has exited) and wakes the callers, so nothing the snippet
    writes can delay or fake that signal."""

    def __init__(self, worker: _Worker, jid: int, pid: int, timeout: float) -> None:
        self.worker, self.id, self.pid, self.timeout = worker, jid, pid, timeout
        limits = worker.owner.limits
        self.limits = limits
        self.out = _Capture(limits.max_output_bytes)
        self.err = _Capture(limits.max_output_bytes)
        self.status = b""  # the unfinished last line of the status pipe (bounded)
        self.status_total = 0
        self.kinds: dict[int, str] = {}
        self.closed: list[int] = []
        self.index = -1
        self.t0 = time.perf_counter()
        self.deadline = time.monotonic() + timeout
        self.backstop = self.deadline + worker.owner.grace_s
        self.pidfd: int | None = None  # the caller's to use and close
        self.killed_at: float | None = None
        self.done_code: int | None = None
        self.exit_msg: dict | None = None
        self.exit_seen = False  # set by the supervisor thread; acted on by the caller's thread
        self.error: str | None = None
        self.flooded = self.finished = self.aborted = self.nudged = False

    # -- caller side --------------------------------------------------------------------------------

    def pump(self, fd: int) -> None:
        kind = self.kinds.get(fd)
        if kind is None:
            return
        for _ in range(16):  # bounded, so one flooding snippet cannot starve the others
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._close(fd)
                return
            if kind == "status":
                self.status_total += len(data)
                self._parse_status(data)
                if self.finished:
                    return
            else:
                (self.out if kind == "out" else self.err).feed(data)
            if self.out.total + self.err.total + self.status_total > self.limits.output_kill_bytes:
                if not self.flooded:
                    self.flooded = True
                    self.kill_now(timed_out=False)
                    for other in list(self.kinds):  # stop reading: the snippet's result is its exit
                        self._close(other)
                return

    def kill_now(self, timed_out: bool) -> None:
        """SIGKILL the snippet (its pid namespace goes with it) and answer without waiting for its
        exit report; without a pidfd, ask the worker and wait for its word."""
        if self.pidfd is None or not self.worker.info.get("snippet_ns"):
            self.worker.kill(self)  # without namespaces, the worker also ends the process group
        if self.pidfd is None:
            return
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except OSError:  # already gone
            pass
        self.killed_at = time.monotonic()
        if self.exit_msg is None:
            self.exit_msg = {"signal": signal.SIGKILL, "killed": True, "timed_out": timed_out}
        self.exit_seen = True

    def next_check(self) -> float:
        """When the caller must look at this job again if nothing happens."""
        if self.pidfd is not None:
            return self.deadline if self.killed_at is None else self.deadline + 3600
        return self.backstop if not self.nudged else self.backstop + 4 * self.worker.owner.grace_s

    def _parse_status(self, data: bytes) -> None:
        # The status pipe is the snippet's to write to: only a well-formed b"D<code>" line counts,
        # and at most one short unfinished line is kept, so garbage costs the host nothing.
        *lines, rest = (self.status + data).split(b"\n")
        self.status = rest if len(rest) <= 8 else b"?"  # a longer unfinished line is garbage already
        for line in lines:
            if self.done_code is None and 2 <= len(line) <= 4 and line[:1] == b"D" and line[1:].isdigit():
                self.done_code = min(int(line[1:]), 255)
                self._finish()
                return

    def _finish(self) -> None:
        for fd, kind in list(self.kinds.items()):
            if kind != "status":  # what the snippet wrote before it finished is already in the pipe
                budget = self.limits.output_kill_bytes
                while budget > 0:
                    try:
                        data = os.read(fd, 65536)
                    except OSError:
                        break
                    if not data:
                        break
                    budget -= len(data)
                    (self.out if kind == "out" else self.err).feed(data)
        self.close_all()
        self.finished = True

    def _close(self, fd: int) -> None:
        if self.kinds.pop(fd, None) is not None:
            os.close(fd)
            self.closed.append(fd)

    def close_all(self) -> None:
        for fd in list(self.kinds):
            self._close(fd)
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None

    def result(self) -> ExecutionResult:
        duration = time.perf_counter() - self.t0
        stdout, t_out = self.out.text()
        stderr, t_err = self.err.text()
        exit_code: int | None = None
        timed_out = False
        error = self.error
        if self.done_code is not None:
            exit_code = self.done_code
        elif self.exit_msg is not None:
            msg = self.exit_msg
            timed_out = bool(msg.get("timed_out"))
            # Only the worker can say the sandbox failed: nothing the snippet writes or exits with can.
            error = error or msg.get("setup_error") or msg.get("error")
            if timed_out or error:
                exit_code = None
            elif msg.get("code") is not None:
                exit_code = msg["code"]
            elif msg.get("signal") is not None:
                exit_code = -int(msg["signal"])
                if not msg.get("killed"):
                    note = _SIGNAL_NOTES.get(int(msg["signal"]), f"Killed by signal {msg['signal']}")
                    cpu_limit = self.limits.rlimits(self.timeout)["RLIMIT_CPU"][0]
                    if msg.get("cpu_s", 0) >= cpu_limit - 0.05:
                        # The snippet is pid 1 of its namespace, which ignores SIGXCPU; the hard limit's
                        # SIGKILL ends it a second later.
                        note = "CPU time limit exceeded"
                    stderr += ("" if not stderr or stderr.endswith("\n") else "\n") + f"[{note}]\n"
        else:
            error = error or "the snippet's result was lost"
        if self.flooded:
            stderr += "" if not stderr or stderr.endswith("\n") else "\n"
            stderr += f"[output limit exceeded ({self.limits.output_kill_bytes} bytes): the snippet was stopped]\n"
        return ExecutionResult(
            stdout,
            stderr,
            exit_code,
            timed_out,
            duration,
            t_out or t_err or self.flooded,
            isolation=self.worker.isolation,
            error=error,
        )

    # -- supervisor side ----------------------------------------------------------------------------

    def exited(self, msg: dict | None, error: str | None = None) -> None:
        """The process has exited (msg from the worker), or the worker died (msg None, error)."""
        if self.exit_msg is None:
            self.exit_msg = msg
        if error and self.done_code is None:
            self.error = self.error or error
        self.exit_seen = True

    def killed(self, msg: dict) -> None:
        """The worker has just sent the snippet SIGKILL (timeout or output flood): answer now, without
        waiting for the kernel to tear its processes down (seconds under heavy load)."""
        if self.exit_msg is None:
            self.exit_msg = {"signal": signal.SIGKILL, "killed": True, "timed_out": bool(msg.get("timed_out"))}
        self.exit_seen = True


class _Worker:
    """One worker process: its control socket, its spares and its jobs in flight."""

    def __init__(self, owner: LocalSandbox, level: str) -> None:
        self.owner = owner
        self.level = level
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.ctl: socket.socket | None = None
        # (pid, socket, pidfd or None): the host kills a snippet itself through its pidfd, on time
        # however busy the worker (or the kernel, tearing other snippets down) may be.
        self.spares: collections.deque[tuple[int, socket.socket, int | None]] = collections.deque()
        self.requested = 0
        self.asked_at = 0.0  # when the oldest spawn request still unanswered was sent
        self.spawn_failures = 0
        self.jobs: dict[int, _Job] = {}  # pid -> job
        self.info: dict = {}
        self.alive = False
        self.tmpdir: str | None = None
        self.start_s = 0.0
        self.isolation = level
        self._stderr_tail = bytearray()
        self._stopping = False
        self._abort_reason: str | None = None
        self.last_heard = time.monotonic()  # when the worker last said anything

    # -- start / stop (supervisor thread) -----------------------------------------------------------

    def start(self) -> None:
        t0 = time.monotonic()
        owner = self.owner
        host_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        helper = userns_fd = None
        try:
            cfg = {
                "ctl_fd": child_end.fileno(),
                "mode": self.level,
                "preload": list(owner.preload),
                "spares": owner.spares,
                "tmp_bytes": owner.limits.tmp_size_mb << 20,
                "tmp_inodes": 1 << 16,
            }
            pass_fds = [child_end.fileno()]
            as_root = os.geteuid() == 0
            if self.level in ("bwrap", "namespaces") and as_root:
                helper, userns_fd = _userns_for(owner.sandbox_uid)
                pass_fds.append(userns_fd)
            if self.level == "bwrap":
                layout = _python_layout(owner.python)
                cfg["env"] = owner._env("/tmp")
                cfg["drop_root"] = as_root
                cfg["keep"] = layout["roots"]
                argv = _bwrap_argv(layout, cfg, userns_fd)
                env: dict[str, str] = {}
            elif self.level == "namespaces":
                layout = _python_layout(owner.python)
                cfg["env"] = owner._env("/tmp")
                cfg["userns_fd"] = userns_fd
                cfg["keep"] = layout["roots"]
                cfg["hide"] = _hide_list(owner.hide_paths, layout["roots"])
                argv = [layout["executable"], *_PY_FLAGS, "-c", _BOOT, _WORKER_SOURCE, json.dumps(cfg)]
                env = {**cfg["env"], **_WORKER_ENV}
            else:
                self.tmpdir = tempfile.mkdtemp(prefix="r1ci-sandbox-")
                cfg["env"] = owner._env(self.tmpdir)
                cfg["tmp"] = self.tmpdir
                argv = [owner.python, *_PY_FLAGS, "-c", _BOOT, _WORKER_SOURCE, json.dumps(cfg)]
                env = {**cfg["env"], **_WORKER_ENV}
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=pass_fds,
                env=env,
                cwd=self.tmpdir or "/",
                start_new_session=True,
            )
        except BaseException:
            host_end.close()
            self._cleanup_tmp()
            raise
        finally:
            child_end.close()
            if userns_fd is not None:
                os.close(userns_fd)
        self.ctl = host_end
        os.set_blocking(self.proc.stderr.fileno(), False)
        try:
            self.info = self._wait_ready(t0 + owner.start_timeout)
        except BaseException as exc:
            self.alive = True
            self.stop(str(exc))
            detail = self._stderr_tail.decode(errors="replace").strip()[-2000:]
            raise SandboxUnavailable(f"worker did not start ({exc})" + (f": {detail}" if detail else "")) from None
        finally:
            if helper is not None:
                helper.kill()
                helper.wait()
        self.ctl.setblocking(False)
        self.alive = True
        self.start_s = time.monotonic() - t0
        self.info["isolation"] = self.isolation = self._isolation_name()
        self.info["limits"] = asdict(owner.limits)
        self.info["max_concurrency"] = owner.max_concurrency

    def _wait_ready(self, deadline: float) -> dict:
        poller = select.poll()
        poller.register(self.ctl.fileno(), select.POLLIN)
        poller.register(self.proc.stderr.fileno(), select.POLLIN)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out")
            for fd, _ in poller.poll(int(left * 1000) + 1):
                if fd == self.ctl.fileno():
                    msg, fds = _recv_fds(self.ctl, 65536, 4)
                    for extra in fds:
                        os.close(extra)
                    if not msg:
                        raise RuntimeError(f"worker exited with status {self.proc.wait()}")
                    data = json.loads(msg)
                    if data.get("op") == "ready":
                        return data
                else:
                    self._read_stderr()

    def _isolation_name(self) -> str:
        if self.level == "rlimits":
            return "rlimits"
        full = self.info.get("snippet_ns") and self.info.get("private_proc")
        return self.level if full else f"{self.level}-partial"

    def warnings(self) -> list[str]:
        out = list(self.info.get("warnings", []))
        if self.level == "rlimits":
            out.append("no namespaces: snippets share the host's filesystem view, network and user")
        elif self.level == "namespaces":
            out.append("bubblewrap not found: namespaces set up by the worker itself")
        if self.info.get("snippet_ns") and not self.info.get("private_proc"):
            out.append("snippets share /proc with one another")
        return out

    def has_news(self) -> bool:
        """Whether the worker has said something the supervisor thread has not read yet."""
        ctl = self.ctl
        try:
            return ctl is not None and bool(select.select([ctl], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    def watch_fds(self) -> list[int]:
        fds = [self.ctl.fileno()] if self.ctl is not None else []
        if self.proc is not None and not self.proc.stderr.closed:
            fds.append(self.proc.stderr.fileno())
        return fds

    def on_readable(self, fd: int) -> None:
        if self.ctl is not None and fd == self.ctl.fileno():
            self._on_ctl()
        elif self.proc is not None and not self.proc.stderr.closed and fd == self.proc.stderr.fileno():
            self._read_stderr()

    def _on_ctl(self) -> None:
        while self.ctl is not None:
            try:
                data, fds = _recv_fds(self.ctl, 65536, 4)
            except BlockingIOError:
                return
            except OSError as exc:
                self.die(f"control socket error: {exc}")
                return
            if not data:
                code = self.proc.poll() if self.proc else None
                self.die("worker exited" + (f" with status {code}" if code is not None else ""))
                return
            self.last_heard = time.monotonic()
            msg = json.loads(data)
            op = msg.get("op")
            if op == "spare" and fds:
                for extra in fds[2:]:
                    os.close(extra)
                with self.lock:
                    self.spares.append((msg["pid"], socket.socket(fileno=fds[0]), fds[1] if len(fds) > 1 else None))
                    self.requested = max(0, self.requested - 1)
                    self.asked_at = time.monotonic()
                    self.spawn_failures = 0
                self.owner._wake_waiters()
            elif op == "killed":
                with self.lock:
                    job = self.jobs.get(msg.get("pid"))
                if job is not None and job.id == msg.get("id"):
                    job.killed(msg)
                    self.owner._wake_waiters()
            elif op == "exit":
                for fd in fds:
                    os.close(fd)
                with self.lock:
                    job = self.jobs.pop(msg["pid"], None)
                    if job is None:  # a spare that died before getting a job
                        for spare in [s for s in self.spares if s[0] == msg["pid"]]:
                            self.spares.remove(spare)
                            _close_spare(spare)
                if job is not None:
                    job.exited(msg)
                    self.owner._release_slot()
            elif op == "spawn_failed":
                with self.lock:
                    self.requested = max(0, self.requested - 1)
                    self.spawn_failures += 1
                    poisoned = self.spawn_failures >= 5
                log.warning("local sandbox: could not start a snippet process: %s", msg.get("error"))
                if poisoned:  # a worker that cannot fork any more is replaced by a fresh one
                    self.abort(f"the worker failed to start snippet processes: {msg.get('error')}")
                self.owner._wake_waiters()

    def _read_stderr(self) -> None:
        try:
            data = os.read(self.proc.stderr.fileno(), 65536)
        except BlockingIOError:
            return
        except (OSError, ValueError):
            data = b""
        if not data:
            self.proc.stderr.close()
            return
        self._stderr_tail += data
        del self._stderr_tail[:-8192]
        for line in data.decode(errors="replace").splitlines():
            if line.strip():
                log.debug("sandbox worker: %s", line)

    def stop(self, why: str) -> None:
        self._stopping = True
        if self.ctl is not None:
            try:
                self.ctl.send(b'{"op": "stop"}')
            except OSError:
                pass
        self.die(why)

    def abort(self, why: str) -> None:
        """Called from a caller thread when the worker stopped answering: kill it; the supervisor
        then sees the control socket close and fails the jobs in flight."""
        log.warning("local sandbox: %s", why)
        self._abort_reason = why
        self._killpg()

    def _killpg(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass

    def die(self, why: str) -> None:
        why = self._abort_reason or why
        with self.lock:
            was_alive, self.alive = self.alive, False
            jobs = list(self.jobs.values())
            self.jobs.clear()
            spares = list(self.spares)
            self.spares.clear()
        if not was_alive:
            return
        self._killpg()
        if self.ctl is not None:
            self.ctl.close()
            self.ctl = None
        for spare in spares:
            _close_spare(spare)
        for job in jobs:
            job.exited(None, f"sandbox worker died: {why}")
            self.owner._release_slot()
        if self.proc is not None:
            proc = self.proc
            threading.Thread(target=proc.wait, daemon=True).start()  # reap without blocking
            if not proc.stderr.closed:
                proc.stderr.close()
        self._cleanup_tmp()
        self.owner._wake_waiters()
        (log.debug if self._stopping else log.warning)("local sandbox worker stopped: %s", why)

    def _cleanup_tmp(self) -> None:
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    # -- jobs (caller threads) ----------------------------------------------------------------------

    def _send_ctl(self, msg: dict) -> None:
        data = json.dumps(msg).encode()
        for _ in range(1000):
            ctl = self.ctl
            if ctl is None:
                return
            try:
                ctl.send(data)
                return
            except BlockingIOError:  # the worker is behind: wait for room (back-pressure)
                select.select([], [ctl], [], 0.01)
            except OSError:
                return

    def _take_spare(self) -> tuple[int, socket.socket] | None:
        with self.lock:
            if not self.alive:
                raise _WorkerGone("the sandbox worker stopped")
            if self.spares:
                return self.spares.popleft()
            ask = self.requested == 0
            if ask:
                self.requested += 1
                self.asked_at = time.monotonic()
        if ask:
            self._send_ctl({"op": "spawn", "n": 1})
        return None

    def dispatch(self, jid: int, code: str, timeout: float) -> _Job | None:
        """Hand `code` to a pre-started snippet process; None if none is ready yet (one was asked for)."""
        header = {"rlimits": self.owner.limits.rlimits(timeout)}
        # Encoded before a spare is taken, so a bad string costs nothing. "surrogatepass" (decoded the
        # same way by the worker) carries any str, even lone surrogates, to the snippet unchanged.
        payload = json.dumps(header).encode() + b"\n" + code.encode("utf-8", "surrogatepass")
        while True:
            spare = self._take_spare()
            if spare is None:
                return None
            pid, sock, pidfd = spare
            job = _Job(self, jid, pid, timeout)
            mine: list[int] = []  # the host's ends: the job's from here on
            theirs: list[int] = []  # the snippet's ends: closed here once sent
            try:
                theirs.append(os.memfd_create("snippet", os.MFD_CLOEXEC))
                for kind in ("out", "err", "status"):
                    r, w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
                    mine.append(r)
                    theirs.append(w)
                    os.set_blocking(w, True)  # the snippet's ends block, as ordinary stdout does
                    job.kinds[r] = kind
                os.write(theirs[0], payload)
                os.lseek(theirs[0], 0, os.SEEK_SET)
            except BaseException:  # the host is short of something (fds, memory): keep the spare
                for fd in mine + theirs:
                    os.close(fd)
                with self.lock:
                    if self.alive:
                        self.spares.appendleft(spare)
                        spare = None
                if spare is not None:
                    _close_spare(spare)
                raise
            with self.lock:
                self.jobs[pid] = job
            try:
                socket.send_fds(sock, [b"J"], theirs)
            except OSError:  # that spare is gone (its exit is, or will be, reported): try another
                with self.lock:
                    if self.jobs.get(pid) is job:
                        del self.jobs[pid]
                for fd in mine + ([pidfd] if pidfd is not None else []):
                    os.close(fd)
                continue
            finally:
                for fd in theirs:
                    os.close(fd)
                sock.close()
            job.pidfd = pidfd
            job.t0 = time.perf_counter()
            # The deadline is absolute (CLOCK_MONOTONIC is shared): a worker that reads this late, on
            # a loaded machine, still kills on time.
            self._send_ctl({"op": "start", "pid": pid, "id": jid, "timeout": timeout, "deadline": job.deadline})
            return job

    def kill(self, job: _Job) -> None:
        self._send_ctl({"op": "kill", "pid": job.pid})

    def stuck(self, now: float, after: float) -> bool:
        """Silent for `after` seconds while it owes the host something (a spare, or the exit of a
        snippet the host has killed): the worker is hung, not just busy."""
        if now - self.last_heard <= after:
            return False
        with self.lock:
            if self.requested and now - self.asked_at > after:
                return True
            return any(j.killed_at is not None and now - j.killed_at > after for j in self.jobs.values())


# --------------------------------------------------------------------------------------------------
# Helpers for building the worker's view of the machine

_LAYOUT_SRC = r"""
import json, os, sys
chain, p = [], sys.executable
for _ in range(40):
    chain.append(p)
    if not os.path.islink(p):
        break
    p = os.path.normpath(os.path.join(os.path.dirname(p), os.readlink(p)))
roots = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
print(json.dumps({"executable": sys.executable, "chain": chain, "roots": roots}))
"""


def _python_layout(python: str) -> dict:
    """Where the interpreter and its environment live, so exactly those paths can be shown read-only."""
    out = subprocess.run(
        [python, "-I", "-c", _LAYOUT_SRC], capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}
    )
    if out.returncode != 0:
        raise SandboxUnavailable(f"cannot inspect the interpreter {python!r}: {out.stderr.strip()[-500:]}")
    layout = json.loads(out.stdout)
    paths = [os.path.abspath(p) for p in layout["roots"]]
    paths += [os.path.dirname(p) for p in layout["chain"]]
    roots: list[str] = []
    for p in sorted(set(paths), key=len):
        if any(p == s or p.startswith(s + "/") for s in _SYSTEM_DIRS):
            continue  # already visible as part of the system directories
        if any(p == r or p.startswith(r + "/") for r in roots):
            continue
        if os.path.isdir(p):
            roots.append(p)
    layout["roots"] = roots
    return layout


def _bwrap_argv(layout: dict, cfg: dict, userns_fd: int | None) -> list[str]:
    argv = ["bwrap"]
    if userns_fd is not None:
        # Root host: a user namespace prepared by us maps an unprivileged uid, which the worker
        # switches to after setup (see _worker._bwrap_root_setup); bwrap keeps the caps it needs.
        argv += ["--userns", str(userns_fd), "--uid", "0", "--gid", "0"]
        for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SYS_ADMIN", "CAP_SETPCAP"):
            argv += ["--cap-add", cap]
    else:
        argv += ["--unshare-user", "--uid", "1000", "--gid", "1000"]
    argv += [
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]
    for key, value in {**cfg["env"], **_WORKER_ENV}.items():
        argv += ["--setenv", key, value]
    for d in _SYSTEM_DIRS:
        if os.path.islink(d):
            argv += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            argv += ["--ro-bind", d, d]
    # /tmp is private and must exist before the interpreter's roots are bound: a venv under the
    # host's /tmp (a CI checkout there, say) would otherwise be hidden by the tmpfs.
    argv += ["--perms", "1777", "--tmpfs", "/tmp"]
    made: set[str] = set()
    for root in layout["roots"]:
        parents = []
        parent = os.path.dirname(root)
        while parent not in ("/", "") and parent not in made:
            parents.append(parent)
            parent = os.path.dirname(parent)
        for p in reversed(parents):
            argv += ["--perms", "0755", "--dir", p]
            made.add(p)
        argv += ["--ro-bind", root, root]
    thp = "/sys/kernel/mm/transparent_hugepage"
    if os.path.isdir(thp):  # glibc reads this to decide whether to back the worker's heap with huge pages
        argv += [
            "--perms",
            "0755",
            "--dir",
            "/sys",
            "--perms",
            "0755",
            "--dir",
            "/sys/kernel",
            "--perms",
            "0755",
            "--dir",
            "/sys/kernel/mm",
            "--ro-bind",
            thp,
            thp,
        ]
    argv += ["--dev", "/dev", "--proc", "/proc", "--chdir", "/tmp"]
    argv += ["--", layout["executable"], *_PY_FLAGS, "-c", _BOOT, _WORKER_SOURCE, json.dumps(cfg)]
    return argv


def _hide_list(extra: Sequence[str], keep: Sequence[str]) -> list[str]:
    home = os.path.expanduser("~")
    cands = list(_HIDE) + [str(_PROJECT_ROOT), os.getcwd(), home, *extra]
    out = []
    for p in cands:
        p = os.path.abspath(p)
        if p == "/" or any(s == p or s.startswith(p.rstrip("/") + "/") for s in _SYSTEM_DIRS):
            continue  # never hide the system itself
        if p not in out:
            out.append(p)
    return out


_USERNS_HELPER = (
    "import ctypes, os, sys\n"
    "ok = ctypes.CDLL(None, use_errno=True).unshare(0x10000000) == 0\n"
    "os.write(1, b'ok' if ok else b'no')\n"
    "sys.stdin.buffer.read()\n"
)


def _userns_for(uid: int) -> tuple[subprocess.Popen, int]:
    """A user namespace in which 0 is root (for setup only) and 1000 is the unprivileged host `uid`.

    Only a privileged process may write a mapping with two ranges, so the host (root) writes it
    for a helper that sits in the new namespace; bwrap (or the worker) then joins it by fd.
    """
    helper = subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", _USERNS_HELPER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={}
    )
    try:
        if helper.stdout.read(2) != b"ok":
            raise SandboxUnavailable("cannot create a user namespace")
        for name in ("uid_map", "gid_map"):
            with open(f"/proc/{helper.pid}/{name}", "w") as f:
                f.write(f"0 0 1\n1000 {uid} 1\n")
        fd = os.open(f"/proc/{helper.pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    except BaseException:
        helper.kill()
        helper.wait()
        raise
    return helper, fd
