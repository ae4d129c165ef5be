"""Hostile snippets against the local sandbox: each must be contained, and the next ordinary
snippet must still run correctly within a second (see docs/sandbox.md).

The sandbox runs at the strongest level this host offers. Cases that rely on namespaces (network,
hidden files, read-only system, process limits, process-tree kill) carry the `bwrap` marker and
skip, with the reason, when the level in effect is weaker than namespaces.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import textwrap
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from code_interpreter.sandboxes.local import LocalSandbox

SECRET = "r1ci-secret-" + uuid.uuid4().hex
TIMEOUT = 2.0
LIMITS = dict(
    memory_mb=768,
    max_processes=64,
    file_size_mb=16,
    tmp_size_mb=64,
    max_open_files=256,
    max_output_bytes=64 << 10,
    output_kill_bytes=8 << 20,
)
PROJECT_ROOT = Path(__file__).resolve().parents[1]
SITE_PACKAGES = next(p for p in sys.path if p.endswith("site-packages"))


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def secrets_on_host():
    """Secrets where a careless sandbox would leak them: environment, home-dir token files, SSH keys."""
    saved = {k: os.environ.get(k) for k in ("HF_TOKEN", "E2B_API_KEY", "OPENAI_API_KEY")}
    for key in saved:
        os.environ[key] = SECRET
    home = Path.home()
    token = home / ".cache" / "huggingface" / "token"
    key = home / ".ssh" / f"r1ci_sandbox_test_{uuid.uuid4().hex[:8]}"
    new_dirs = [d for d in (home / ".cache", token.parent, key.parent) if not d.exists()]
    created: list[Path] = []
    if not token.exists():
        token.parent.mkdir(parents=True, exist_ok=True)
        token.write_text(SECRET)
        created.append(token)
    key.parent.mkdir(mode=0o700, exist_ok=True)
    key.write_text(f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SECRET}\n")
    created.append(key)
    yield {"token": token, "ssh_key": key, "home": home}
    for path in created:
        path.unlink(missing_ok=True)
    for d in reversed(new_dirs):  # leave the home directory as we found it
        shutil.rmtree(d, ignore_errors=True)
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def sandbox(secrets_on_host):
    sb = LocalSandbox(spares=2, **LIMITS)
    sb.wait_ready(120)
    yield sb
    sb.close()


@pytest.fixture(scope="module")
def tcp_listener():
    """A TCP server on the host's 127.0.0.1 that records every connection it gets."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    hits: list[tuple] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, addr = srv.accept()
            except (TimeoutError, OSError):
                continue
            hits.append(addr)
            conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1], hits
    stop.set()
    t.join(1)
    srv.close()


@pytest.fixture(scope="module")
def udp_listener():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    yield sock
    sock.close()


@pytest.fixture(scope="module")
def abstract_listener():
    name = f"r1ci-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind("\0" + name)
    sock.listen(1)
    sock.setblocking(False)
    yield name, sock
    sock.close()


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        for kid in children.get(pid, []):
            out.append(kid)
            todo.append(kid)
    return out


def _assert_no_leftovers(sb: LocalSandbox) -> None:
    """Nothing a snippet started may outlive it: the worker's tree holds only the worker and spares."""
    limit = 3 + sb.spares  # bwrap's init, the worker, the spares, one spare being made
    root = sb._worker.proc.pid
    deadline = time.monotonic() + 3
    while True:
        count = len(_descendants(root))
        if count <= limit or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert count <= limit, f"{count} processes under the sandbox worker (expected <= {limit})"


def _run_bounded(sb: LocalSandbox, code: str, timeout: float, slack: float = 15.0):
    """sb.run(code), failing (rather than hanging the suite) if it does not return in time."""
    box: list = []
    t = threading.Thread(target=lambda: box.append(sb.run(code, timeout=timeout)), daemon=True)
    t.start()
    t.join(timeout + slack)
    assert box, f"run() did not return within {timeout + slack:g}s: a snippet hung its caller"
    return box[0]


def _assert_still_healthy(sb: LocalSandbox) -> None:
    t0 = time.monotonic()
    res = sb.run("import math\nprint(sum(range(10)), math.factorial(5))", timeout=5)
    elapsed = time.monotonic() - t0
    assert res.ok, res
    assert res.stdout == "45 120\n"
    assert elapsed < 1.0, f"the next snippet took {elapsed:.2f}s"


# --- cases -----------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    code: str
    check: object  # callable(result, ctx) -> None
    timeout: float = TIMEOUT
    needs_isolation: bool = True
    leftovers: bool = False
    ctx: dict = field(default_factory=dict)


def _stdout_has(*words):
    def check(res, ctx):
        for w in words:
            assert w.format(**ctx) in res.stdout, (w, res)

    return check


def _stdout_lacks(*words):
    def check(res, ctx):
        for w in words:
            assert w not in res.stdout, (w, res)

    return check


def _expect(pred):
    def check(res, ctx):
        assert pred(res), res

    return check


def _no_secret(res, ctx):
    assert SECRET not in res.stdout + res.stderr, res
    assert "LEAK" not in res.stdout, res


def _all(*checks):
    def check(res, ctx):
        for c in checks:
            c(res, ctx)

    return check


def _exit(code):
    def check(res, ctx):
        assert res.exit_code == code, res
        assert not res.timed_out and res.error is None, res

    return check


def _timed_out(res, ctx):
    assert res.timed_out, res
    assert res.error is None, res
    assert res.duration_s < ctx.get("timeout", TIMEOUT) + 2.0, res


def _signalled(sig):
    def check(res, ctx):
        assert res.exit_code == -sig, res
        assert not res.timed_out, res

    return check


def _try(expr: str, ok_word: str = "LEAK") -> str:
    """A snippet that prints `ok_word` if `expr` succeeds and BLOCKED:<error> if it raises."""
    return textwrap.dedent(f"""
        try:
            {expr}
            print("{ok_word}")
        except BaseException as e:
            print("BLOCKED:" + type(e).__name__)
    """)


def _blocked(res, ctx):
    assert "BLOCKED:" in res.stdout, res
    _no_secret(res, ctx)


CASES = [
    # -- network --------------------------------------------------------------------------------
    Case(
        "tcp_to_host_loopback",
        _try("import socket; socket.create_connection(('127.0.0.1', {tcp_port}), timeout=1)"),
        _blocked,
    ),
    Case("tcp_to_public_ip", _try("import socket; socket.create_connection(('1.1.1.1', 53), timeout=1)"), _blocked),
    Case("dns_lookup", _try("import socket; socket.getaddrinfo('huggingface.co', 443)"), _blocked),
    Case(
        "udp_to_host_loopback",
        textwrap.dedent("""
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.sendto(b'LEAK-UDP', ('127.0.0.1', {udp_port}))
        except OSError as e:
            print('BLOCKED:' + type(e).__name__)
        print('sent')
    """),
        lambda res, ctx: None,
    ),
    Case(
        "abstract_unix_socket_to_host",
        _try("import socket; s = socket.socket(socket.AF_UNIX); s.connect('\\0{abstract}')"),
        _blocked,
    ),
    Case(
        "raw_socket",
        _try("import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)"),
        _blocked,
    ),
    # -- secrets --------------------------------------------------------------------------------
    Case(
        "environment_secrets",
        textwrap.dedent("""
        import os
        print(sorted(os.environ))
        for k, v in os.environ.items():
            print(k, v)
    """),
        _all(_no_secret, _stdout_lacks("HF_TOKEN", "E2B_API_KEY", "OPENAI_API_KEY")),
    ),
    Case("proc_ppid_environ", _try("import os; print(open('/proc/%d/environ' % os.getppid()).read())"), _blocked),
    Case(
        "proc_every_environ",
        textwrap.dedent("""
        import os
        seen = 0
        for pid in os.listdir('/proc'):
            if pid.isdigit():
                try:
                    data = open(f'/proc/{pid}/environ', 'rb').read()
                except OSError:
                    continue
                seen += 1
                print(data.decode(errors='replace'))
        print('pids', [p for p in os.listdir('/proc') if p.isdigit()])
    """),
        _all(_no_secret, _stdout_has("pids ['1']")),
    ),
    Case("host_pid_environ", _try("print(open('/proc/{host_pid}/environ').read())"), _blocked),
    Case("hf_token_file", _try("print(open('{token}').read())"), _blocked),
    Case(
        "hf_token_home_relative",
        _try("import os; print(open(os.path.expanduser('~/.cache/huggingface/token')).read())"),
        _blocked,
    ),
    Case("ssh_key", _try("print(open('{ssh_key}').read())"), _blocked),
    Case(
        "list_host_home",
        textwrap.dedent("""
        import os
        try:
            print(sorted(os.listdir('{home}')))
        except OSError as e:
            print('BLOCKED:' + type(e).__name__)
    """),
        _all(_no_secret, _stdout_lacks("'.ssh'", "'.cache'")),
    ),
    Case("read_project_tree", _try("print(open('{project}/pyproject.toml').read())"), _blocked),
    Case("read_etc_shadow", _try("print(open('/etc/shadow').read())"), _blocked),
    # -- writes outside the private temp dir ----------------------------------------------------
    # A checkout under the host's /tmp lies inside the snippet's private /tmp, where writing is
    # allowed and harmless; either way the host file must not appear (checked after every case).
    Case(
        "write_project_tree",
        _try("open('{project}/{marker}', 'w').write('x')", ok_word="WROTE"),
        (lambda res, ctx: None) if str(PROJECT_ROOT).startswith("/tmp/") else _blocked,
    ),
    Case(
        "write_host_tmp",
        textwrap.dedent("""
        open('{host_tmp_file}', 'w').write('LEAK')
        print('wrote inside the sandbox only')
    """),
        lambda res, ctx: None,
    ),
    Case("write_site_packages", _try("open('{site}/{marker}.py', 'w').write('x')"), _blocked),
    Case("write_usr", _try("open('/usr/lib/{marker}', 'w').write('x')"), _blocked),
    Case("write_etc", _try("open('/etc/{marker}', 'w').write('x')"), _blocked),
    Case("chmod_system_file", _try("import os; os.chmod('/etc/passwd', 0o777)"), _blocked),
    # -- resources ------------------------------------------------------------------------------
    Case(
        "fork_bomb",
        textwrap.dedent("""
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """),
        _timed_out,
        leftovers=True,
    ),
    Case(
        "fork_bomb_reports_limit",
        textwrap.dedent("""
        import os, time
        kids = 0
        try:
            for _ in range(10000):
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                kids += 1
        except OSError as e:
            print('limited after', kids, type(e).__name__)
    """),
        _stdout_has("limited after"),
        leftovers=True,
    ),
    Case(
        "thread_bomb",
        textwrap.dedent("""
        import threading, time
        n = 0
        try:
            while True:
                threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
                n += 1
        except RuntimeError as e:
            print('threads', n, e)
    """),
        _all(_stdout_has("threads"), _expect(lambda res: int(res.stdout.split()[1]) < 64)),
    ),
    Case(
        "memory_bomb_at_once",
        _try("x = bytearray(64 * 1024**3)"),
        _stdout_has("BLOCKED:MemoryError"),
        needs_isolation=False,
    ),
    Case(
        "memory_bomb_growing",
        textwrap.dedent("""
        chunks = []
        try:
            while True:
                chunks.append(bytearray(16 * 1024**2))
        except MemoryError:
            print('MemoryError after', len(chunks) * 16, 'MiB')
    """),
        _stdout_has("MemoryError after"),
        timeout=6.0,  # ~0.3 s on an idle machine, seconds when the host must reclaim memory first
        needs_isolation=False,
    ),
    Case("cpu_spin", "while True:\n    pass\n", _timed_out, timeout=1.0, needs_isolation=False),
    Case(
        "cpu_spin_many_processes",
        textwrap.dedent("""
        import os
        for _ in range(4):
            if os.fork() == 0:
                break
        while True:
            pass
    """),
        _timed_out,
        timeout=1.0,
        leftovers=True,
    ),
    Case(
        "stdout_flood",
        "while True:\n    print('x' * 1000)\n",
        _expect(lambda res: res.truncated and len(res.stdout) < 200_000 and res.duration_s < 5),
        timeout=10.0,
        needs_isolation=False,
    ),
    Case(
        "stderr_flood",
        "import sys\nwhile True:\n    sys.stderr.write('y' * 4096)\n",
        _expect(lambda res: res.truncated and len(res.stderr) < 200_000 and res.duration_s < 5),
        timeout=10.0,
        needs_isolation=False,
    ),
    Case(
        "one_huge_line",
        "import sys\nsys.stdout.write('z' * 5_000_000)\nprint()\nprint('END')\n",
        _expect(lambda res: res.truncated and res.stdout.rstrip().endswith("END") and "truncated" in res.stdout),
        needs_isolation=False,
    ),
    Case(
        "huge_file",
        _try("open('/tmp/big', 'wb').write(b'0' * (64 * 1024**2))"),
        _stdout_has("BLOCKED:OSError"),
        needs_isolation=False,
    ),
    Case(
        "fill_tmp",
        textwrap.dedent("""
        import os
        written = 0
        try:
            for i in range(100):
                with open(f'/tmp/f{i}', 'wb') as f:
                    f.write(b'0' * (8 * 1024**2))
                written += 8
        except OSError as e:
            print('stopped at', written, 'MiB', e.errno)
    """),
        _stdout_has("stopped at"),
    ),
    Case(
        "open_files",
        textwrap.dedent("""
        fs = []
        try:
            while True:
                fs.append(open('/dev/null'))
        except OSError as e:
            print('EMFILE after', len(fs))
    """),
        _stdout_has("EMFILE after"),
        needs_isolation=False,
    ),
    Case(
        "deep_recursion",
        "def f(n):\n    return f(n + 1)\nf(0)\n",
        _expect(lambda res: "RecursionError" in res.stderr and res.exit_code == 1),
        needs_isolation=False,
    ),
    Case(
        "deep_recursion_unbounded",
        "import sys\nsys.setrecursionlimit(10**8)\ndef f(n):\n    return f(n + 1)\nf(0)\n",
        _expect(lambda res: res.timed_out or (res.exit_code or 0) < 0 or "Error" in res.stderr),
        timeout=3.0,
        needs_isolation=False,
    ),
    Case("segfault_ctypes", "import ctypes\nctypes.string_at(0)\n", _signalled(11), needs_isolation=False),
    # The snippet is pid 1 of its namespace, which ignores signals it sends itself: abort() ends in SIGSEGV.
    Case("abort", "import os\nos.abort()\n", _expect(lambda res: res.exit_code in (-6, -11)), needs_isolation=False),
    # -- processes and signals ------------------------------------------------------------------
    Case(
        "kill_parent",
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint('alive')\n",
        lambda res, ctx: None,
    ),
    Case("kill_pid_1", "import os, signal\nos.kill(1, signal.SIGKILL)\nprint('still here')\n", lambda res, ctx: None),
    Case("kill_everything", _try("import os, signal; os.kill(-1, signal.SIGKILL)"), lambda res, ctx: None),
    Case("kill_process_group", "import os, signal\nos.killpg(0, signal.SIGKILL)\n", lambda res, ctx: None),
    Case(
        "signal_ignoring_child_outlives",
        textwrap.dedent("""
        import os, signal, time
        if os.fork() == 0:
            for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(s, signal.SIG_IGN)
            os.setsid()
            time.sleep(60)
            os._exit(0)
        print('parent done')
    """),
        _stdout_has("parent done"),
        leftovers=True,
    ),
    Case(
        "daemonised_grandchild",
        textwrap.dedent("""
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.closerange(0, 3)
                time.sleep(60)
            os._exit(0)
        os.wait()
        print('daemon started')
    """),
        _stdout_has("daemon started"),
        leftovers=True,
    ),
    Case(
        "child_holds_stdout_open",
        textwrap.dedent("""
        import os, time
        if os.fork() == 0:
            while True:
                print('child', flush=True)
                time.sleep(0.01)
        print('parent exits')
    """),
        _all(_stdout_has("parent exits"), _expect(lambda res: res.duration_s < 1.0)),
        leftovers=True,
    ),
    Case(
        "read_stdin_input",
        "x = input()\n",
        _expect(lambda res: "EOFError" in res.stderr and res.exit_code == 1),
        needs_isolation=False,
    ),
    Case("read_stdin_all", "import sys\nprint(repr(sys.stdin.read()))\n", _stdout_has("''"), needs_isolation=False),
    Case("sys_exit_3", "import sys\nsys.exit(3)\n", _exit(3), needs_isolation=False),
    Case("sys_exit_256", "import sys\nsys.exit(256)\n", _exit(0), needs_isolation=False),
    Case("sys_exit_negative", "import sys\nsys.exit(-1)\n", _exit(255), needs_isolation=False),
    Case(
        "sys_exit_message",
        "import sys\nsys.exit('bye now')\n",
        _all(_exit(1), _expect(lambda res: "bye now" in res.stderr)),
        needs_isolation=False,
    ),
    Case(
        "os_exit",
        "import os\nprint('x', flush=True)\nos._exit(42)\n",
        _all(_exit(42), _expect(lambda res: res.stdout == "x\n")),
        needs_isolation=False,
    ),
    Case(
        "tamper_builtins",
        textwrap.dedent("""
        import builtins, sys
        builtins.print = None
        builtins.len = lambda x: 0
        builtins.__import__ = None
        sys.modules.clear()
    """),
        _exit(0),
        needs_isolation=False,
    ),
    Case(
        "tamper_worker_state",
        textwrap.dedent("""
        import gc, json, os, sys
        json.loads = None
        os.write = None
        sys.stdout = None
        for o in gc.get_objects():
            if isinstance(o, dict) and 'Worker' in o:
                o.clear()
    """),
        _exit(0),
        needs_isolation=False,
    ),
    Case("close_every_fd", "import os\nos.closerange(0, 65536)\n", _exit(0), needs_isolation=False),
    Case(
        "fake_done_record",
        "import os, time\nos.write(3, b'D0\\n')\ntime.sleep(30)\n",
        lambda res, ctx: None,
        leftovers=True,
    ),
    Case(
        "garbage_on_status_pipe",
        "import os\nos.write(3, b'Dxx\\nX\\nZ' * 100)\nprint('ok')\n",
        lambda res, ctx: None,
        needs_isolation=False,
    ),
    Case(
        "invalid_utf8_and_control_chars",
        textwrap.dedent("""
        import sys
        sys.stdout.buffer.write(b'bad \\xff\\xfe utf8\\n')
        sys.stdout.write('ctl \\x00\\x07\\x1b[31m\\r\\n')
        sys.stdout.flush()
    """),
        _expect(lambda res: "\\xff\\xfe" in res.stdout and "\x00\x07\x1b[31m\r" in res.stdout),
        needs_isolation=False,
    ),
    # -- the snippet's own end of the status pipe (fd 3) --------------------------------------------
    # An unfinished line there used to swallow the host's "exited" token: run() then never returned.
    Case(
        "status_pipe_garbage_then_timeout",
        "import os, time\nos.write(3, b'x')\ntime.sleep(30)\n",
        _timed_out,
        timeout=1.0,
        needs_isolation=False,
    ),
    # Unbounded (and quadratic) parsing of fd 3 in the trainer's thread: it must count as output.
    Case(
        "status_pipe_flood",
        "import os\nchunk = b'\\n' * 65536 + b'x' * 65536\nwhile True:\n    os.write(3, chunk)\n",
        _expect(lambda res: "[output limit exceeded" in res.stderr and not res.timed_out and res.duration_s < 5),
        timeout=10.0,
        needs_isolation=False,
    ),
    # `error` means the sandbox failed: a snippet must not be able to claim that (test_hostile also
    # asserts error is None for every case).
    Case(
        "forged_setup_error_record",
        "import os\nos.write(3, b'Esnippet setup failed: forged\\n')\nprint('ok')\n",
        _all(_exit(0), _stdout_has("ok")),
        needs_isolation=False,
    ),
    Case("exit_code_121_is_the_snippets_own", "import os\nos._exit(121)\n", _exit(121), needs_isolation=False),
    Case(
        "forged_done_record_out_of_range",
        "import os\nos.write(3, b'D99999\\n')\nprint('ok')\n",
        _all(_exit(0), _stdout_has("ok")),
        needs_isolation=False,
    ),
    # -- kernel-facing knobs ----------------------------------------------------------------------
    # With its OOM score back at 0, a snippet holding memory no RSS shows (System V shm, memfd) would
    # make the kernel's OOM killer pick the trainer.
    Case(
        "lower_oom_score",
        textwrap.dedent("""
        try:
            with open('/proc/self/oom_score_adj', 'w') as f:
                f.write('0')
            print('LEAK')
        except OSError as e:
            print('BLOCKED:' + type(e).__name__)
        print('adj', open('/proc/self/oom_score_adj').read().strip())
    """),
        _all(_blocked, _stdout_has("adj 1000")),
    ),
    Case(
        "nested_user_namespace",
        _try("import ctypes; assert ctypes.CDLL(None, use_errno=True).unshare(0x10000000) == 0"),
        _stdout_has("BLOCKED:AssertionError"),
    ),
    Case(
        "raise_limits_back",
        _try("import resource; resource.setrlimit(resource.RLIMIT_AS, (-1, -1))"),
        _stdout_has("BLOCKED:ValueError"),
        needs_isolation=False,
    ),
    # -- round 2 (issue 7): the snippet's own root, its kernel-side limits -------------------------
    Case("chroot_again", _try("import os; os.mkdir('/tmp/j'); os.chroot('/tmp/j')"), _blocked),
    Case(
        "mount_over_the_view",
        _try(
            "import ctypes; libc = ctypes.CDLL(None, use_errno=True); "
            "assert libc.mount(b'none', b'/tmp', b'tmpfs', 0, None) == 0"
        ),
        _stdout_has("BLOCKED:AssertionError"),
    ),
    Case(
        "root_shows_only_the_view",
        "import os\nprint(sorted(os.listdir('/')))\nprint(open('/proc/self/mountinfo').read().count('overlay') > 0)\n",
        _all(_stdout_lacks(".empty", "'home'", "'var'", "'run'", "'mnt'"), _stdout_has("True")),
    ),
    Case(
        "socketpair_buffer_flood",
        textwrap.dedent("""
        import socket
        pairs, queued = [], 0
        try:
            while True:
                a, b = socket.socketpair()
                a.setblocking(False)
                pairs.append((a, b))
                try:
                    while True:
                        queued += a.send(b'x' * 65536)
                except BlockingIOError:
                    pass
        except OSError as e:
            print('pairs', len(pairs), 'MiB', queued >> 20, e.errno)
    """),
        _stdout_has("pairs"),
        needs_isolation=False,
    ),
    Case(
        "seek_and_reconfigure_stdout",
        "import sys\nprint(sys.stdout.seekable())\nsys.stdout.reconfigure(line_buffering=False, encoding='ascii', errors='replace')\nprint('\\u00e9')\n",
        _all(_exit(0), _expect(lambda res: res.stdout == "False\n?\n")),
        needs_isolation=False,
    ),
    Case(
        "stdout_and_stderr_flood_at_once",
        textwrap.dedent("""
        import sys, threading
        def err():
            while True:
                sys.stderr.write('e' * 5000)
        threading.Thread(target=err, daemon=True).start()
        while True:
            sys.stdout.write('o' * 5000)
    """),
        _expect(lambda res: res.truncated and "[output limit exceeded" in res.stderr and res.duration_s < 5),
        timeout=10.0,
        needs_isolation=False,
    ),
    Case(
        "non_daemon_thread_forever",
        "import threading, time\nthreading.Thread(target=time.sleep, args=(60,)).start()\n",
        _timed_out,
        timeout=1.0,
        needs_isolation=False,
    ),
]


def test_there_are_at_least_40_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.name, marks=[pytest.mark.bwrap] if c.needs_isolation else []) for c in CASES]
)
def test_hostile(case, sandbox, secrets_on_host, tcp_listener, udp_listener, abstract_listener, tmp_path):
    if case.needs_isolation and not sandbox.isolation.startswith(("bwrap", "namespaces")):
        pytest.skip(f"needs namespace isolation (bubblewrap); this host runs at {sandbox.isolation!r}")
    tcp_port, hits = tcp_listener
    marker = f"r1ci-hostile-{uuid.uuid4().hex[:8]}"
    host_tmp_file = tmp_path / marker
    ctx = dict(
        tcp_port=tcp_port,
        udp_port=udp_listener.getsockname()[1],
        abstract=abstract_listener[0],
        token=secrets_on_host["token"],
        ssh_key=secrets_on_host["ssh_key"],
        home=secrets_on_host["home"],
        host_pid=os.getpid(),
        project=PROJECT_ROOT,
        site=SITE_PACKAGES,
        marker=marker,
        host_tmp_file=host_tmp_file,
        timeout=case.timeout,
    )
    code = case.code.replace("{", "{{").replace("}", "}}")
    for key in ctx:  # fill in only our own placeholders; snippets keep their own braces
        code = code.replace("{{" + key + "}}", str(ctx[key]))
    code = code.replace("{{", "{").replace("}}", "}")
    res = _run_bounded(sandbox, code, case.timeout)
    assert res.error is None, res
    assert res.isolation == sandbox.isolation
    case.check(res, ctx)
    _no_secret(res, ctx)
    # Containment on the host side.
    assert hits == [], f"the host's listener was reached from the sandbox: {hits}"
    try:
        data = udp_listener.recv(100)
    except BlockingIOError:
        data = b""
    assert data == b"", "a UDP datagram reached the host"
    try:
        abstract_listener[1].accept()
        raise AssertionError("an abstract unix socket connection reached the host")
    except BlockingIOError:
        pass
    assert not host_tmp_file.exists()
    assert not (PROJECT_ROOT / marker).exists()
    assert not Path(SITE_PACKAGES, marker + ".py").exists()
    assert os.environ["HF_TOKEN"] == SECRET  # the host's own state is untouched
    _assert_still_healthy(sandbox)
    if case.leftovers:
        _assert_no_leftovers(sandbox)


@pytest.mark.bwrap
def test_tmp_is_private_per_snippet(sandbox):
    if not sandbox.isolation.startswith(("bwrap", "namespaces")):
        pytest.skip(f"needs namespace isolation (bubblewrap); this host runs at {sandbox.isolation!r}")
    first = sandbox.run("open('/tmp/note', 'w').write('hello')\nprint('wrote')", timeout=5)
    assert first.stdout == "wrote\n"
    second = sandbox.run(_try("print(open('/tmp/note').read())"), timeout=5)
    assert "BLOCKED:FileNotFoundError" in second.stdout


@pytest.mark.bwrap
def test_concurrent_hostiles_do_not_disturb_ordinary_snippets(sandbox):
    if not sandbox.isolation.startswith(("bwrap", "namespaces")):
        pytest.skip(f"needs namespace isolation (bubblewrap); this host runs at {sandbox.isolation!r}")
    hostile = [
        "while True:\n    pass\n",
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
        "x = bytearray(64 * 1024**3)\n",
        "while True:\n    print('x' * 1000)\n",
    ]
    ordinary = [f"print({i} * {i})" for i in range(12)]
    results = sandbox.run_many(hostile + ordinary, timeout=1.5)
    for i, res in enumerate(results[len(hostile) :]):
        assert res.ok and res.stdout == f"{i * i}\n", res
    _assert_still_healthy(sandbox)
    _assert_no_leftovers(sandbox)


LISTENER = textwrap.dedent("""
    import os, pty, socket, time
    u = socket.socket(socket.AF_UNIX)
    u.bind('\\0r1ci-hostile-rendezvous')
    u.listen(4)
    t = socket.socket()
    t.bind(('127.0.0.1', 45678))
    t.listen(4)
    master, slave = pty.openpty()
    print('listening', os.ttyname(slave), flush=True)
    u.settimeout(0.1)
    t.settimeout(0.1)
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        for s in (u, t):
            try:
                s.accept()
                print('REACHED', s.family)
            except OSError:
                pass
""")

PROBER = textwrap.dedent("""
    import os, socket, time
    time.sleep(0.5)
    for name, connect in (
        ('abstract', lambda: socket.socket(socket.AF_UNIX).connect('\\0r1ci-hostile-rendezvous')),
        ('tcp', lambda: socket.create_connection(('127.0.0.1', 45678), timeout=1)),
    ):
        try:
            connect()
            print('LEAK', name)
        except OSError as e:
            print('BLOCKED', name, type(e).__name__)
    ptys = [n for n in os.listdir('/dev/pts') if n.isdigit()]
    print('LEAK ptys' if ptys else 'BLOCKED ptys', ptys)
""")


@pytest.mark.bwrap
def test_concurrent_snippets_cannot_reach_one_another(sandbox):
    """Rollouts running side by side must not talk: no shared loopback, abstract sockets or ptys."""
    if not sandbox.isolation.startswith(("bwrap", "namespaces")):
        pytest.skip(f"needs namespace isolation (bubblewrap); this host runs at {sandbox.isolation!r}")
    listener, prober = sandbox.run_many([LISTENER, PROBER], timeout=5)
    assert listener.ok and "listening /dev/pts/" in listener.stdout, listener
    assert prober.ok, prober
    assert "LEAK" not in prober.stdout and prober.stdout.count("BLOCKED") == 3, prober
    assert "REACHED" not in listener.stdout, listener
    _assert_still_healthy(sandbox)


def _all_slots_free(sb: LocalSandbox, within: float = 5.0) -> bool:
    """A slot comes back when the snippet's exit is reported, just after (or, for a killed snippet,
    possibly a while after) its result."""
    deadline = time.monotonic() + within
    while sb.slots._value != sb.max_concurrency and time.monotonic() < deadline:
        time.sleep(0.02)
    return sb.slots._value == sb.max_concurrency


def test_a_forged_done_record_ends_the_snippet_at_once(sandbox):
    """fd 3 (the status pipe) is writable by snippet code. A forged "done" once made run() return in
    milliseconds while the snippet kept burning CPU in its slot until the deadline; now the record
    means "end me now": the snippet is killed at once and its slot comes back."""
    assert _all_slots_free(sandbox)
    code = "import os\nprint('before', flush=True)\nos.write(3, b'D0\\n')\nprint('after', flush=True)\nwhile True:\n    pass\n"
    t0 = time.monotonic()
    res = _run_bounded(sandbox, code, timeout=30.0)
    assert time.monotonic() - t0 < 5.0
    assert res.error is None and not res.timed_out and res.stdout.startswith("before\n"), res
    assert _all_slots_free(sandbox, within=3.0), "the forged snippet still holds its slot"
    _assert_no_leftovers(sandbox)
    _assert_still_healthy(sandbox)


SLOT_WRITER = textwrap.dedent("""
    import os, time
    open('/tmp/slot-secret', 'w').write('r1ci-slot-secret')
    os.makedirs('/dev/shm/x', exist_ok=True)
    print('wrote', flush=True)
    time.sleep(1.5)
""")
SLOT_READER = textwrap.dedent("""
    import os, time
    time.sleep(0.5)
    seen = []
    for top in ('/tmp', '/dev/shm', '/var/tmp'):
        for root, dirs, files in os.walk(top):
            seen += [os.path.join(root, f) for f in files]
    for pid in os.listdir('/proc'):
        if pid.isdigit():
            try:
                seen += os.listdir(f'/proc/{pid}/root/tmp')
            except OSError:
                pass
    print('seen', seen)
""")


@pytest.mark.bwrap
def test_a_snippet_cannot_read_another_slots_temp_dir(sandbox):
    if not sandbox.isolation.startswith(("bwrap", "namespaces")):
        pytest.skip(f"needs namespace isolation (bubblewrap); this host runs at {sandbox.isolation!r}")
    writer, reader = sandbox.run_many([SLOT_WRITER, SLOT_READER], timeout=5)
    assert writer.ok and reader.ok, (writer, reader)
    assert "slot-secret" not in reader.stdout and "seen []" in reader.stdout, reader.stdout


def test_code_with_lone_surrogates_is_the_snippets_error_and_leaks_nothing(sandbox):
    """A str that is not valid UTF-8 (a lone surrogate) once cost a slot of the concurrency limit and
    three host fds per call, and came back as a sandbox error. Now it reaches the snippet, whose
    compile() rejects it as `python` would."""
    assert _all_slots_free(sandbox)
    fds = len(os.listdir("/proc/self/fd"))
    for _ in range(10):
        res = sandbox.run("print(ascii('\ud800'))\n", timeout=5)
        assert res.error is None and res.exit_code == 1 and "UnicodeEncodeError" in res.stderr, res
    assert _all_slots_free(sandbox), f"the concurrency limit changed: {sandbox.slots._value} slots free"
    assert len(os.listdir("/proc/self/fd")) < fds + 10, "host fds leaked"  # (spares come and go)
    _assert_still_healthy(sandbox)


@pytest.mark.bwrap
def test_timeouts_stay_on_time_when_the_machine_is_overloaded(secrets_on_host):
    """Many CPU-bound process trees at once: tearing them down takes the kernel seconds. Timeouts
    must still be answered on time, and the worker must not be declared stuck (replacing it would
    fail every other snippet in flight). grace_s is tiny so that any such wait shows."""
    sb = LocalSandbox(
        spares=2, grace_s=0.2, max_processes=17, **{k: v for k, v in LIMITS.items() if k != "max_processes"}
    )
    try:
        if not sb.isolation.startswith(("bwrap", "namespaces")):
            pytest.skip(f"needs namespace isolation (bubblewrap); this host runs at {sb.isolation!r}")
        spin = "import os\nfor _ in range(4):\n    os.fork()\nwhile True:\n    pass\n"
        results = sb.run_many([spin] * 12 + ["print(6 * 7)"], timeout=1.0)
        for res in results[:-1]:
            assert res.error is None and res.timed_out, res
            assert res.duration_s < 2.0, res
        assert results[-1].ok and results[-1].stdout == "42\n", results[-1]
        _assert_still_healthy(sb)
    finally:
        sb.close()
