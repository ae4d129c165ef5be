"""A memory cgroup with a hard limit for the worker and all its snippets, where the host delegates one.

`RLIMIT_AS` bounds each process's address space; a cgroup bounds what the whole sandbox holds in
total, including what no process's size shows: tmpfs files (`/tmp`, `/dev/shm`), memfd and System V
shared memory, page tables and kernel stacks. (Not AF_UNIX socket buffers: the kernel charges them to
no cgroup; see docs/sandbox.md.) Inside the cgroup the kernel's OOM killer still goes by
`oom_score_adj`, so snippets (1000) die before the worker (500), and nothing outside is touched.

Which parent: `memory_cgroup=` or R1CI_SANDBOX_MEMORY_CGROUP names one (cgroup v2 with the memory
controller enabled for its children, e.g. a systemd unit with `Delegate=yes`, or a writable
directory of a v1 memory hierarchy); by default ("auto") the sandbox uses the cgroup the trainer
itself runs in when that one is usable (writable, memory controller available to children), so a
delegated cgroup is used wherever the host offers one; "none" turns it off. Children of one's own
cgroup cannot escape its limits, so this never loosens anything the host set.
"""

from __future__ import annotations

import errno
import os
import time
from dataclasses import dataclass
from pathlib import Path

#: Parent cgroup directory the sandbox may create its worker cgroups in.
MEMORY_CGROUP_ENV = "R1CI_SANDBOX_MEMORY_CGROUP"


def cgroup_version(parent: str | Path) -> int:
    """1 or 2 for a usable parent memory cgroup; ValueError (saying how to fix it) otherwise."""
    p = Path(parent)
    if not p.is_dir():
        raise ValueError(f"memory cgroup parent {str(p)!r} is not a directory")
    if (p / "cgroup.controllers").exists():
        enabled = (p / "cgroup.subtree_control").read_text().split()
        if "memory" not in enabled:
            raise ValueError(
                f"cgroup v2 parent {str(p)!r} does not enable the memory controller for its children: "
                f"echo +memory > {p / 'cgroup.subtree_control'}"
            )
        version = 2
    elif (p / "memory.limit_in_bytes").exists():
        version = 1
    else:
        raise ValueError(f"{str(p)!r} is not a memory cgroup (neither cgroup.controllers nor memory.limit_in_bytes)")
    if not os.access(p, os.W_OK):
        raise ValueError(f"memory cgroup parent {str(p)!r} is not writable by this user")
    return version


@dataclass
class MemoryCgroup:
    path: Path
    version: int
    limit_bytes: int

    @classmethod
    def create(cls, parent: str | Path, name: str, limit_bytes: int) -> MemoryCgroup:
        version = cgroup_version(parent)
        sweep_stale(parent)
        path = Path(parent) / name
        path.mkdir()
        cg = cls(path, version, limit_bytes)
        try:
            if version == 2:
                (path / "memory.max").write_text(str(limit_bytes))
                if (path / "memory.swap.max").exists():
                    (path / "memory.swap.max").write_text("0")  # the limit is on memory, not memory + swap
            else:
                (path / "memory.limit_in_bytes").write_text(str(limit_bytes))
                if (path / "memory.memsw.limit_in_bytes").exists():
                    (path / "memory.memsw.limit_in_bytes").write_text(str(limit_bytes))
        except BaseException:
            cg.remove(wait_s=0)
            raise
        return cg

    def wrap(self, argv: list[str]) -> list[str]:
        """`argv` started inside this cgroup: a shell moves itself in, then becomes `argv`, so that
        every process of the sandbox (bubblewrap, the worker, the snippets) is born inside."""
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.path / "cgroup.procs"), *argv]

    def describe(self) -> dict:
        return {"path": str(self.path), "version": self.version, "limit_mb": self.limit_bytes >> 20}

    def remove(self, wait_s: float = 5.0) -> None:
        """rmdir once its last process is gone (the kernel refuses with EBUSY until then)."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError as exc:
                if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                    return
                time.sleep(0.05)


def sweep_stale(parent: str | Path, prefix: str = "r1ci-sandbox-") -> None:
    """Remove empty cgroups left by sandboxes of processes that are gone (a trainer killed before it
    could clean up). Named `<prefix><pid>-<n>`; the kernel refuses to remove one that holds a process."""
    for path in Path(parent).glob(f"{prefix}*-*"):
        pid = path.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            try:
                path.rmdir()
            except OSError:
                pass


def own_memory_cgroup(
    proc_cgroup: str | Path = "/proc/self/cgroup", root: str | Path = "/sys/fs/cgroup"
) -> Path | None:
    """The memory cgroup this process runs in, if it may create limited children there; else None."""
    try:
        lines = Path(proc_cgroup).read_text().splitlines()
    except OSError:
        return None
    candidates = []
    for line in lines:
        hierarchy, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        rel = path.lstrip("/")
        if "memory" in controllers.split(","):  # a v1 memory hierarchy
            candidates.append(Path(root) / "memory" / rel)
        elif hierarchy == "0" and controllers == "":  # v2, mounted at the root or under unified/
            candidates += [Path(root) / rel, Path(root) / "unified" / rel]
    for candidate in candidates:
        try:
            cgroup_version(candidate)
        except (ValueError, OSError):
            continue
        return candidate
    return None


def default_limit_mb() -> int:
    """Half of this machine's memory: room for the trainer whatever the snippets do."""
    try:
        with open("/proc/meminfo") as f:
            total_kb = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
    except (OSError, StopIteration, ValueError):
        return 4096
    return max(256, total_kb // 1024 // 2)
