"""Runs one caller's batch of snippets: dispatch to spares, pump their pipes, enforce deadlines and
watch the worker. Everything here runs in the calling thread; the supervisor thread only reports
exits (see worker_proxy.py)."""

from __future__ import annotations

import collections
import os
import select
import time
from typing import TYPE_CHECKING

from code_interpreter.sandboxes.base import ExecutionResult
from code_interpreter.sandboxes.local.job import Job
from code_interpreter.sandboxes.local.worker_proxy import WorkerGone

if TYPE_CHECKING:
    from code_interpreter.sandboxes.local.sandbox import LocalSandbox

#: Dispatch attempts per snippet when the worker dies under it (each attempt may start a new one).
_DISPATCH_ATTEMPTS = 3


class Batch:
    """`codes` fed to spares (bounded by the sandbox's shared slots), collected with one poll()."""

    def __init__(self, sandbox: LocalSandbox, codes: list[str], timeout: float) -> None:
        self.sb = sandbox
        self.codes = codes
        self.timeout = timeout
        self.results: list[ExecutionResult | None] = [None] * len(codes)
        self.queue = collections.deque(range(len(codes)))
        self.live: dict[int, Job] = {}  # fd -> job
        self.running: set[Job] = set()
        self.poller = select.poll()

    def run(self) -> list[ExecutionResult]:
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.poller.register(wake_r, select.POLLIN)
        self.sb.add_waiter(wake_w)
        try:
            while self.queue or self.running:
                self._dispatch()
                settled = self._pump(wake_r)
                settled += self._enforce_deadlines()
                self._settle(settled)
                self._watch_worker()
        finally:
            self.sb.remove_waiter(wake_w)
            os.close(wake_r)
            for job in self.running:  # interrupted (e.g. KeyboardInterrupt): stop what we started
                job.kill_now(timed_out=False)
                job.close_all()
        return self.results  # type: ignore[return-value]

    # -- steps --------------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        """Start queued snippets while a slot and a spare are free; a missing spare was asked for."""
        while self.queue and self.sb.slots.acquire(blocking=False):
            i = self.queue[0]
            try:
                job = self._dispatch_one(self.codes[i])
            except Exception as exc:  # no worker could be started: an ordinary, failed result
                self.sb.slots.release()
                self.queue.popleft()
                self.results[i] = ExecutionResult.failed(str(exc), isolation="unavailable")
                continue
            if job is None:  # no spare yet: one has been requested, wait to be woken
                self.sb.slots.release()
                return
            self.queue.popleft()
            job.index = i
            self.running.add(job)
            for fd in job.kinds:
                self.live[fd] = job
                self.poller.register(fd, select.POLLIN)

    def _dispatch_one(self, code: str) -> Job | None:
        for attempt in range(_DISPATCH_ATTEMPTS):
            worker = self.sb.ensure_worker()
            try:
                return worker.dispatch(self.sb.next_job_id(), code, float(self.timeout))
            except WorkerGone:  # it died just now: the next attempt starts a new one
                if attempt == _DISPATCH_ATTEMPTS - 1:
                    raise
        return None

    def _pump(self, wake_r: int) -> list[Job]:
        """Wait until a pipe has data, a job needs a look, or a waker fires; read what is there."""
        now = time.monotonic()
        wait = min((j.next_check() for j in self.running), default=now + 1.0) - now
        if self.queue or any(j.nudged for j in self.running):
            wait = min(wait, 0.1)
        settled: list[Job] = []
        for fd, _ in self.poller.poll(max(0, int(wait * 1000)) + 1):
            if fd == wake_r:
                _drain(wake_r)
                continue
            job = self.live.get(fd)
            if job is not None:
                job.pump(fd)
                settled.append(job)
        return settled

    def _enforce_deadlines(self) -> list[Job]:
        """The host kills at the deadline itself (through the pidfd), and finishes killed or exited jobs."""
        now = time.monotonic()
        settled = []
        for job in self.running:
            if not job.finished and job.killed_at is None and job.pidfd is not None and now >= job.deadline:
                job.kill_now(timed_out=True)
            if job.exit_seen and not job.finished:  # killed, or reported by the supervisor
                job.finish()
                settled.append(job)
        return settled

    def _settle(self, settled: list[Job]) -> None:
        for job in settled:
            for gone in job.closed:
                self.live.pop(gone, None)
                self.poller.unregister(gone)
            job.closed.clear()
            if job.finished and job in self.running:
                self.running.discard(job)
                self.results[job.index] = job.result()

    def _watch_worker(self) -> None:
        """Replace a worker that has gone silent while it owes us something."""
        now = time.monotonic()
        grace = self.sb.grace_s
        worker = self.sb.current_worker()
        stuck_after = max(30.0, 6 * grace)
        if worker is not None and worker.alive and (self.queue or self.running) and worker.stuck(now, stuck_after):
            worker.abort(f"the worker has not answered for {stuck_after:g}s; replacing it")
        for job in self.running:  # without a pidfd the worker enforces the deadline: watch it does
            if now <= job.backstop or job.aborted:
                continue
            # The worker kills at the deadline and says so at once. If it has not, ask again; replace
            # it only when it has gone silent (stuck), or if even that does not help: a loaded machine
            # (slow to tear snippets down) is no reason to fail every other snippet in flight.
            worker = job.worker
            silent = now - worker.last_heard > grace and not worker.has_news()
            if silent or now > job.backstop + 4 * grace:
                job.aborted = True
                worker.abort(f"no answer {grace:g}s past a snippet's timeout; replacing the worker")
            elif not job.nudged:
                job.nudged = True
                worker.kill(job)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except (BlockingIOError, OSError):
        pass
