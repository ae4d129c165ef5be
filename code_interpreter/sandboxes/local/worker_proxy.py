"""The host's side of one worker process: its control socket, its spares and its jobs in flight."""

from __future__ import annotations

import array
import collections
import itertools
import json
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from code_interpreter.sandboxes import seccomp
from code_interpreter.sandboxes.local import host_view
from code_interpreter.sandboxes.local.job import Job
from code_interpreter.sandboxes.local.levels import SandboxUnavailable
from code_interpreter.sandboxes.local.memory_cgroup import MemoryCgroup

if TYPE_CHECKING:
    from code_interpreter.sandboxes.local.sandbox import LocalSandbox

log = logging.getLogger(__name__)
_CGROUP_IDS = itertools.count(1)
#: Shipped to the worker, which cannot import the project (seccomp.py uses the standard library only).
_SECCOMP_SOURCE = Path(seccomp.__file__).read_text()


class WorkerGone(RuntimeError):
    pass


class WorkerProxy:
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
        self.jobs: dict[int, Job] = {}  # pid -> job
        self.info: dict = {}
        self.alive = False
        self.tmpdir: str | None = None
        self.start_s = 0.0
        self.isolation = level
        self._stderr_tail = bytearray()
        self.cgroup: MemoryCgroup | None = None
        self.notes: list[str] = []  # host-side findings reported as warnings with the worker's own
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
            if owner.seccomp and seccomp.supported():
                cfg["seccomp"] = {"program": seccomp.program().hex(), "source": _SECCOMP_SOURCE}
            if self.level in ("bwrap", "namespaces"):
                layout = host_view.python_layout(owner.python)
                cfg["env"] = owner.env_for("/tmp")
                cfg["view"] = host_view.view_to_json(host_view.sandbox_view(layout))
                if as_root:  # only a privileged host can map a range of uids (one per live snippet)
                    helper, userns_fd, cfg["slot_uids"] = self._prepare_userns()
                    pass_fds.append(userns_fd)
            if self.level == "bwrap":
                cfg["drop_root"] = as_root
                view = host_view.sandbox_view(layout)
                argv = host_view.bwrap_argv(view, layout["executable"], cfg, userns_fd)
                env: dict[str, str] = {}
            elif self.level == "namespaces":
                cfg["userns_fd"] = userns_fd
                argv = host_view.worker_argv(layout["executable"], cfg)
                env = {**cfg["env"], **host_view.WORKER_ENV}
            else:
                self.tmpdir = tempfile.mkdtemp(prefix="r1ci-sandbox-")
                cfg["env"] = owner.env_for(self.tmpdir)
                cfg["tmp"] = self.tmpdir
                argv = host_view.worker_argv(owner.python, cfg)
                env = {**cfg["env"], **host_view.WORKER_ENV}
            if owner.memory_cgroup:
                self.cgroup = MemoryCgroup.create(
                    owner.memory_cgroup, f"r1ci-sandbox-{os.getpid()}-{next(_CGROUP_IDS)}", owner.cgroup_memory_mb << 20
                )
                argv = self.cgroup.wrap([shutil.which(argv[0]) or argv[0], *argv[1:]])
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
            if self.cgroup is not None:
                self.cgroup.remove(wait_s=0)
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
        applied = self.info.get("seccomp_mode") == 2
        self.info["seccomp"] = {**seccomp.describe(), "applied": applied}
        if not applied:
            why = "turned off (seccomp=False)" if not owner.seccomp else "not supported by this kernel or machine"
            self.notes.append(f"no seccomp filter: {why}")
        self.info["memory_cgroup"] = self.cgroup.describe() if self.cgroup is not None else None
        self.info["per_slot_uid"] = bool(self.info.get("snippet_ns") and self.info.get("slot_uids"))
        if self.level != "rlimits" and not self.info["per_slot_uid"] and not self.notes:
            self.notes.append(
                "one uid shared by all snippets (per-user kernel limits are shared): only a root host can map a uid per slot"
            )
        self.info["warnings"] = list(self.info.get("warnings", [])) + self.notes
        self.info["limits"] = asdict(owner.limits)
        self.info["max_concurrency"] = owner.max_concurrency

    def _prepare_userns(self) -> tuple[subprocess.Popen, int, int]:
        """The user namespace for a root host: with a uid per slot, or (root of a user namespace that
        does not map those host uids, e.g. a rootless container) with one shared uid."""
        owner = self.owner
        try:
            mapping = host_view.userns_map(owner.sandbox_uid, owner.slot_uid_base, owner.slot_uid_count)
            return (*host_view.userns_for(mapping), owner.slot_uid_count)
        except OSError as exc:
            self.notes.append(f"one uid shared by all snippets: cannot map a uid per slot ({exc})")
            return (*host_view.userns_for(host_view.userns_map(owner.sandbox_uid, 0, 0)), 0)

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
                    msg, fds = recv_fds(self.ctl, 65536, 4)
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
            out.append("namespaces set up by the worker itself, not by bubblewrap")
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
                data, fds = recv_fds(self.ctl, 65536, 4)
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
                self.owner.wake_waiters()
            elif op == "killed":
                with self.lock:
                    job = self.jobs.get(msg.get("pid"))
                if job is not None and job.id == msg.get("id"):
                    job.killed(msg)
                    self.owner.wake_waiters()
            elif op == "exit":
                for fd in fds:
                    os.close(fd)
                with self.lock:
                    job = self.jobs.pop(msg["pid"], None)
                    if job is None:  # a spare that died before getting a job
                        for spare in [s for s in self.spares if s[0] == msg["pid"]]:
                            self.spares.remove(spare)
                            close_spare(spare)
                if job is not None:
                    job.exited(msg)
                    self.owner.release_slot()
            elif op == "spawn_failed":
                with self.lock:
                    self.requested = max(0, self.requested - 1)
                    self.spawn_failures += 1
                    poisoned = self.spawn_failures >= 5
                log.warning("local sandbox: could not start a snippet process: %s", msg.get("error"))
                if poisoned:  # a worker that cannot fork any more is replaced by a fresh one
                    self.abort(f"the worker failed to start snippet processes: {msg.get('error')}")
                self.owner.wake_waiters()

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
            close_spare(spare)
        for job in jobs:
            job.exited(None, f"sandbox worker died: {why}")
            self.owner.release_slot()
        if self.proc is not None:
            proc = self.proc
            threading.Thread(target=self._reap, args=(proc,), daemon=True).start()  # without blocking
            if not proc.stderr.closed:
                proc.stderr.close()
        self._cleanup_tmp()
        self.owner.wake_waiters()
        (log.debug if self._stopping else log.warning)("local sandbox worker stopped: %s", why)

    def _reap(self, proc: subprocess.Popen) -> None:
        proc.wait()
        if self.cgroup is not None:  # empty once the worker's tree is gone
            self.cgroup.remove()

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
                raise WorkerGone("the sandbox worker stopped")
            if self.spares:
                return self.spares.popleft()
            ask = self.requested == 0
            if ask:
                self.requested += 1
                self.asked_at = time.monotonic()
        if ask:
            self._send_ctl({"op": "spawn", "n": 1})
        return None

    def dispatch(self, jid: int, code: str, timeout: float) -> Job | None:
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
            job = Job(self, jid, pid, timeout)
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
                    close_spare(spare)
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

    def kill(self, job: Job) -> None:
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


def close_spare(spare: tuple[int, socket.socket, int | None]) -> None:
    spare[1].close()
    if spare[2] is not None:
        os.close(spare[2])


def recv_fds(sock: socket.socket, bufsize: int, maxfds: int) -> tuple[bytes, list[int]]:
    fds = array.array("i")
    msg, ancdata, _, _ = sock.recvmsg(bufsize, socket.CMSG_LEN(maxfds * fds.itemsize))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    return msg, list(fds)
