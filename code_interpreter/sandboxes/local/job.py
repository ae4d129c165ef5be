"""One snippet in flight, seen from the host: its pipes, its deadline and its result."""

from __future__ import annotations

import os
import signal
import time
from typing import TYPE_CHECKING

from code_interpreter.protocol import truncate_middle
from code_interpreter.sandboxes.base import ExecutionResult

if TYPE_CHECKING:
    from code_interpreter.sandboxes.local.worker_proxy import WorkerProxy

_SIGNAL_NOTES = {
    signal.SIGSEGV: "Segmentation fault",
    signal.SIGXCPU: "CPU time limit exceeded",
    signal.SIGKILL: "Killed",
    signal.SIGABRT: "Aborted",
    signal.SIGBUS: "Bus error",
    signal.SIGFPE: "Floating point exception",
    signal.SIGXFSZ: "File size limit exceeded",
}


class Capture:
    """Keeps the first and the last `cap` bytes of a stream; the text shown is middle-truncated to
    `cap` characters by the protocol's one `truncate_middle`."""

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
        tail = self.tail[-self.cap :] if self.cap else b""
        head_text, tail_text = _decode(self.head), _decode(tail)
        if self.total <= len(self.head) + len(tail):  # nothing was dropped while capturing
            return truncate_middle(head_text + tail_text, self.cap)
        # Bytes were dropped between head and tail: cut so that the gap lies inside the marked middle.
        keep = min(self.cap, 2 * min(len(head_text), len(tail_text)))
        text, _ = truncate_middle(head_text + tail_text, keep)
        return text, True


def _decode(data: bytes | bytearray) -> str:
    # Invalid UTF-8 becomes visible escapes (\xff); control characters are the protocol's to render.
    return bytes(data).decode("utf-8", "backslashreplace")


class Job:
    """One snippet in flight. Pipes are read by the calling thread; the supervisor thread only sets
    `exit_msg` (the snippet was killed or has exited) and wakes the callers, so nothing the snippet
    writes can delay or fake that signal."""

    def __init__(self, worker: WorkerProxy, jid: int, pid: int, timeout: float) -> None:
        self.worker, self.id, self.pid, self.timeout = worker, jid, pid, timeout
        limits = worker.owner.limits
        self.limits = limits
        self.out = Capture(limits.max_output_bytes)
        self.err = Capture(limits.max_output_bytes)
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
                # fd 3 is writable by the snippet's own code, so this record only ever means "end me
                # now": kill at once, so that a forged one cannot keep burning CPU in a freed-looking
                # slot. An honest runner writes it last, just before it exits anyway.
                self.kill_now(timed_out=False)
                self.finish()
                return

    def finish(self) -> None:
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
            stdout=stdout,
            stderr=stderr,
            exit_code=exit_code,
            timed_out=timed_out,
            duration_s=duration,
            truncated=t_out or t_err or self.flooded,
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
