"""Pure builders of the worker's view of the host: the bubblewrap command line, the mounts of the
allow-list view, and the user-namespace maps. Nothing here starts the worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
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
SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: Read by glibc to decide whether to back the worker's heap with huge pages.
THP_DIR = "/sys/kernel/mm/transparent_hugepage"


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


@dataclass(frozen=True)
class Mount:
    """One step of building the sandbox's file-system view (an allow-list: nothing else is there).

    op: "ro-bind" (src shown read-only at dest), "symlink" (dest -> src), "dir" (an empty directory
    with `mode`), "tmpfs" (a private in-memory directory with `mode`), "dev" (a minimal /dev: null,
    zero, full, random, urandom, tty, pts, shm) or "proc" (a /proc of the sandbox's own processes).
    """

    op: str
    dest: str
    src: str = ""
    mode: str = ""


def sandbox_view(layout: dict, thp_dir: str | None = THP_DIR) -> list[Mount]:
    """The view every isolation level with namespaces builds: the system directories and the
    interpreter's roots read-only, a private /tmp, /dev and /proc, and nothing else of the host.

    bubblewrap builds it for the worker (`bwrap_argv`); without bubblewrap the worker builds it
    itself; and each snippet rebuilds it for itself over its own overlays (see _worker.py), so no
    file or directory inode is shared between snippets running side by side.
    """
    view: list[Mount] = []
    for d in SYSTEM_DIRS:
        if os.path.islink(d):
            view.append(Mount("symlink", d, src=os.readlink(d)))
        elif os.path.isdir(d):
            view.append(Mount("ro-bind", d, src=d))
    # /tmp is private and must exist before the interpreter's roots are bound: a venv under the
    # host's /tmp (a CI checkout there, say) would otherwise be hidden by the tmpfs.
    view.append(Mount("tmpfs", "/tmp", mode="1777"))
    made: set[str] = set()
    for root in layout["roots"]:
        parents = []
        parent = os.path.dirname(root)
        while parent not in ("/", "") and parent not in made:
            parents.append(parent)
            parent = os.path.dirname(parent)
        for p in reversed(parents):
            view.append(Mount("dir", p, mode="0755"))
            made.add(p)
        view.append(Mount("ro-bind", root, src=root))
    if thp_dir and os.path.isdir(thp_dir):
        parent = os.path.dirname(thp_dir)
        chain = []
        while parent not in ("/", ""):
            chain.append(parent)
            parent = os.path.dirname(parent)
        view += [Mount("dir", p, mode="0755") for p in reversed(chain)]
        view.append(Mount("ro-bind", thp_dir, src=thp_dir))
    view += [Mount("dev", "/dev"), Mount("proc", "/proc")]
    return view


def view_to_json(view: Sequence[Mount]) -> list[dict]:
    return [asdict(m) for m in view]


def worker_argv(executable: str, cfg: dict) -> list[str]:
    """The worker's command line (inside bubblewrap, or on its own)."""
    return [executable, *PY_FLAGS, "-c", BOOT, WORKER_SOURCE, json.dumps(cfg)]


def bwrap_argv(view: Sequence[Mount], executable: str, cfg: dict, userns_fd: int | None) -> list[str]:
    """The bubblewrap command line that starts the worker inside `view`."""
    argv = ["bwrap"]
    if userns_fd is not None:
        # Root host: a user namespace prepared by us maps unprivileged uids only (see userns_map);
        # bwrap sets up as its root, then the worker drops what it does not need.
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
    for m in view:
        if m.op == "symlink":
            argv += ["--symlink", m.src, m.dest]
        elif m.op == "ro-bind":
            argv += ["--ro-bind", m.src, m.dest]
        elif m.op == "dir":
            argv += ["--perms", m.mode or "0755", "--dir", m.dest]
        elif m.op == "tmpfs":
            argv += ["--perms", m.mode or "0755", "--tmpfs", m.dest]
        elif m.op == "dev":
            argv += ["--dev", m.dest]
        elif m.op == "proc":
            argv += ["--proc", m.dest]
        else:
            raise ValueError(f"unknown view step {m.op!r}")
    argv += ["--chdir", "/tmp", "--", *worker_argv(executable, cfg)]
    return argv


_USERNS_HELPER = (
    "import ctypes, os, sys\n"
    "ok = ctypes.CDLL(None, use_errno=True).unshare(0x10000000) == 0\n"
    "os.write(1, b'ok' if ok else b'no')\n"
    "sys.stdin.buffer.read()\n"
)


#: In the namespace the host prepares (see userns_map): the worker's uid and the first slot uid.
WORKER_NS_UID = 1000
SLOT_NS_UID_BASE = 2000


def userns_map(worker_uid: int, slot_uid_base: int, slots: int) -> str:
    """uid_map/gid_map of the namespace a root host prepares for bubblewrap (or the worker).

    Its root is host root, for set-up only (bubblewrap must read the interpreter's files wherever
    they are); WORKER_NS_UID is the unprivileged host `worker_uid`; SLOT_NS_UID_BASE.. are `slots`
    host uids from `slot_uid_base`, one per live snippet. Before any snippet exists the worker moves
    into a nested namespace that maps only the last two (see _worker._enter_worker_userns), so
    nothing it or a snippet can become maps to host root.
    """
    lines = f"0 0 1\n{WORKER_NS_UID} {worker_uid} 1\n"
    if slots < 1:
        return lines
    lo, hi = slot_uid_base, slot_uid_base + slots - 1
    if lo <= worker_uid <= hi or hi >= 2**32 - 1 or lo <= 0:
        raise ValueError(f"slot uids {lo}..{hi} must be valid host uids and must not include the worker's {worker_uid}")
    return lines + f"{SLOT_NS_UID_BASE} {slot_uid_base} {slots}\n"


def userns_for(mapping: str) -> tuple[subprocess.Popen, int]:
    """A user namespace with `mapping` (see userns_map), for bwrap or the worker to join by fd.

    Only a privileged process may write a mapping of other uids than its own, so the host (root)
    writes it for a helper that sits in the new namespace.
    """
    helper = subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", _USERNS_HELPER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={}
    )
    try:
        if helper.stdout.read(2) != b"ok":
            raise SandboxUnavailable("cannot create a user namespace")
        for name in ("uid_map", "gid_map"):
            with open(f"/proc/{helper.pid}/{name}", "w") as f:
                f.write(mapping)
        fd = os.open(f"/proc/{helper.pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    except BaseException:
        helper.kill()
        helper.wait()
        raise
    return helper, fd
