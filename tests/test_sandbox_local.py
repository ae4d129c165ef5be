"""The local sandbox: the contract of DESIGN.md ("Sandboxes"), its limits, its fallbacks and its
recovery from a dead worker. Hostile snippets are in test_sandbox_hostile.py."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from code_interpreter.protocol import DEFAULT_TIMEOUT_S
from code_interpreter.sandboxes import ExecutionResult, get_sandbox
from code_interpreter.sandboxes.local import (
    REQUIRE_FULL_ISOLATION_ENV,
    Limits,
    LocalSandbox,
    SandboxUnavailable,
)

HAVE_BWRAP = shutil.which("bwrap") is not None
DOCS = Path(__file__).resolve().parents[1] / "docs" / "sandbox.md"


@pytest.fixture(scope="module")
def sb():
    with LocalSandbox(spares=2) as sandbox:
        sandbox.wait_ready(120)
        yield sandbox


# --- the contract ----------------------------------------------------------------------------------


def test_get_sandbox_local_is_the_default():
    with get_sandbox(warm=False) as sandbox:
        assert isinstance(sandbox, LocalSandbox)
        res = sandbox.run("print('hi')", timeout=10)
    assert isinstance(res, ExecutionResult)
    assert (res.stdout, res.stderr, res.exit_code, res.timed_out, res.truncated, res.error) == (
        "hi\n",
        "",
        0,
        False,
        False,
        None,
    )
    assert res.duration_s > 0 and res.isolation and res.ok


def test_stdout_stderr_and_exit_codes(sb):
    res = sb.run("import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(3)", timeout=10)
    assert (res.stdout, res.stderr, res.exit_code, res.ok) == ("out\n", "err\n", 3, False)


def test_uncaught_exception_looks_like_python_c(sb):
    res = sb.run("x = 1\n\ndef f():\n    return 1 / 0\n\nf()\n", timeout=10)
    assert res.exit_code == 1
    assert res.stderr.startswith('Traceback (most recent call last):\n  File "<string>", line 6, in <module>')
    assert "    return 1 / 0" in res.stderr  # the snippet's own lines are shown
    assert res.stderr.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "worker" not in res.stderr  # no frames of the sandbox itself


def test_syntax_error(sb):
    res = sb.run("print('unclosed'\n", timeout=10)
    assert res.exit_code == 1 and "SyntaxError" in res.stderr and 'File "<string>", line 1' in res.stderr


def test_each_snippet_starts_from_a_clean_state(sb):
    first = sb.run("import json, builtins\nleak = 42\nbuiltins.print = None\njson.dumps = None", timeout=10)
    assert first.ok, first
    second = sb.run("import json\nprint('leak' in globals(), json.dumps([1]), __name__)", timeout=10)
    assert second.stdout == "False [1] __main__\n", second


def test_random_state_differs_between_snippets(sb):
    code = "import random, numpy\nprint(random.random(), numpy.random.rand())"
    outs = {r.stdout for r in sb.run_many([code] * 4, timeout=10)}
    assert len(outs) == 4


def test_scientific_stack_is_available_and_preloaded(sb):
    info = sb.info
    assert set(info["preloaded"]) >= {"numpy", "sympy", "scipy", "networkx"}
    code = (
        "import numpy as np, sympy, scipy.optimize, networkx as nx, pandas as pd\n"
        "x = sympy.symbols('x')\n"
        "print(int(np.arange(5).sum()), sympy.solve(x**2 - 4, x), round(scipy.optimize.brentq(lambda t: t - 1, 0, 2)),"
        " nx.shortest_path_length(nx.path_graph(4), 0, 3), len(pd.DataFrame({'a': [1, 2]})))"
    )
    res = sb.run(code, timeout=30)
    assert res.stdout == "10 [-2, 2] 1 3 2\n", res


def test_timeout_kills_and_the_next_call_works(sb):
    t0 = time.monotonic()
    res = sb.run("import time\nprint('started', flush=True)\ntime.sleep(30)", timeout=1)
    assert res.timed_out and res.exit_code is None and res.error is None
    assert res.stdout == "started\n"  # output printed before the kill is kept
    assert time.monotonic() - t0 < 3
    assert sb.run("print(2)", timeout=10).stdout == "2\n"


def test_default_timeout_is_the_protocols(sb):
    assert LocalSandbox.run.__defaults__[-1] == DEFAULT_TIMEOUT_S


def test_stdin_is_closed(sb):
    res = sb.run("import sys\nprint(repr(sys.stdin.read()))\ninput()", timeout=10)
    assert res.stdout == "''\n" and "EOFError" in res.stderr


def test_invalid_utf8_and_control_characters_survive(sb):
    res = sb.run("import sys\nsys.stdout.buffer.write(b'\\xff\\xfeA\\x00\\x1b[1m\\r\\n')", timeout=10)
    assert res.ok and res.stdout == "\\xff\\xfeA\x00\x1b[1m\r\n"


def test_stdout_and_stderr_are_ordinary_pipes(sb):
    """As under `python script.py | cat`: not seekable, and reconfigure() works (it failed with
    "Illegal seek" when the worker's /dev/null stdout object was inherited)."""
    code = (
        "import os, stat, sys\n"
        "print(sys.stdout.seekable(), sys.stderr.seekable(), sys.stdout.isatty())\n"
        "print(stat.S_ISFIFO(os.fstat(1).st_mode), stat.S_ISFIFO(os.fstat(sys.stdout.fileno()).st_mode))\n"
        "sys.stdout.reconfigure(encoding='utf-8', errors='replace')\n"
        "sys.stderr.reconfigure(encoding='latin-1')\n"
        "print('caf\u00e9')\n"
        "print('err', file=sys.stderr)\n"
    )
    res = sb.run(code, timeout=5)
    assert res.ok, res
    assert res.stdout == "False False False\nTrue True\ncaf\u00e9\n"
    assert res.stderr == "err\n"


def test_the_host_environment_is_not_passed_on(sb, monkeypatch):
    res = sb.run("import os\nprint(sorted(os.environ))", timeout=10)
    assert "HF_TOKEN" not in res.stdout and "E2B_API_KEY" not in res.stdout and "'HOME'" in res.stdout


def test_extra_env_for_snippets():
    with LocalSandbox(spares=0, preload=(), env={"R1CI_TASK": "game24"}) as sandbox:
        assert sandbox.run("import os\nprint(os.environ['R1CI_TASK'])", timeout=10).stdout == "game24\n"


# --- concurrency -----------------------------------------------------------------------------------


def test_run_many_keeps_order_and_runs_concurrently(sb):
    codes = [f"import time\ntime.sleep(0.2)\nprint({i})" for i in range(16)]
    t0 = time.monotonic()
    results = sb.run_many(codes, timeout=10)
    wall = time.monotonic() - t0
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(16)]
    assert wall < 1.5, wall  # 16 x 0.2 s in sequence would be 3.2 s


def test_concurrency_is_bounded_with_a_queue():
    with LocalSandbox(max_concurrency=2, spares=1, preload=()) as sandbox:
        code = "import time\nt0 = time.time()\ntime.sleep(0.3)\nprint(round(t0, 2))"
        t0 = time.monotonic()
        results = sandbox.run_many([code] * 6, timeout=10)
        wall = time.monotonic() - t0
    assert all(r.ok for r in results)
    assert wall >= 0.85, wall  # three waves of two
    starts = sorted(float(r.stdout) for r in results)
    assert starts[2] - starts[0] >= 0.25 and starts[4] - starts[2] >= 0.25


def test_run_from_many_threads(sb):
    def work(i):
        return [sb.run(f"print({i} * {j})", timeout=10).stdout for j in range(5)]

    with ThreadPoolExecutor(8) as pool:
        outs = list(pool.map(work, range(8)))
    assert outs == [[f"{i * j}\n" for j in range(5)] for i in range(8)]


def test_arun_and_arun_many_from_an_event_loop(sb):
    async def main():
        one, many = await asyncio.gather(sb.arun("print('a')", timeout=10), sb.arun_many(["print(1)", "print(2)"]))
        # A synchronous call inside a running loop also works (it blocks that loop meanwhile).
        inline = sb.run("print('b')", timeout=10)
        return one, many, inline

    one, many, inline = asyncio.run(main())
    assert one.stdout == "a\n" and [r.stdout for r in many] == ["1\n", "2\n"] and inline.stdout == "b\n"


# --- output limits ---------------------------------------------------------------------------------


def test_output_is_capped_with_head_and_tail():
    with LocalSandbox(spares=0, preload=(), max_output_bytes=1000) as sandbox:
        res = sandbox.run("for i in range(5000):\n    print(i)\nprint('END')", timeout=10)
        small = sandbox.run("print('x' * 999, end='')", timeout=10)
    assert res.truncated and res.ok
    assert res.stdout.startswith("0\n1\n2\n") and res.stdout.endswith("4999\nEND\n")
    assert re.search(r"\[\d+ characters truncated\]", res.stdout)  # protocol.truncate_middle's marker
    assert len(res.stdout) < 1100
    assert not small.truncated and small.stdout == "x" * 999


def test_output_flood_is_stopped():
    with LocalSandbox(spares=0, preload=(), max_output_bytes=4096, output_kill_bytes=1 << 20) as sandbox:
        t0 = time.monotonic()
        res = sandbox.run("while True:\n    print('y' * 100)", timeout=20)
    assert res.truncated and not res.timed_out and time.monotonic() - t0 < 5
    assert "output limit exceeded" in res.stderr


# --- resource limits (each configurable) -----------------------------------------------------------


def test_limits_defaults_are_documented():
    text = DOCS.read_text()
    for name, value in Limits().__dict__.items():
        assert name in text, f"docs/sandbox.md does not document {name}"
        assert value is None or str(value) in text or f"{value >> 20}" in text, (name, value)


def test_configurable_limits():
    with LocalSandbox(spares=0, preload=(), memory_mb=256, file_size_mb=1, max_open_files=64, cpu_time_s=1) as sandbox:
        mem = sandbox.run("x = bytearray(512 * 1024**2)", timeout=10)
        fsize = sandbox.run("open('/tmp/f', 'wb').write(b'0' * (2 * 1024**2))", timeout=10)
        files = sandbox.run("fs = [open('/dev/null') for _ in range(100)]", timeout=10)
        cpu = sandbox.run("while True:\n    pass", timeout=20)
    assert "MemoryError" in mem.stderr
    assert "File too large" in fsize.stderr
    assert "Too many open files" in files.stderr
    assert cpu.exit_code in (-signal.SIGXCPU, -signal.SIGKILL) and not cpu.timed_out, cpu
    assert "CPU time limit exceeded" in cpu.stderr


def test_invalid_options():
    with pytest.raises(ValueError):
        LocalSandbox(isolation="chroot", warm=False)
    with pytest.raises(ValueError):
        LocalSandbox(isolation="rlimits", require_full_isolation=True, warm=False)
    with pytest.raises(ValueError, match="slot uids"):  # the worker's own uid inside the slots' range
        LocalSandbox(sandbox_uid=1_800_000_001, warm=False)


# --- recovery --------------------------------------------------------------------------------------


def test_a_dead_worker_is_replaced():
    with LocalSandbox(spares=1, preload=()) as sandbox:
        assert sandbox.run("print(1)", timeout=10).ok
        results = {}

        def slow():
            results["slow"] = sandbox.run("import time\ntime.sleep(10)", timeout=20)

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.5)
        os.killpg(sandbox._worker.proc.pid, signal.SIGKILL)  # the worker dies mid-snippet
        t.join(10)
        assert results["slow"].error and "died" in results["slow"].error
        after = sandbox.run("print('back')", timeout=10)
        assert after.ok and after.stdout == "back\n"


def test_closed_sandbox_refuses_work():
    sandbox = LocalSandbox(spares=0, preload=(), warm=False)
    sandbox.close()
    sandbox.close()  # idempotent
    res = sandbox.run("print(1)")
    assert res.error and "closed" in res.error


# --- isolation levels ------------------------------------------------------------------------------


@pytest.mark.skipif(not HAVE_BWRAP, reason="bubblewrap (bwrap) is not installed")
def test_full_isolation_with_bwrap_is_named_everywhere(caplog):
    caplog.set_level(logging.INFO, logger="code_interpreter.sandboxes.local")
    with LocalSandbox(spares=0, preload=(), require_full_isolation=True) as sandbox:
        res = sandbox.run("print(1)", timeout=10)
        assert sandbox.isolation == "bwrap" == res.isolation == sandbox.info["isolation"]
    assert any("isolation=bwrap" in r.getMessage() for r in caplog.records)


def test_requiring_full_isolation_without_bwrap_refuses(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="bwrap"):
        LocalSandbox(require_full_isolation=True)
    monkeypatch.setenv(REQUIRE_FULL_ISOLATION_ENV, "1")
    with pytest.raises(SandboxUnavailable, match="bwrap"):
        get_sandbox("local")


def test_without_bwrap_auto_falls_back_and_says_so(monkeypatch, caplog):
    from code_interpreter.sandboxes.local import sandbox as sandbox_module

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(sandbox_module, "_TOLD", set())
    caplog.set_level(logging.WARNING, logger="code_interpreter.sandboxes.local")
    with LocalSandbox(spares=0, preload=()) as sandbox:
        res = sandbox.run("print(1)", timeout=10)
        assert res.ok and res.isolation == sandbox.isolation and res.isolation in ("namespaces", "rlimits")
    notices = [r for r in caplog.records if "weaker than full isolation" in r.getMessage()]
    assert notices and notices[0].levelno == logging.WARNING
    text = notices[0].getMessage()
    assert "bubblewrap (`bwrap`) is not installed" in text and "apt-get install bubblewrap" in text
    assert "What that means:" in text and REQUIRE_FULL_ISOLATION_ENV in text


def test_a_newcomer_is_told_once(monkeypatch, caplog):
    from code_interpreter.sandboxes.local import sandbox as sandbox_module

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(sandbox_module, "_TOLD", set())
    caplog.set_level(logging.INFO, logger="code_interpreter.sandboxes.local")
    for _ in range(2):
        with LocalSandbox(spares=0, preload=(), isolation="rlimits") as sandbox:
            assert sandbox.run("print(1)", timeout=10).ok
    notices = [r for r in caplog.records if "apt-get install bubblewrap" in r.getMessage()]
    assert [r.levelno for r in notices] == [logging.WARNING, logging.INFO]
    assert "WITHOUT namespaces" in notices[0].getMessage()


NETWORK_AND_SECRETS = """
import os, socket
try:
    socket.create_connection(('1.1.1.1', 53), timeout=1)
    print('network: open')
except OSError:
    print('network: blocked')
print('secret' if 'HF_TOKEN' in os.environ else 'no secret')
try:
    open('{project}/r1ci-sandbox-probe', 'w')
    print('project: writable')
except OSError:
    print('project: read-only')
"""


def test_namespaces_fallback(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_TOKEN", "hf_not_for_snippets")
    project = Path(__file__).resolve().parents[1]
    with LocalSandbox(isolation="namespaces", spares=0, preload=()) as sandbox:
        if not sandbox.info:
            pytest.skip("namespaces unavailable")
        res = sandbox.run(NETWORK_AND_SECRETS.format(project=project), timeout=10)
        tree = sandbox.run(
            "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(30)\nprint('ok')", timeout=10
        )
        assert res.isolation == "namespaces"
    # Under the host's /tmp the project path falls inside the snippet's private /tmp (writable there).
    project_line = "project: writable" if str(project).startswith("/tmp/") else "project: read-only"
    assert res.stdout == f"network: blocked\nno secret\n{project_line}\n", res
    assert tree.ok and not (project / "r1ci-sandbox-probe").exists()


def test_rlimits_fallback(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_TOKEN", "hf_not_for_snippets")
    with LocalSandbox(isolation="rlimits", spares=1, preload=()) as sandbox:
        res = sandbox.run(
            "import os\nprint('secret' if 'HF_TOKEN' in os.environ else 'no secret', os.getcwd())", timeout=10
        )
        spin = sandbox.run(
            "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\nwhile True:\n    pass", timeout=1
        )
        assert sandbox.info["isolation"] == "rlimits" == res.isolation
        root = sandbox._worker.proc.pid
        time.sleep(0.3)
        leftover = [p for p in os.listdir("/proc") if p.isdigit() and _ppid(p) == root]
    assert res.stdout.startswith(f"no secret {tempfile.gettempdir()}/r1ci-sandbox-"), res  # a private work dir
    assert spin.timed_out
    assert len(leftover) <= 2  # the worker's own spare(s); the daemonised sleeper was swept


def _ppid(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


@pytest.mark.skipif(not HAVE_BWRAP, reason="bubblewrap (bwrap) is not installed")
def test_an_environment_under_host_tmp_stays_usable(tmp_path):
    # CI may check the project out (and create .venv) under /tmp, which every snippet gets privately.
    assert str(tmp_path).startswith("/tmp/")
    import subprocess
    import sys

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "only_in_this_venv.py").write_text("VALUE = 41 + 1\n")
    with LocalSandbox(python=str(venv / "bin" / "python"), preload=(), spares=1) as sandbox:
        res = sandbox.run("import sys, only_in_this_venv as m; print(sys.prefix, m.VALUE)", timeout=30)
        assert sandbox.isolation == "bwrap" == res.isolation
        assert res.stdout == f"{venv} 42\n", res
        write = sandbox.run(f"open({str(site / 'evil.py')!r}, 'w')", timeout=30)
        assert write.exit_code == 1 and "Read-only" in write.stderr
        assert not (site / "evil.py").exists()
        assert sandbox.run("print(sorted(__import__('os').listdir('/tmp'))[:1])", timeout=30).exit_code == 0
