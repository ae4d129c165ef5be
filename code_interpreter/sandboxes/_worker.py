"""The warm worker ("zygote") that runs *inside* the local sandbox; see local.py and docs/sandbox.md.

Standalone on purpose: the host passes this file's source to `python -c`, so it may import only
the standard library, never `code_interpreter` (the project tree is not visible in the sandbox).

The worker pre-imports the scientific stack once, then keeps a few "spare" children ready: each is
a copy-on-write clone of the worker that already sits in its own user, pid, mount and IPC
namespaces with a private /tmp and /proc, waiting for one snippet. A snippet therefore starts from
the worker's clean state, cannot see or signal the worker or other snippets, and everything it
spawns dies with it (the kernel kills a pid namespace when its init exits).

Protocol with the host over one AF_UNIX SOCK_SEQPACKET control socket (its fd is in the config):
  worker -> host  {"op": "ready", ...}
                  {"op": "spare", "pid"} + the socket of a spare that waits for one job (and its pidfd,
                  with which the host kills it at its deadline without waiting for us)
                  {"op": "killed", "pid", "id", "timed_out"}  (a running snippet was just sent SIGKILL)
                  {"op": "exit", "pid", "id", "code", "signal", "timed_out", "killed", "setup_error"}
                  (every spare; setup_error only when its sandbox could not be set up)
  host -> worker  {"op": "start", "pid", "id", "timeout", "deadline"}   (after sending the job to that
                  spare; deadline is on CLOCK_MONOTONIC, which host and worker share)
                  {"op": "spawn", "n"}   {"op": "kill", "pid"}   {"op": "stop"}
  host -> spare   b"J" + fds [job memfd, stdout w, stderr w, status w]
The job memfd holds one JSON header line (limits) and then the code. The snippet's own process
writes b"D<exit code>\n" on the status pipe once its output is flushed, so the host can answer
before the kernel has finished tearing the process down. Everything the snippet can reach (its
stdout, stderr and that status pipe) is untrusted: the host bounds and validates it, and learns
about a failed sandbox set-up only from the worker (over a pipe each spare closes before it runs
any snippet code), never from the snippet's process.
"""

import array
import ctypes
import errno
import gc
import heapq
import json
import os
import platform
import resource
import select
import shutil
import signal
import socket
import sys
import time

# Constants from <linux/sched.h>, <linux/prctl.h>, <sys/mount.h>.
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
CAP_SETGID = 6
CAP_SETUID = 7
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MNT_DETACH = 2
SNIPPET_FLAGS = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
INNER_UID = 1000
WORKER_NS_UID = 1000  # host_view.WORKER_NS_UID
SLOT_NS_UID_BASE = 2000  # host_view.SLOT_NS_UID_BASE
WORKER_OOM_SCORE = 500
EXIT_SETUP_FAILED = 121

_libc = ctypes.CDLL(None, use_errno=True)
# PyDLL keeps the GIL across the raw clone so the child inherits a consistent interpreter state.
_pylibc = ctypes.PyDLL(None, use_errno=True)
_pylibc.syscall.restype = ctypes.c_long
_libc.pthread_self.restype = ctypes.c_void_p
_SYS_CLONE = {"x86_64": 56, "aarch64": 220}.get(platform.machine())
_TID_OFFSET = None  # offset of glibc's cached tid in struct pthread, calibrated at start-up
# The seccomp module's namespace (its source comes from the host, see main) and the host-built filter.
SECCOMP = None
SECCOMP_PROGRAM = None


def _check(rc, what):
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _prctl(option, arg=0):
    return _libc.prctl(
        ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)
    )


def _mount(source, target, fstype, flags, data=None):
    def enc(text):
        return None if text is None else text.encode()

    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def _recv_fds(sock, bufsize, maxfds, flags=0):
    """socket.recv_fds, but honouring `flags` (Python 3.11 drops them)."""
    fds = array.array("i")
    msg, ancdata, _, _ = sock.recvmsg(bufsize, socket.CMSG_LEN(maxfds * fds.itemsize), flags)
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    return msg, list(fds)


def _write(path, text):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _drop_caps():
    """Empty every capability set; with no_new_privs nothing can bring them back."""
    for cap in range(64):
        if _prctl(PR_CAPBSET_DROP, cap) != 0 and ctypes.get_errno() == errno.EINVAL:
            break
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(_libc.capset(header, data), "capset")
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


def _calibrate_tid_offset():
    """Find glibc's cached thread id inside struct pthread, so a raw clone() child can fix it.

    glibc's fork() updates that field; a raw clone() does not, and a stale tid could collide with
    a real thread id inside the new pid namespace (recursive mutexes compare owner tids).
    """
    if _SYS_CLONE is None:
        return None
    base = _libc.pthread_self()
    size = 0x400
    tid = ctypes.CDLL(None).syscall(186 if _SYS_CLONE == 56 else 178)  # gettid
    buf = ctypes.string_at(base, size)
    cands = [i for i in range(0, size, 4) if int.from_bytes(buf[i : i + 4], sys.byteorder, signed=True) == tid]
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            ctid = ctypes.CDLL(None).syscall(186 if _SYS_CLONE == 56 else 178)
            now = ctypes.string_at(base, size)
            good = [i for i in cands if int.from_bytes(now[i : i + 4], sys.byteorder, signed=True) == ctid]
            os.write(w, json.dumps(good).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = os.read(r, 4096)
    os.close(r)
    os.waitpid(pid, 0)
    good = json.loads(data or b"[]")
    return good[0] if len(good) == 1 else None


def _clone(flags):
    """fork() into new namespaces in one step (a fork plus unshare would cost a second fork)."""
    if flags == 0 or _SYS_CLONE is None or _TID_OFFSET is None:
        if flags:
            raise OSError(errno.ENOSYS, "raw clone unavailable")
        return os.fork()
    ctypes.pythonapi.PyOS_BeforeFork()
    pid = _pylibc.syscall(ctypes.c_long(_SYS_CLONE), ctypes.c_ulong(flags | signal.SIGCHLD), None, None, None, None)
    if pid == 0:
        tid = _pylibc.syscall(ctypes.c_long(186 if _SYS_CLONE == 56 else 178))
        ctypes.c_int.from_address(_libc.pthread_self() + _TID_OFFSET).value = tid
        ctypes.pythonapi.PyOS_AfterFork_Child()
        return 0
    err = ctypes.get_errno()
    ctypes.pythonapi.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, f"clone: {os.strerror(err)}")
    return pid


# --------------------------------------------------------------------------------------------------
# Worker-level setup (runs once, before any snippet)


def _bwrap_root_setup(cfg, info):
    """bwrap started us as root of a user namespace the host prepared (it maps unprivileged host uids only).

    Remove bwrap's read-only overmounts inside /proc (they make /proc "not fully visible", which
    forbids the per-snippet procfs mounts), then give up every capability but the two that give
    each spare its own uid (see Worker.spawn).
    """
    for sub in ("sys", "sysrq-trigger", "irq", "bus"):
        _libc.umount2(f"/proc/{sub}".encode(), MNT_DETACH)
    _settle_worker_creds(cfg)


def _settle_worker_creds(cfg):
    """With per-slot uids: move into a namespace that maps only the worker's and the slots' uids, as
    its root, holding only CAP_SETUID/CAP_SETGID (to clone each spare with its slot's uid). Without: become
    INNER_UID with no capabilities."""
    if cfg.get("slot_uids"):
        _enter_worker_userns(int(cfg["slot_uids"]))
    for cap in range(64):
        if _prctl(PR_CAPBSET_DROP, cap) != 0 and ctypes.get_errno() == errno.EINVAL:
            break
    os.setgroups([])
    if cfg.get("slot_uids"):
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)
        keep = (1 << CAP_SETGID) | (1 << CAP_SETUID)
        data = (ctypes.c_uint32 * 6)(keep, keep, 0, 0, 0, 0)  # effective, permitted, inheritable (x2 words)
        _check(_libc.capset(header, data), "capset")
    else:
        os.setresgid(INNER_UID, INNER_UID, INNER_UID)
        os.setresuid(INNER_UID, INNER_UID, INNER_UID)  # clears every capability
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


def _enter_worker_userns(slots):
    """Join a new user namespace mapping 0 -> our WORKER_NS_UID and 1..slots -> the slot uids.

    A helper child creates it; we (root of the current namespace, which maps host root) write its
    map, since only a process privileged in the parent namespace may map more than its own uid.
    """
    r, w = os.pipe()
    r2, w2 = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.close(w2)
            _check(_libc.unshare(CLONE_NEWUSER), "unshare(user)")
            os.write(w, b"u")
            os.read(r2, 1)
        finally:
            os._exit(0)
    os.close(w)
    os.close(r2)
    try:
        if os.read(r, 1) != b"u":
            raise OSError(errno.EPERM, "could not create the worker's user namespace")
        mapping = f"0 {WORKER_NS_UID} 1\n1 {SLOT_NS_UID_BASE} {slots}\n"
        _write(f"/proc/{pid}/uid_map", mapping)
        _write(f"/proc/{pid}/gid_map", mapping)
        fd = os.open(f"/proc/{pid}/ns/user", os.O_RDONLY)
        try:
            _check(_libc.setns(fd, CLONE_NEWUSER), "setns(worker user namespace)")
        finally:
            os.close(fd)
    finally:
        os.close(r)
        os.close(w2)
        os.waitpid(pid, 0)
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)


def _namespaces_setup(cfg, info):
    """No bwrap: build the same allow-list view with namespaces directly (user, mount, net, ipc, uts, pid)."""
    userns_fd = cfg.get("userns_fd")
    if userns_fd is not None:  # root host: the host prepared a namespace mapping unprivileged uids
        _check(_libc.setns(userns_fd, CLONE_NEWUSER), "setns(user)")
        os.close(userns_fd)
    else:
        uid, gid = os.geteuid(), os.getegid()
        _check(_libc.unshare(CLONE_NEWUSER), "unshare(user)")
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{INNER_UID} {uid} 1")
        _write("/proc/self/gid_map", f"{INNER_UID} {gid} 1")
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount may propagate to the host
    pid = os.fork()
    if pid:  # stay outside as a waiter so the host's process handle keeps meaning something
        os.closerange(3, 1 << 16)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
            except InterruptedError:
                continue
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    root = _staging_root()
    _build_root(cfg["view"], root, from_host=True, tmp_opts="mode=1777,size=16m")
    _enter_root(root)
    _libc.sethostname(b"sandbox", 7)
    if userns_fd is not None:
        _settle_worker_creds(cfg)
    else:
        _drop_caps()


# --------------------------------------------------------------------------------------------------
# Building a root from the host's view (see host_view.sandbox_view): once for the worker when there
# is no bubblewrap (from the host's directories), and once per snippet (over overlays of the worker's
# directories, so that no file or directory inode is shared with a snippet running beside it: file
# locks live on inodes, and a shared one is a channel between concurrent snippets).

_DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")
_DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1"}
_DEV_LINKS.update({"stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx", "core": "/proc/kcore"})
# statvfs f_flag bits -> mount flags that a bind remount must keep (the kernel locks them in a user namespace)
_ST_TO_MS = ((1, MS_RDONLY), (2, MS_NOSUID), (4, MS_NODEV), (8, MS_NOEXEC), (1024, MS_NOATIME))
_ST_TO_MS += ((2048, MS_NODIRATIME), (4096, MS_RELATIME))


def _staging_root():
    """A fresh tmpfs to build a root in, mounted where no source of the view lives."""
    where = "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp"
    _mount("tmpfs", where, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m,nr_inodes=4096")
    return where


def _ro_remount(path, devices=False):
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | (0 if devices else MS_NODEV)
    for st, ms in _ST_TO_MS:
        if os.statvfs(path).f_flag & st:
            flags |= ms
    _mount(None, path, None, flags)


def _build_root(view, root, from_host, tmp_opts, empty=None, notes=None):
    """Carry out `view` (a list of steps) under `root`. from_host: bind the directories (the host's
    for the worker; the worker's for a snippet on a kernel without overlays in user namespaces);
    otherwise overlay the current root's (read-only, with `empty` as the second lower layer).
    `notes` is given for a snippet's root: it gets its own terminals and /dev/shm, and may fall back
    to a shared /proc (which is noted)."""
    for step in view:
        op, dest, src, mode = step["op"], step["dest"], step.get("src", ""), step.get("mode") or "0755"
        target = root + dest
        if op == "symlink":
            os.symlink(src, target)
        elif op == "dir":
            os.makedirs(target, int(mode, 8), exist_ok=True)
            os.chmod(target, int(mode, 8))
        elif op == "tmpfs":
            os.makedirs(target, 0o755, exist_ok=True)
            _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, tmp_opts.replace("mode=1777", f"mode={mode}"))
        elif op == "ro-bind":
            os.makedirs(target, 0o755, exist_ok=True)
            if from_host:
                _mount(src, target, None, MS_BIND | MS_REC)
                _ro_remount(target)
            else:
                _mount("overlay", target, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, f"lowerdir={dest}:{empty}")
        elif op == "dev":
            _build_dev(target, tmp_opts, snippet=notes is not None)
        elif op == "proc":
            os.makedirs(target, 0o755, exist_ok=True)
            try:
                _mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            except OSError:
                if notes is None:
                    raise
                # The worker's /proc is not fully visible (bwrap's overmounts, unprivileged host):
                # share it, and keep this snippet's memory private from its siblings there.
                _mount("/proc", target, None, MS_BIND | MS_REC)
                _prctl(PR_SET_DUMPABLE, 0)
                notes.append("shared /proc")
        else:
            raise ValueError(f"unknown view step {op!r}")


def _build_dev(target, tmp_opts, snippet):
    os.makedirs(target, 0o755, exist_ok=True)
    _mount("tmpfs", target, "tmpfs", MS_NOSUID, "mode=0755,size=64k")
    for name in _DEV_NODES:
        if os.path.exists(f"/dev/{name}"):
            os.close(os.open(f"{target}/{name}", os.O_CREAT | os.O_WRONLY, 0o666))
            _mount(f"/dev/{name}", f"{target}/{name}", None, MS_BIND)
    for name, dest in _DEV_LINKS.items():
        os.symlink(dest, f"{target}/{name}")
    os.mkdir(f"{target}/pts", 0o755)
    os.mkdir(f"{target}/shm", 0o1777)
    os.chmod(f"{target}/shm", 0o1777)
    if snippet:  # its own terminals and shared memory
        _mount("devpts", f"{target}/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620")
        _mount("tmpfs", f"{target}/shm", "tmpfs", MS_NOSUID | MS_NODEV, tmp_opts)


def _pivot_root(new, old):
    nr = {"x86_64": 155, "aarch64": 41}.get(platform.machine())
    if nr is None:
        raise OSError(errno.ENOSYS, "pivot_root: unknown syscall number on this machine")
    _check(_libc.syscall(ctypes.c_long(nr), new.encode(), old.encode()), "pivot_root")


def _chroot(root):
    """Make `root` the root directory of this process (a snippet: cheaper than pivot_root, whose
    unmount of the old tree costs milliseconds). Nothing outside it stays reachable: no descriptor
    points outside, and the snippet has no capability to chroot again or mount anything."""
    os.chroot(root)
    os.chdir("/")
    if os.path.isdir("/.empty"):  # the overlays' empty layer: they keep it; the view does not show it
        _check(_libc.umount2(b"/.empty", MNT_DETACH), "umount /.empty")
        os.rmdir("/.empty")
    _ro_remount("/")


def _enter_root(root):
    """Make `root` the root directory and drop the old one (pivot_root(".", ".") as in its man page)."""
    os.chdir(root)
    _pivot_root(".", ".")
    _check(_libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")
    _ro_remount("/")


# --------------------------------------------------------------------------------------------------
# One snippet (runs in a spare child; never returns)


def _close_fds_except(keep):
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)


def _spare_main(sock, cfg, snippet_ns, announce, report_fd, seq, slot_uid):
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _close_fds_except({sock.fileno(), report_fd})
    setup_error = None
    private_proc = False
    hardening = []
    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.setsid()  # else kill(0, ...) would reach the worker, which shares our process group
        if snippet_ns:
            private_proc, hardening = _snippet_ns_setup(cfg, slot_uid)
        else:
            _raise_oom_score()
            tmp = os.path.join(cfg["tmp"], f"s{os.getpid()}")
            os.mkdir(tmp, 0o700)
            os.chdir(tmp)
            os.environ["HOME"] = os.environ["TMPDIR"] = tmp
        if snippet_ns:
            _drop_caps()
        hardening += _enter_seccomp()
        _warm_up()
    except Exception as exc:  # reported by the worker with this spare's exit, so the host sees a sandbox error
        setup_error = f"snippet setup failed: {exc!r}"
    if setup_error is not None:
        try:  # one short write: atomic on a pipe, so reports of concurrent spares never interleave
            os.write(report_fd, f"{seq}\t{setup_error}"[:480].replace("\n", " ").encode() + b"\n")
        except OSError:
            pass
    os.close(report_fd)  # before any snippet code runs: a snippet cannot forge a set-up failure
    if announce:  # only the start-up probe is asked: unread data would reset the socket when the worker closes it
        probe = {"private_proc": private_proc, "hardening_failed": hardening, "seccomp": _seccomp_mode()}
        sock.send(b"R" + json.dumps(probe).encode() if setup_error is None else b"E" + setup_error.encode())
    try:
        msg, fds = _recv_fds(sock, 64, 4)
    except OSError:
        os._exit(0)
    if not msg or len(fds) != 4:
        os._exit(0)  # the worker is going away or dropped this spare
    sock.close()
    _run_job(fds, setup_error, cfg)


def _enter_seccomp():
    """A fresh session keyring (so the trainer's keys are not ours to read), then the filter, which
    denies keyctl among the rest; a spare that cannot load it never runs a snippet."""
    if SECCOMP is None:
        return []
    notes = []
    try:
        SECCOMP["join_new_session_keyring"]()
    except OSError as exc:
        if exc.errno != errno.EDQUOT:
            raise
        # This uid's key quota is full: keep the worker's own fresh keyring (never the trainer's);
        # with keyctl denied, snippets cannot use it as a channel either.
        notes.append("own session keyring (key quota exhausted)")
    SECCOMP["install"](SECCOMP_PROGRAM)
    return notes


def _seccomp_mode():
    try:
        with open("/proc/self/status") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("Seccomp:")), 0)
    except OSError:
        return 0


def _warm_up():
    """Walk the snippet path once while idle, so its copy-on-write page faults happen before the job."""
    import io

    saved = sys.stdout
    sys.stdout = io.StringIO()
    try:
        exec(compile("print(1 + 1)", "<warm-up>", "exec"), {"__name__": "__warmup__"})
    finally:
        sys.stdout = saved
    sys.stdout.reconfigure(line_buffering=True)
    json.loads('{"rlimits": {"RLIMIT_AS": [1, 1]}}')


def _snippet_ns_setup(cfg, slot_uid):
    """A fresh root for this snippet (overlays of the worker's directories), its own uid, /proc, /tmp,
    /dev/shm, terminals and network. Returns (private_proc, what could not be done)."""
    # We are the creator of our user namespace and hold every capability in it. Map our uid: the
    # slot's own (the worker cloned us with it as effective uid), or the worker's where there is none.
    outer = slot_uid if slot_uid is not None else INNER_UID
    _prctl(PR_SET_DUMPABLE, 1)  # /proc/self/*_map must be ours to write
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{INNER_UID} {outer} 1")
    _write("/proc/self/gid_map", f"{INNER_UID} {outer} 1")
    if slot_uid is not None:
        # Our real and saved uids are still the worker's: become the slot uid through and through.
        # The capabilities of our namespace stay (none of the old uids was its root).
        os.setresgid(INNER_UID, INNER_UID, INNER_UID)
        os.setresuid(INNER_UID, INNER_UID, INNER_UID)
        # A uid change leaves a process undumpable: its /proc/self files (oom_score_adj, ...) would
        # belong to host root. It is alone with its uid and in its pid namespace: nothing else can use this.
        _prctl(PR_SET_DUMPABLE, 1)
    hardening = []
    opts = f"size={cfg['tmp_bytes']},nr_inodes={cfg['tmp_inodes']},mode=1777"
    root = _staging_root()
    os.mkdir(f"{root}/.empty", 0o755)
    _mount("tmpfs", f"{root}/.empty", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=0755,size=4k")
    notes = []
    try:
        _build_root(cfg["view"], root, from_host=False, tmp_opts=opts, empty=f"{root}/.empty", notes=notes)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EPERM, errno.ENODEV):
            raise
        # No overlayfs in user namespaces (kernels before 5.11): bind instead; locks are then shared.
        _libc.umount2(root.encode(), MNT_DETACH)
        _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m,nr_inodes=4096")
        plain = [dict(s, src=s["dest"]) if s["op"] == "ro-bind" else s for s in cfg["view"]]
        _build_root(plain, root, from_host=True, tmp_opts=opts, notes=notes)
        hardening.append("per-snippet overlays (file locks are shared between snippets)")
    _chroot(root)
    _raise_oom_score()
    hardening += _harden_snippet_ns()
    for name in ("keys", "key-users"):
        # They list the descriptions of every key of our kuid, the trainer's too when snippets run as
        # the trainer's uid (an unprivileged host): the empty /dev/null instead.
        if os.path.exists(f"/proc/{name}"):
            try:
                _mount("/dev/null", f"/proc/{name}", None, MS_BIND)
                _ro_remount(f"/proc/{name}", devices=True)
            except OSError:
                hardening.append(f"hide /proc/{name}")
    try:
        # Read-only from here on: the snippet cannot lower its oom_score_adj (written above) and so
        # make the kernel's OOM killer pick the trainer instead; no other /proc file is its to write.
        _mount(None, "/proc", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        hardening.append("read-only /proc")
    os.chdir("/tmp")
    return "shared /proc" not in notes, hardening


def _raise_oom_score(score=1000):
    try:
        _write("/proc/self/oom_score_adj", str(score))  # under memory pressure, snippets die first
    except OSError:
        pass


_NS_COUNT_LIMITS = {
    "max_user_namespaces": "0",  # no nested user namespaces, hence no new namespaces of any kind
    "max_inotify_instances": "32",
    "max_inotify_watches": "8192",
    "max_fanotify_groups": "0",
    "max_fanotify_marks": "0",
}


def _harden_snippet_ns():
    """What only the owner of the snippet's namespaces can do, done before it gives that power up.

    - No nested user namespaces, hence no new namespaces of any kind: unprivileged user namespaces
      are the usual way into the kernel's less-travelled code (and a snippet has no use for them).
    - Its own pseudo-terminals: the devpts instance bwrap mounts is shared by all snippets (and
      lets one snippet open another's terminal).
    Returns what could not be done (reported once, as a warning, by the start-up probe).
    """
    failed = []
    try:
        # Its own network namespace (loopback only), so that snippets running at the same time cannot
        # reach one another through 127.0.0.1 or abstract unix sockets. Made here, in the spare, not
        # in the worker's clone(): creating one can wait seconds for the kernel's network lock on a
        # loaded machine, and the worker must stay free to enforce deadlines meanwhile.
        import fcntl
        import struct

        _check(_libc.unshare(CLONE_NEWNET), "unshare(net)")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", IFF_UP))
    except OSError:
        failed.append("private network")
    # Per-namespace counts. Each is also charged to every ancestor namespace's owner, up to the
    # host's per-user limits that the trainer itself lives under: so a snippet gets a small share.
    for name, value in _NS_COUNT_LIMITS.items():
        try:
            _write(f"/proc/sys/user/{name}", value)
        except OSError:
            failed.append(f"user/{name}")
    return failed


def _move_fds(fds, targets):
    """Place fds at fixed numbers without clobbering one another."""
    import fcntl

    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 256) for fd in fds]
    for fd in fds:
        os.close(fd)
    for h, t in zip(high, targets, strict=True):
        os.dup2(h, t, inheritable=(t <= 2))
        os.close(h)


def _run_job(fds, setup_error, cfg):
    job_fd, out_fd, err_fd, st_fd = fds
    data = b""
    while True:
        chunk = os.read(job_fd, 1 << 20)
        if not chunk:
            break
        data += chunk
    os.close(job_fd)
    _move_fds([out_fd, err_fd, st_fd], [1, 2, 3])
    os.closerange(4, 1 << 16)
    _fresh_stdio()
    header, _, code = data.partition(b"\n")
    if setup_error is not None:  # the worker reports it with our exit; no snippet code runs here
        os.write(2, setup_error.encode() + b"\n")
        os._exit(EXIT_SETUP_FAILED)
    limits = json.loads(header)
    for name, (soft, hard) in limits.get("rlimits", {}).items():
        res = getattr(resource, name)
        try:
            resource.setrlimit(res, (soft, hard))
        except (OSError, ValueError):  # cannot raise above an inherited hard limit: clamp to it
            cap = resource.getrlimit(res)[1]
            if cap != resource.RLIM_INFINITY:
                resource.setrlimit(res, (min(soft, cap), cap))
    exit_now = os._exit
    exit_now(_exec_snippet(code.decode("utf-8", "surrogatepass"), os.getpid()))


def _fresh_stdio():
    """New sys.stdout/stderr over the job's pipes, as the interpreter makes them at start-up.

    The worker's own objects sit on /dev/null and have cached that it is seekable: a snippet would
    see `sys.stdout.seekable()` True and fail to `reconfigure()` it ("Illegal seek").
    """
    import io

    for fd, name in ((1, "stdout"), (2, "stderr")):
        old = getattr(sys, name)
        new = io.TextIOWrapper(
            open(fd, "wb", closefd=False), encoding=old.encoding, errors=old.errors, line_buffering=fd == 2
        )
        setattr(sys, name, new)
        setattr(sys, f"__{name}__", new)


def _exec_snippet(code, runner_pid):
    """Run `code` as `python -c` would, then flush, report and return the exit status.

    Everything the epilogue needs is bound before the snippet runs: a snippet may replace
    os.write, sys.stdout or builtins, and must still get its own result reported.
    """
    import atexit
    import builtins
    import linecache
    import threading
    import traceback
    import types

    write, getpid, print_exception = os.write, os.getpid, traceback.print_exception
    shutdown, run_exitfuncs = threading._shutdown, atexit._run_exitfuncs
    stdout, stderr = sys.stdout, sys.stderr
    stdout.reconfigure(line_buffering=True)  # output printed before a timeout kill survives
    sys.argv = ["-c"]
    sys.path.insert(0, "")
    if "numpy.random" in sys.modules:  # each snippet gets fresh entropy, like a new interpreter
        sys.modules["numpy"].random.seed()
    main = types.ModuleType("__main__")
    main.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = main
    linecache.cache["<string>"] = (len(code), None, code.splitlines(True), "<string>")
    status = 0
    try:
        exec(compile(code, "<string>", "exec"), main.__dict__)
    except SystemExit as exc:
        status = _exit_status(exc)
    except BaseException as exc:
        tb = exc.__traceback__
        if tb is not None and tb.tb_frame.f_code is _exec_snippet.__code__:
            tb = tb.tb_next  # hide the runner's own frame, as `python -c` would
        try:
            exc.__traceback__ = tb
            if sys.excepthook is sys.__excepthook__:  # the Python-level printer shows the snippet's lines
                print_exception(type(exc), exc, tb, file=sys.stderr)
            else:
                sys.excepthook(type(exc), exc, tb)
        except BaseException:
            try:
                print_exception(type(exc), exc, tb, file=stderr)
            except BaseException:
                pass
        status = 1
    try:
        if getpid() != runner_pid:
            return status  # a child the snippet forked fell off the end: it is not the snippet
        for step in (shutdown, run_exitfuncs):  # what interpreter shutdown does: join threads, atexit
            try:
                step()
            except BaseException:
                pass
        for stream in {
            id(s): s
            for s in (getattr(sys, "stdout", None), getattr(sys, "stderr", None), stdout, stderr)
            if s is not None
        }.values():
            try:
                stream.flush()
            except BaseException:
                status = 120
        write(3, b"D%d\n" % status)
    except BaseException:
        pass
    return status


def _exit_status(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        print(code, file=sys.stderr)
    except BaseException:
        pass
    return 1


# --------------------------------------------------------------------------------------------------
# The worker loop


class _Job:
    __slots__ = ("id", "deadline", "timed_out")

    def __init__(self, jid, deadline):
        self.id, self.deadline, self.timed_out = jid, deadline, False


class Worker:
    """Pre-starts spares and hands their sockets to the host, which sends jobs to them directly
    (one hop fewer on every call); the worker still enforces deadlines and reports every exit."""

    def __init__(self, ctl, cfg, info):
        self.ctl, self.cfg, self.info = ctl, cfg, info
        self.snippet_ns = info["snippet_ns"]
        self.target = max(0, int(cfg.get("spares", 2)))
        self.idle = set()  # spares handed to the host that have no job yet
        self.running = {}  # pid -> _Job
        self.killed = set()
        self.pending_spawn = 0
        self.closing = False
        self.heap = []
        r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.wake_r = r
        signal.set_wakeup_fd(w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        # Spares report a failed set-up here (and close their end before running any snippet).
        self.report_r, self.report_w = os.pipe2(os.O_CLOEXEC)
        os.set_blocking(self.report_r, False)
        self.report_buf = b""
        self.seq = 0
        n = int(cfg.get("slot_uids") or 0)
        self.free_uids = list(range(1, n + 1))  # uids of the worker's namespace not held by a live spare
        self.pid_uid = {}
        self.seq_pid = {}  # spawn sequence number -> pid of each live spare (and back)
        self.pid_seq = {}
        self.setup_errors = {}  # pid -> message
        self.poll = select.poll()
        self.poll.register(ctl.fileno(), select.POLLIN)
        self.poll.register(r, select.POLLIN)
        self.poll.register(self.report_r, select.POLLIN)

    def spawn(self, announce=False):
        uid = None
        if self.snippet_ns and self.cfg.get("slot_uids"):
            if not self.free_uids:
                raise OSError(errno.EAGAIN, "every slot uid is in use")
            uid = heapq.heappop(self.free_uids)
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.seq += 1
        pid = None
        try:
            if uid is not None:
                # Clone with the slot's uid as effective uid: the spare's user namespace is then owned
                # by it, so per-user kernel counts (processes, pipes, inotify, message queues,
                # signals, keys) are charged to the slot all the way up, not to the worker.
                os.setresgid(-1, uid, -1)
                os.setresuid(-1, uid, -1)
            pid = _clone(SNIPPET_FLAGS if self.snippet_ns else 0)
        except BaseException:
            parent.close()
            child.close()
            if uid is not None:
                heapq.heappush(self.free_uids, uid)
            raise
        finally:
            if uid is not None and pid != 0:  # back to the worker's own (its saved uid is 0)
                os.setresuid(-1, 0, -1)
                os.setresgid(-1, 0, -1)
        if pid and uid is not None:
            self.pid_uid[pid] = uid
        if pid == 0:
            try:
                parent.close()
                _spare_main(child, self.cfg, self.snippet_ns, announce, self.report_w, self.seq, uid)
            finally:
                os._exit(EXIT_SETUP_FAILED)
        child.close()
        self.seq_pid[self.seq] = pid
        self.pid_seq[pid] = self.seq
        return pid, parent

    def read_reports(self):
        try:
            while True:
                data = os.read(self.report_r, 65536)
                if not data:
                    break
                self.report_buf += data
        except BlockingIOError:
            pass
        *lines, self.report_buf = self.report_buf.split(b"\n")
        for line in lines:
            seq, _, text = line.decode(errors="replace").partition("\t")
            pid = self.seq_pid.pop(int(seq), None) if seq.isdigit() else None
            if pid is not None:
                self.setup_errors[pid] = text

    def hand_over(self, pid, sock):
        self.idle.add(pid)
        fds = [sock.fileno()]
        try:  # lets the host kill the snippet at its deadline itself, whatever state we are in
            fds.append(os.pidfd_open(pid))
        except (AttributeError, OSError):
            pass
        try:
            socket.send_fds(self.ctl, [json.dumps({"op": "spare", "pid": pid}).encode()], fds)
        except OSError:
            self.shutdown()
        finally:
            sock.close()
            for fd in fds[1:]:
                os.close(fd)

    def spawn_and_hand_over(self):
        try:
            self.hand_over(*self.spawn())
        except OSError as exc:
            print(f"worker: could not start a snippet process: {exc}", file=sys.stderr)
            self.send({"op": "spawn_failed", "error": str(exc)})
            time.sleep(0.05)

    def send(self, msg):
        try:
            self.ctl.send(json.dumps(msg).encode())
        except OSError:
            self.shutdown()

    def kill(self, pid):
        try:
            os.kill(pid, signal.SIGKILL)
            if not self.snippet_ns:
                os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        job = self.running.get(pid)
        if job is not None and not self.closing:
            # Tell the host at once: under heavy load the kernel may take seconds to tear the
            # snippet's processes down, and the host need not wait for that to answer its caller.
            self.send({"op": "killed", "pid": pid, "id": job.id, "timed_out": job.timed_out})

    def handle_ctl(self):
        while True:
            try:
                data, fds = _recv_fds(self.ctl, 65536, 8, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError:
                self.shutdown()
            for fd in fds:
                os.close(fd)
            if not data:
                self.shutdown()
            msg = json.loads(data)
            op = msg.get("op")
            pid = msg.get("pid")
            if op == "start" and pid in self.idle:
                self.idle.discard(pid)
                now = time.monotonic()
                timeout = float(msg.get("timeout", 60.0))
                deadline = msg.get("deadline")  # absolute, so that reading this late costs no time
                if not isinstance(deadline, (int, float)) or not now - 3600 < deadline <= now + timeout:
                    deadline = now + timeout
                job = _Job(msg.get("id"), deadline)
                self.running[pid] = job
                heapq.heappush(self.heap, (job.deadline, pid, job.id))
            elif op == "spawn":
                self.pending_spawn += int(msg.get("n", 1))
            elif op == "kill" and (pid in self.idle or pid in self.running):
                self.killed.add(pid)
                self.kill(pid)
            elif op == "stop":
                self.shutdown()

    def reap(self):
        try:
            while os.read(self.wake_r, 4096):
                pass
        except BlockingIOError:
            pass
        self.read_reports()  # a spare's set-up report is written long before its exit
        swept = False
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            job = self.running.pop(pid, None)
            if job is None and pid not in self.idle:
                continue  # an orphan that re-parented to us (no pid namespaces)
            self.seq_pid.pop(self.pid_seq.pop(pid, None), None)
            self.idle.discard(pid)
            if pid in self.pid_uid:  # its pid namespace is gone with it: nothing holds the uid any more
                heapq.heappush(self.free_uids, self.pid_uid.pop(pid))
            if not self.snippet_ns:
                shutil.rmtree(os.path.join(self.cfg["tmp"], f"s{pid}"), ignore_errors=True)
                try:
                    os.killpg(pid, signal.SIGKILL)  # leftovers in the snippet's session
                except OSError:
                    pass
                swept = True
            killed = pid in self.killed
            self.killed.discard(pid)
            msg = {
                "op": "exit",
                "pid": pid,
                "id": job.id if job else None,
                "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                "timed_out": bool(job and job.timed_out),
                "killed": killed,
                "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            }
            setup_error = self.setup_errors.pop(pid, None)
            if setup_error is not None:
                msg["setup_error"] = setup_error
            self.send(msg)
        if swept:
            self.sweep_orphans()

    def sweep_orphans(self):
        """Without pid namespaces, daemonised grandchildren re-parent to us (a subreaper): end them."""
        known = set(self.running) | self.idle
        try:
            tids = os.listdir("/proc/self/task")
        except OSError:
            return
        for tid in tids:
            try:
                with open(f"/proc/self/task/{tid}/children") as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            for kid in kids:
                if kid not in known:
                    try:
                        os.kill(kid, signal.SIGKILL)
                    except OSError:
                        pass

    def expire(self):
        now = time.monotonic()
        while self.heap and self.heap[0][0] <= now:
            _, pid, jid = heapq.heappop(self.heap)
            job = self.running.get(pid)
            if job is not None and job.id == jid:
                job.timed_out = True
                self.kill(pid)

    def can_spawn(self):
        # Every slot uid is held (by spares and by killed snippets the kernel is still tearing
        # down): wait for a reap rather than fail, which the host would count against the worker.
        return not (self.snippet_ns and self.cfg.get("slot_uids")) or bool(self.free_uids)

    def want_spare(self):
        # Keep `target` spares ready at all times: under a steady stream of calls, a spare started
        # while the previous snippet runs is what keeps the next call fast.
        return len(self.idle) < self.target and self.can_spawn()

    def loop(self):
        while True:
            timeout = None
            if self.heap:
                timeout = max(0, int((self.heap[0][0] - time.monotonic()) * 1000) + 1)
            if (self.pending_spawn and self.can_spawn()) or self.want_spare():
                timeout = 0
            events = self.poll.poll(timeout)
            for fd, _ in events:
                if fd == self.wake_r:
                    self.reap()
                elif fd == self.report_r:
                    self.read_reports()
                else:
                    self.handle_ctl()
            self.expire()
            if self.pending_spawn and self.can_spawn():  # the host waits for these: start them even when busy
                self.pending_spawn -= 1
                self.spawn_and_hand_over()
            elif not events and self.want_spare():
                self.spawn_and_hand_over()

    def shutdown(self):
        self.closing = True
        for pid in list(self.running) + list(self.idle):
            self.kill(pid)
        os._exit(0)


def _probe_seccomp():
    """Without per-snippet namespaces there is no probe spare: load the filter in a throw-away child."""
    pid = os.fork()
    if pid == 0:
        try:
            _enter_seccomp()
            os._exit(_seccomp_mode())
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _probe_snippet_ns(worker):
    """Start one spare and wait for its setup report: per-snippet namespaces work here, or not."""
    try:
        pid, sock = worker.spawn(announce=True)
    except OSError as exc:
        return f"clone failed: {exc}"
    sock.settimeout(10)
    try:
        msg = sock.recv(4096)
    except OSError as exc:
        msg = b"E" + repr(exc).encode()
    if msg.startswith(b"R"):
        probe = json.loads(msg[1:])
        worker.info["private_proc"] = probe["private_proc"]
        worker.info["seccomp_mode"] = probe.get("seccomp", 0)
        if probe["hardening_failed"]:
            worker.info["warnings"].append(f"per-snippet hardening incomplete: {', '.join(probe['hardening_failed'])}")
        worker.probe = (pid, sock)
        return None
    sock.close()
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    if pid in worker.pid_uid:
        heapq.heappush(worker.free_uids, worker.pid_uid.pop(pid))
    worker.read_reports()
    worker.setup_errors.pop(pid, None)
    worker.seq_pid.pop(worker.pid_seq.pop(pid, None), None)
    return msg[1:].decode(errors="replace") or "spare exited during setup"


def _load_seccomp(cfg, info):
    """The host ships seccomp.py's source (standard library only) and the filter it built; the
    worker joins a keyring of its own at once, so even its spares never hold the trainer's."""
    global SECCOMP, SECCOMP_PROGRAM
    spec = cfg.get("seccomp")
    if not spec:
        return
    namespace = {"__name__": "r1ci_seccomp"}
    exec(compile(spec["source"], "<sandbox-seccomp>", "exec"), namespace)
    namespace["_libc"]()  # made now: spares inherit a ready handle
    SECCOMP, SECCOMP_PROGRAM = namespace, bytes.fromhex(spec["program"])
    try:
        SECCOMP["join_new_session_keyring"]()
    except OSError as exc:
        info["warnings"].append(f"the worker could not leave the host's session keyring: {exc}")


def main(argv):
    global _TID_OFFSET
    cfg = json.loads(argv[1])
    ctl = socket.socket(fileno=cfg["ctl_fd"])
    info = {"mode": cfg["mode"], "warnings": []}
    mode = cfg["mode"]
    _load_seccomp(cfg, info)
    # Under memory pressure: snippets first (1000), then this worker, whose death takes every snippet
    # with it, and only then any host process (the trainer).
    _raise_oom_score(WORKER_OOM_SCORE)
    if mode == "bwrap" and cfg.get("drop_root"):
        _bwrap_root_setup(cfg, info)
    elif mode == "namespaces":
        _namespaces_setup(cfg, info)
    # Keep only stdio and the control socket (bwrap or the host may have handed us other fds).
    os.closerange(3, ctl.fileno())
    os.closerange(ctl.fileno() + 1, 1 << 16)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    cfg.setdefault("tmp", "/tmp")
    os.environ.clear()
    os.environ.update(cfg["env"])
    os.chdir(cfg["tmp"])
    try:
        _TID_OFFSET = _calibrate_tid_offset()
    except Exception as exc:
        info["warnings"].append(f"tid calibration failed: {exc!r}")
    for name in ("atexit", "fcntl", "io", "linecache", "threading", "traceback", "types"):
        __import__(name)  # the runner needs them: import once here rather than in every snippet
    preloaded = []
    t0 = time.monotonic()
    for name in cfg.get("preload", []):
        try:
            __import__(name)
            preloaded.append(name)
        except Exception:
            pass
    info["preload_s"] = round(time.monotonic() - t0, 3)
    info["preloaded"] = preloaded
    gc.collect()
    gc.freeze()  # the children's collector then leaves the shared heap alone (fewer copied pages)
    info["snippet_ns"] = mode != "rlimits" and cfg.get("snippet_ns", True) and _TID_OFFSET is not None
    if mode != "rlimits" and _TID_OFFSET is None:
        info["warnings"].append("per-snippet namespaces unavailable: raw clone not supported here")
    worker = Worker(ctl, cfg, info)
    if info["snippet_ns"]:
        problem = _probe_snippet_ns(worker)
        if problem:
            info["snippet_ns"] = worker.snippet_ns = False
            info["warnings"].append(f"per-snippet namespaces unavailable: {problem}")
    info.setdefault("private_proc", False)
    if not info["snippet_ns"] and SECCOMP is not None:
        info["seccomp_mode"] = _probe_seccomp()
    info["slot_uids"] = int(cfg.get("slot_uids") or 0) if info["snippet_ns"] else 0
    info.update(op="ready", pid=os.getpid(), uid=os.getuid(), python=sys.version.split()[0])
    worker.send(info)
    if getattr(worker, "probe", None):
        worker.hand_over(*worker.probe)
    worker.loop()


if __name__ == "__main__":
    main(sys.argv)
