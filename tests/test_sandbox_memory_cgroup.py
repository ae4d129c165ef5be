"""The optional memory cgroup of the local sandbox (issue 7, hole 6): what it writes into a parent
cgroup the host delegates, and that every process of the sandbox is born inside it.

The cgroup file protocol is checked against a directory laid out like a cgroup (the kernel's
enforcement needs a real delegated cgroup: set R1CI_SANDBOX_MEMORY_CGROUP to run that case too).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from code_interpreter.sandboxes.local import LocalSandbox
from code_interpreter.sandboxes.local.memory_cgroup import (
    MEMORY_CGROUP_ENV,
    MemoryCgroup,
    cgroup_version,
    own_memory_cgroup,
)


def _fake_cgroup(root: Path, version: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if version == 2:
        (root / "cgroup.controllers").write_text("cpu memory pids\n")
        (root / "cgroup.subtree_control").write_text("memory\n")
    else:
        (root / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    return root


@pytest.mark.parametrize("version", [1, 2])
def test_a_worker_cgroup_gets_a_hard_limit_and_its_processes(tmp_path, version):
    parent = _fake_cgroup(tmp_path, version)
    cg = MemoryCgroup.create(parent, "w1", 300 << 20)
    limit_file = "memory.max" if version == 2 else "memory.limit_in_bytes"
    assert (cg.path / limit_file).read_text() == str(300 << 20)
    out = subprocess.run(cg.wrap(["/bin/sh", "-c", "echo $$"]), capture_output=True, text=True, check=True)
    assert (cg.path / "cgroup.procs").read_text().strip() == out.stdout.strip()  # the same process, exec'd
    assert cg.describe() == {"path": str(cg.path), "version": version, "limit_mb": 300}


def test_a_parent_that_cannot_be_used_is_refused_with_the_fix(tmp_path):
    with pytest.raises(ValueError, match="not a memory cgroup"):
        cgroup_version(tmp_path)
    (tmp_path / "cgroup.controllers").write_text("memory\n")
    (tmp_path / "cgroup.subtree_control").write_text("cpu\n")
    with pytest.raises(ValueError, match=r"echo \+memory"):
        LocalSandbox(memory_cgroup=str(tmp_path), warm=False).close()


def test_the_whole_sandbox_starts_inside_its_cgroup(tmp_path):
    parent = _fake_cgroup(tmp_path, 2)
    with LocalSandbox(spares=0, preload=(), memory_cgroup=str(parent), cgroup_memory_mb=512) as sandbox:
        info = sandbox.wait_ready(60)
        res = sandbox.run("print(6 * 7)", timeout=10)
        procs = Path(info["memory_cgroup"]["path"], "cgroup.procs").read_text().split()
        assert procs == [str(sandbox._worker.proc.pid)]
    assert res.ok and res.stdout == "42\n", res
    assert info["memory_cgroup"]["limit_mb"] == 512


def test_cgroups_of_dead_processes_are_swept(tmp_path):
    parent = _fake_cgroup(tmp_path, 2)
    (parent / "r1ci-sandbox-999999999-1").mkdir()  # no such pid
    (parent / f"r1ci-sandbox-{os.getpid()}-1").mkdir()  # ours, alive
    MemoryCgroup.create(parent, "r1ci-sandbox-new-1", 1 << 30)
    assert not (parent / "r1ci-sandbox-999999999-1").exists() and (parent / f"r1ci-sandbox-{os.getpid()}-1").exists()


def test_auto_finds_the_own_cgroup_where_usable_and_none_turns_it_off(tmp_path, monkeypatch):
    root = tmp_path / "fs"
    v1 = _fake_cgroup(root / "memory" / "jobs", 1)
    proc = tmp_path / "cgroup"
    proc.write_text("4:memory:/jobs\n0::/\n")
    assert own_memory_cgroup(proc, root) == v1
    proc.write_text("4:memory:/elsewhere\n0::/\n")  # not writable / not a memory cgroup: none
    assert own_memory_cgroup(proc, root) is None
    v2 = _fake_cgroup(root / "unified" / "svc", 2)
    proc.write_text("0::/svc\n")
    assert own_memory_cgroup(proc, root) == v2
    monkeypatch.setenv(MEMORY_CGROUP_ENV, "none")
    sandbox = LocalSandbox(warm=False)
    assert sandbox.memory_cgroup is None
    sandbox.close()


@pytest.mark.skipif(
    not os.environ.get(MEMORY_CGROUP_ENV) and own_memory_cgroup() is None,
    reason=f"this host offers no usable memory cgroup (set {MEMORY_CGROUP_ENV} to a delegated one)",
)
def test_the_kernel_holds_the_sandbox_to_its_limit():
    """tmpfs pages are charged to no process's address space: only the cgroup stops them."""
    with LocalSandbox(spares=0, preload=(), cgroup_memory_mb=128, tmp_size_mb=512) as sandbox:
        res = sandbox.run("open('/tmp/big', 'wb').write(b'0' * (400 << 20))\nprint('wrote')", timeout=30)
        after = sandbox.run("print(1)", timeout=10)
    assert "wrote" not in res.stdout and res.exit_code == -9, res
    assert after.ok
