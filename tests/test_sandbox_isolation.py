"""What snippets running side by side, or the host, share through the kernel (issue 7's holes 1-3 and
5-8): keyrings, socket families, the seccomp filter, per-user limits, file locks, the fallback
level's view of the host. Each case is a regression test: it failed on the sandbox before round 2.

Cases that need namespaces skip, with the reason, on a host that runs a weaker level; those that
need the seccomp filter skip where the kernel cannot load it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from code_interpreter.sandboxes import seccomp
from code_interpreter.sandboxes.local import LocalSandbox

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LIMITS = dict(memory_mb=768, max_processes=64, tmp_size_mb=64, max_open_files=256)
NAMESPACE_LEVELS = ("bwrap", "namespaces")
# add_key, keyctl, io_uring_setup (x86_64; aarch64 uses the generic table)
SYSCALLS = {"x86_64": (248, 250, 425), "aarch64": (217, 219, 425)}.get(platform.machine())


@pytest.fixture(scope="module")
def sb():
    with LocalSandbox(spares=2, **LIMITS) as sandbox:
        sandbox.wait_ready(120)
        yield sandbox


def _needs_namespaces(sandbox: LocalSandbox) -> None:
    if not sandbox.isolation.startswith(NAMESPACE_LEVELS):
        pytest.skip(f"needs namespace isolation (bubblewrap); this host runs at {sandbox.isolation!r}")


def _needs_seccomp(sandbox: LocalSandbox) -> None:
    if not sandbox.info.get("seccomp", {"applied": seccomp.supported()})["applied"]:
        pytest.skip("the kernel or machine cannot load the seccomp filter")


# --- holes 1-3: keyrings, socket families, the filter ------------------------------------------------

KEYRING_HOST = textwrap.dedent("""
    import ctypes, json, sys
    ADD_KEY, KEYCTL, _ = {syscalls}
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    assert libc.syscall(KEYCTL, 1, None) >= 0  # a session keyring of this test's own, not the user's
    secret = sys.argv[1].encode()
    key = libc.syscall(ADD_KEY, b"user", b"r1ci-test-key", secret, len(secret), -3)  # KEY_SPEC_SESSION_KEYRING
    assert key > 0, ctypes.get_errno()
    from code_interpreter.sandboxes.local import LocalSandbox
    with LocalSandbox(spares=1, preload=()) as sb:
        out = [sb.run(code.replace("KEY_ID", str(key)), timeout=10).stdout for code in json.loads(sys.argv[2])]
    print(json.dumps(out))
""")

KEYRING_SNIPPET = textwrap.dedent("""
    import ctypes
    ADD_KEY, KEYCTL, _ = {syscalls}
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    def attempt(name, *args):
        rc = libc.syscall(*args)
        print(name, rc if rc >= 0 else "errno", ctypes.get_errno() if rc < 0 else "")
    buf = ctypes.create_string_buffer(4096)
    attempt("session", KEYCTL, 0, -3, 0)  # KEYCTL_GET_KEYRING_ID of the session keyring
    attempt("read", KEYCTL, 11, KEY_ID, buf, 4096)  # KEYCTL_READ the host's key
    print("payload", buf.value.decode(errors="replace"))
    attempt("search", KEYCTL, 10, -3, b"user", b"r1ci-test-key", 0)
    attempt("plant", ADD_KEY, b"user", b"r1ci-planted", b"x", 1, -3)
    attempt("find_planted", KEYCTL, 10, -3, b"user", b"r1ci-planted", 0)
    print("proc_keys", open("/proc/keys").read().count("r1ci"))
""")


@pytest.mark.skipif(SYSCALLS is None, reason=f"no syscall numbers for {platform.machine()}")
def test_keyrings_are_not_shared_with_the_host_or_between_snippets():
    """A snippet once read (and could revoke) every key in the trainer's session keyring, and planted
    keys that later snippets found. Now each starts in a new session keyring and keyctl is denied."""
    secret = "r1ci-key-" + uuid.uuid4().hex
    snippet = KEYRING_SNIPPET.replace("{syscalls}", repr(SYSCALLS))
    host = KEYRING_HOST.replace("{syscalls}", repr(SYSCALLS))
    out = subprocess.run(
        [sys.executable, "-c", host, secret, json.dumps([snippet, snippet])],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    first, second = json.loads(out.stdout.strip().splitlines()[-1])
    for run in (first, second):
        assert secret not in run, run
        lines = dict(line.split(" ", 1) for line in run.strip().splitlines())
        if seccomp.supported():
            for name in ("session", "read", "search", "plant", "find_planted"):
                assert lines[name].split() == ["errno", "1"], (name, run)  # EPERM
        assert lines["proc_keys"] == "0", run


def test_socket_families_beyond_unix_and_inet_are_denied(sb):
    """AF_VSOCK reaches the VM host whatever the network namespace; packet, netlink and the rest are
    kernel surface a snippet has no use for."""
    _needs_seccomp(sb)
    code = textwrap.dedent("""
        import socket
        for name, fam, kind in [("vsock", 40, socket.SOCK_STREAM), ("packet", 17, socket.SOCK_RAW),
                                ("netlink", 16, socket.SOCK_RAW), ("alg", 38, socket.SOCK_SEQPACKET),
                                ("bluetooth", 31, socket.SOCK_STREAM), ("unix", 1, socket.SOCK_STREAM),
                                ("inet", 2, socket.SOCK_STREAM), ("inet6", 10, socket.SOCK_DGRAM)]:
            try:
                socket.socket(fam, kind).close()
                print(name, "ok")
            except OSError as e:
                print(name, e.errno)
        a, b = socket.socketpair()
        print("socketpair", "ok")
    """)
    res = sb.run(code, timeout=5)
    assert res.ok, res
    got = dict(line.split() for line in res.stdout.splitlines())
    for name in ("vsock", "packet", "netlink", "alg", "bluetooth"):
        assert got[name] == "1", (name, res.stdout)  # EPERM, whether or not the family exists here
    for name in ("unix", "inet", "inet6", "socketpair"):
        assert got[name] == "ok", (name, res.stdout)


@pytest.mark.skipif(SYSCALLS is None, reason=f"no syscall numbers for {platform.machine()}")
def test_the_seccomp_filter_is_loaded_and_reported(sb):
    _needs_seccomp(sb)
    info = sb.info["seccomp"]
    assert info["applied"] and "keyctl" in info["denied"] and "io_uring_setup" in info["denied"]
    code = textwrap.dedent(f"""
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        status = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
        print("mode", status["Seccomp"].strip())
        params = ctypes.create_string_buffer(120)
        rc = libc.syscall({SYSCALLS[2]}, 1, params)
        print("io_uring", rc, ctypes.get_errno())
        rc = libc.ptrace(0, 0, None, None)  # PTRACE_TRACEME
        print("ptrace", rc, ctypes.get_errno())
        try:
            os.unshare(0x10000000) if hasattr(os, "unshare") else None
            print("unshare ok" if hasattr(os, "unshare") else "unshare n/a")
        except OSError as e:
            print("unshare", e.errno)
    """)
    res = sb.run(code, timeout=5)
    assert res.ok, res
    assert "mode 2" in res.stdout
    assert "io_uring -1 1" in res.stdout and "ptrace -1 1" in res.stdout, res.stdout
    assert "unshare ok" not in res.stdout


def test_seccomp_can_be_turned_off_for_measurement():
    with LocalSandbox(spares=0, preload=(), seccomp=False) as sandbox:
        info = sandbox.wait_ready(60)
        res = sandbox.run("print(open('/proc/self/status').read().count('Seccomp:\\t0'))", timeout=5)
    assert info["seccomp"]["applied"] is False
    assert any("no seccomp filter" in w for w in info["warnings"])
    assert res.stdout == "1\n", res


def _at_once(holder: str, prober: str) -> list[str]:
    """Both snippets share CLOCK_MONOTONIC with the host: the prober looks 0.8 s after T0, the holder
    holds until T0 + 2.5 s, so what the prober sees does not depend on start-up jitter."""
    t0 = f"import time\nT0 = {time.monotonic()!r}\n"
    return [t0 + holder, t0 + prober]


def _held_before_probed(holder, prober) -> None:
    assert holder.ok and prober.ok, (holder, prober)
    held = float(holder.stdout.split("held_at ")[1].split()[0])
    probed = float(prober.stdout.split("probed_at ")[1].split()[0])
    assert held < probed, f"inconclusive: the prober looked before the holder held ({held} >= {probed})"


# --- hole 5: a uid per live snippet ------------------------------------------------------------------

HOG = textwrap.dedent("""
    import ctypes, fcntl, os, time
    pipes = []
    try:
        while True:
            r, w = os.pipe()
            pipes.append((r, w))
            fcntl.fcntl(w, 1031, 1 << 20)  # F_SETPIPE_SZ: claim this uid's pipe pages
    except OSError as e:
        print("pipes", len(pipes), e.errno)
    libc = ctypes.CDLL(None)
    inotify = []
    while len(inotify) < 500:
        fd = libc.inotify_init()
        if fd < 0:
            break
        inotify.append(fd)
    print("inotify", len(inotify))
    print("uid_map", open("/proc/self/uid_map").read().split())
    print("held_at", time.monotonic(), flush=True)
    time.sleep(max(0.0, T0 + 2.5 - time.monotonic()))
""")

PROBE = textwrap.dedent("""
    import ctypes, fcntl, os, time
    time.sleep(max(0.0, T0 + 0.8 - time.monotonic()))
    print("probed_at", time.monotonic())
    r, w = os.pipe()
    print("pipe_size", fcntl.fcntl(w, 1032))  # F_GETPIPE_SZ: 4096 once the uid is over its soft limit
    fds = [ctypes.CDLL(None).inotify_init() for _ in range(8)]
    print("inotify_ok", sum(fd >= 0 for fd in fds))
    print("uid_map", open("/proc/self/uid_map").read().split())
""")


def test_each_live_snippet_has_a_uid_of_its_own(sb):
    """One snippet exhausting per-user kernel resources (pipe pages, inotify instances) once starved
    every concurrent snippet, since all ran as one uid."""
    _needs_namespaces(sb)
    if not sb.info.get("per_slot_uid", os.geteuid() == 0):
        pytest.skip("a uid per slot needs a root host: " + "; ".join(sb.info["warnings"]))
    hog, probe = sb.run_many(_at_once(HOG, PROBE), timeout=6)
    _held_before_probed(hog, probe)
    assert hog.ok and probe.ok, (hog, probe)
    assert "pipe_size 65536" in probe.stdout, (hog.stdout, probe.stdout)
    assert "inotify_ok 8" in probe.stdout, (hog.stdout, probe.stdout)
    hog_map = hog.stdout.split("uid_map")[1].split("\n")[0]
    assert hog_map != probe.stdout.split("uid_map")[1].split("\n")[0]
    # A snippet's own share is capped too, so the host's per-user limits keep room for the trainer.
    assert int(hog.stdout.split("inotify ")[1].split()[0]) <= 32, hog.stdout


def test_running_short_of_slot_uids_waits_instead_of_failing(caplog):
    """Spares and snippets being torn down hold slot uids too: with too few, the worker must wait for
    one to come back rather than report failed spawns (five in a row replace the worker)."""
    with LocalSandbox(spares=2, preload=(), max_concurrency=4, slot_uid_count=2) as sandbox:
        info = sandbox.wait_ready(60)
        if not info["per_slot_uid"]:
            pytest.skip("a uid per slot needs a root host")
        results = sandbox.run_many([f"import time\ntime.sleep(0.05)\nprint({i})" for i in range(12)], timeout=10)
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(12)], results
    assert all(r.error is None for r in results)
    assert not [r for r in caplog.records if "could not start a snippet process" in r.getMessage()]


# --- hole 6: kernel memory outside RLIMIT_AS -----------------------------------------------------------


def test_kernel_memory_a_snippet_can_pin_is_capped(sb):
    """mlock'ed pages, message queues and queued signals are kernel memory that RLIMIT_AS does not see."""
    _needs_namespaces(sb)
    code = textwrap.dedent("""
        import ctypes, mmap, resource
        for name in ("RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_SIGPENDING"):
            print(name, resource.getrlimit(getattr(resource, name))[1])
        buf = mmap.mmap(-1, 1 << 20)
        libc = ctypes.CDLL(None, use_errno=True)
        addr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
        print("mlock_1MiB", libc.mlock(ctypes.c_void_p(addr), ctypes.c_size_t(1 << 20)), ctypes.get_errno())
    """)
    res = sb.run(code, timeout=5)
    assert res.ok, res
    got = dict(line.split(" ", 1) for line in res.stdout.splitlines())
    assert int(got["RLIMIT_MEMLOCK"]) <= 64 << 10
    assert int(got["RLIMIT_MSGQUEUE"]) <= 256 << 10
    assert int(got["RLIMIT_SIGPENDING"]) <= 256
    assert got["mlock_1MiB"].split()[0] == "-1", res.stdout


# --- hole 7: file locks on read-only files -------------------------------------------------------------

LOCK_HOLDER = textwrap.dedent("""
    import fcntl, os, time
    held = []
    for path in (os.__file__, "/etc/passwd", "/", "/usr", os.path.dirname(os.__file__)):
        fd = os.open(path, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.append(fd)
    f = open(os.__file__, "rb")
    fcntl.lockf(f, fcntl.LOCK_SH | fcntl.LOCK_NB)  # a read lock, allowed on a read-only descriptor
    print("held", len(held))
    print("held_at", time.monotonic(), flush=True)
    time.sleep(max(0.0, T0 + 2.5 - time.monotonic()))
""")

LOCK_PROBER = textwrap.dedent("""
    import fcntl, os, struct, time
    time.sleep(max(0.0, T0 + 0.8 - time.monotonic()))
    print("probed_at", time.monotonic())
    for path in (os.__file__, "/etc/passwd", "/", "/usr", os.path.dirname(os.__file__)):
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            print("free", path)
        except OSError:
            print("BUSY", path)
    with open(os.__file__, "rb") as f:
        probe = struct.pack("hh4xqqi4x", fcntl.F_WRLCK, 0, 0, 0, 0)
        kind = struct.unpack("hh4xqqi4x", fcntl.fcntl(f, fcntl.F_GETLK, probe))[0]
        print("getlk", "free" if kind == fcntl.F_UNLCK else "BUSY")
""")


def test_file_locks_are_no_channel_between_concurrent_snippets(sb):
    """flock/fcntl locks live on inodes: on the read-only system files every snippet shared, one
    snippet's lock was visible to another (1 bit per lock). Each snippet now sees the read-only
    directories through overlays of its own."""
    _needs_namespaces(sb)
    holder, prober = sb.run_many(_at_once(LOCK_HOLDER, LOCK_PROBER), timeout=6)
    _held_before_probed(holder, prober)
    assert holder.ok and "held 5" in holder.stdout, holder
    assert "BUSY" not in prober.stdout and prober.stdout.count("free") == 6, prober.stdout


def test_locks_within_one_snippet_still_work(sb):
    _needs_namespaces(sb)
    code = textwrap.dedent("""
        import fcntl, os
        a, b = os.open(os.__file__, os.O_RDONLY), os.open(os.__file__, os.O_RDONLY)
        fcntl.flock(a, fcntl.LOCK_EX)
        try:
            fcntl.flock(b, fcntl.LOCK_EX | fcntl.LOCK_NB)
            print("no exclusion")
        except BlockingIOError:
            print("excluded")
        import sqlite3
        db = sqlite3.connect("/tmp/x.db")
        db.execute("create table t (x)")
        db.execute("insert into t values (42)")
        db.commit()
        print(db.execute("select x from t").fetchone()[0])
    """)
    res = sb.run(code, timeout=5)
    assert res.ok and res.stdout == "excluded\n42\n", res


# --- hole 8: the fallback level's view -----------------------------------------------------------------


@pytest.fixture
def host_dir_outside_any_old_denylist():
    """A new directory on the host that the old deny-list did not name (a data disk, a work tree)."""
    path = Path("/var") / f"r1ci-sandbox-test-{uuid.uuid4().hex[:8]}"
    try:
        path.mkdir()
    except OSError as exc:
        pytest.skip(f"cannot create a test directory under /var: {exc}")
    (path / "secret.txt").write_text("r1ci-host-data")
    yield path
    (path / "secret.txt").unlink()
    path.rmdir()


def test_fallback_without_bubblewrap_shows_an_allow_list(host_dir_outside_any_old_denylist):
    """Without bubblewrap the worker hid host paths with a deny-list (anything new stayed readable)
    and shared one writable /var/tmp between snippets. Now it builds the same view as bubblewrap."""
    marker = host_dir_outside_any_old_denylist
    with LocalSandbox(isolation="namespaces", spares=1, preload=()) as sandbox:
        try:
            sandbox.wait_ready(60)
        except Exception as exc:
            pytest.skip(f"the namespaces level is unavailable here: {exc}")
        if not sandbox.isolation.startswith("namespaces"):
            pytest.skip(f"runs at {sandbox.isolation!r}")
        code = textwrap.dedent(f"""
            import os
            print(sorted(os.listdir("/")))
            for path in ("{marker}/secret.txt", "/var/tmp", "/home", "{PROJECT_ROOT}/pyproject.toml"):
                print(path, os.path.exists(path))
            try:
                open("/var/tmp/left-by-a-snippet", "w").write("x")
                print("wrote /var/tmp")
            except OSError as e:
                print("no /var/tmp", e.errno)
            open("/tmp/mine", "w").write("x")
        """)
        first = sandbox.run(code, timeout=10)
        second = sandbox.run(
            "import os\nprint(os.path.exists('/tmp/mine'), os.path.exists('/var/tmp/left-by-a-snippet'))", timeout=10
        )
    assert first.ok, first
    assert "r1ci-host-data" not in first.stdout
    top = eval(first.stdout.splitlines()[0])
    allowed = {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "sys", "tmp", "usr"}
    allowed |= {Path(p).parts[1] for p in (sys.prefix, sys.base_prefix) if len(Path(p).parts) > 1}
    assert set(top) <= allowed, top
    for line in first.stdout.splitlines()[1:5]:
        assert line.endswith("False"), first.stdout
    assert "wrote /var/tmp" not in first.stdout
    assert second.ok and second.stdout == "False False\n", second
