"""Pure builders of the worker's view of the host: the bubblewrap command line, the mounts of the
allow-list view, and the user-namespace maps. Nothing here starts the worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from code_interpreter.sandboxes.local.levels import SandboxUnavailable

WORKER_SOURCE = (Path(__file__).resolve().parents[1] / "_worker.py").read_text()
# Compiled under its own name so snippet tracebacks ("<string>", as with `python -c`) never mix with it.
BOOT = "import sys; exec(compile(sys.argv.pop(1), '<sandbox-worker>', 'exec'), {'__name__': '__main__'})"
# Not -I: it would ignore PYTHONMALLOC. The worker's environment is ours alone (never the host's),
# so -s (no user site) is all the isolation from the environment that is needed.
PY_FLAGS = ("-s", "-X", "utf8")
#: The worker's heap lives in transparent huge pages: forking copies ~30x fewer page-table entries.
WORKER_ENV = {"PYTHONMALLOC": "malloc", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}
PROJECT_ROOT = Path(__file__).resolve().parents[3]
SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
HIDE = (
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


def python_layout(python: str) -> dict:
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
        if any(p == s or p.startswith(s + "/") for s in SYSTEM_DIRS):
            continue  # already visible as part of the system directories
        if any(p == r or p.startswith(r + "/") for r in roots):
            continue
        if os.path.isdir(p):
            roots.append(p)
    layout["roots"] = roots
    return layout


def bwrap_argv(layout: dict, cfg: dict, userns_fd: int | None) -> list[str]:
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
    for key, value in {**cfg["env"], **WORKER_ENV}.items():
        argv += ["--setenv", key, value]
    for d in SYSTEM_DIRS:
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
    argv += ["--", layout["executable"], *PY_FLAGS, "-c", BOOT, WORKER_SOURCE, json.dumps(cfg)]
    return argv


def hide_list(extra: Sequence[str], keep: Sequence[str]) -> list[str]:
    home = os.path.expanduser("~")
    cands = list(HIDE) + [str(PROJECT_ROOT), os.getcwd(), home, *extra]
    out = []
    for p in cands:
        p = os.path.abspath(p)
        if p == "/" or any(s == p or s.startswith(p.rstrip("/") + "/") for s in SYSTEM_DIRS):
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


def userns_for(uid: int) -> tuple[subprocess.Popen, int]:
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
