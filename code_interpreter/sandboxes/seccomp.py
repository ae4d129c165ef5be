"""The local sandbox's seccomp filter, built as classic BPF in pure Python, and its session-keyring reset.

A denylist filter: every syscall is allowed except the kernel interfaces a snippet has no use for
and that widen what it can reach or attack (keyrings, io_uring, BPF, perf, ptrace, modules,
mounts, namespaces, clocks, raw socket families, ...). Denied calls fail with EPERM, so a snippet
sees an ordinary `PermissionError`; nothing is killed except a syscall made through a foreign ABI
(i386 `int 0x80` on x86_64, AArch32 on aarch64), where the numbers below would not apply.

    seccomp_data           what the filter inspects (struct seccomp_data, <linux/seccomp.h>)
      nr        @0   u32   syscall number
      arch      @4   u32   AUDIT_ARCH_* of the calling ABI
      args[i]   @16+8i     u64 each; little-endian, so the low 32 bits sit at 16+8i

The program, in order:
  1. arch != native            -> kill the process (the numbers would mean other syscalls)
  2. x86_64: nr has the x32 bit -> EPERM (x32 numbers differ too; nothing here uses x32)
  3. nr > the newest syscall reviewed here -> ENOSYS, as on an older kernel: a denylist would
     otherwise allow any syscall a future kernel adds, mount and namespace calls included
  4. clone3 -> ENOSYS: its flags sit in memory the filter cannot read; glibc then falls back to
     clone(), whose flags it can (what Docker and podman do)
  5. clone with any CLONE_NEW* flag, personality other than the two harmless values, socket and
     socketpair outside the allowed families/types/protocols -> EPERM
  6. every syscall in DENIED_SYSCALLS -> EPERM; anything else -> allow

This module imports only the standard library, so a process that cannot import the project (the
sandbox worker) can `exec` its source. Syscall numbers come from the kernel's tables (x86_64:
arch/x86/entry/syscalls/syscall_64.tbl; aarch64: the generic table, include/uapi/asm-generic/unistd.h);
tests/test_sandbox_seccomp.py checks them against the installed headers and libseccomp.

Keyrings are not namespaced: a process keeps its parent's session keyring across fork, exec,
`bwrap --unshare-all` and new user namespaces alike. `join_new_session_keyring()` swaps it for a
fresh, empty one; call it before `install()`, which denies keyctl.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import os
import platform
import struct
import sys

# --- classic BPF (<linux/bpf_common.h>, <linux/filter.h>) ----------------------------------------
BPF_LD_W_ABS = 0x00 | 0x00 | 0x20  # BPF_LD | BPF_W | BPF_ABS: A = u32 at offset k of seccomp_data
BPF_ALU_AND_K = 0x04 | 0x50 | 0x00  # BPF_ALU | BPF_AND | BPF_K: A &= k
BPF_JMP_JEQ_K = 0x05 | 0x10 | 0x00  # pc += (A == k) ? jt : jf
BPF_JMP_JGT_K = 0x05 | 0x20 | 0x00  # unsigned A > k
BPF_JMP_JGE_K = 0x05 | 0x30 | 0x00  # unsigned A >= k
BPF_JMP_JSET_K = 0x05 | 0x40 | 0x00  # A & k != 0
BPF_RET_K = 0x06 | 0x00  # return k
BPF_MAXINSNS = 4096
_INSN = struct.Struct("<HBBI")  # struct sock_filter {u16 code; u8 jt; u8 jf; u32 k}, host order (LE here)

# --- seccomp (<linux/seccomp.h>, <linux/audit.h>, <linux/prctl.h>, <linux/keyctl.h>) --------------
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_GET_ACTION_AVAIL = 2
SECCOMP_FILTER_FLAG_TSYNC = 1
SECCOMP_MODE_FILTER = 2
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
KEYCTL_JOIN_SESSION_KEYRING = 1
_OFF_NR, _OFF_ARCH = 0, 4


def _arg_lo(i: int) -> int:
    return 16 + 8 * i  # low half of args[i] on a little-endian ABI


X32_SYSCALL_BIT = 0x40000000
# Every CLONE_NEW* flag clone() accepts (CLONE_NEWTIME, 0x80, overlaps clone()'s exit-signal byte
# and only exists for clone3/unshare, both handled separately).
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NAMESPACE_FLAGS = (
    CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
)
PER_LINUX = 0x0000
PERSONALITY_QUERY = 0xFFFFFFFF  # personality(0xffffffff) reads the persona without changing it
SOCK_TYPE_MASK = 0xF  # the low bits of socket()'s type; SOCK_NONBLOCK / SOCK_CLOEXEC sit above
_FAMILY_NUMBERS = {"AF_UNIX": 1, "AF_INET": 2, "AF_INET6": 10}
#: Socket families a snippet may create. glibc's getaddrinfo uses AF_NETLINK only to sort
#: results and carries on without it, so netlink stays denied (with vsock, packet, alg, ...).
ALLOWED_SOCKET_FAMILIES: tuple[str, ...] = tuple(_FAMILY_NUMBERS)
#: For AF_INET/AF_INET6 only plain TCP and UDP: other protocols (SCTP, DCCP, L2TP, UDP-Lite, MPTCP,
#: raw) make the kernel autoload and run rarely exercised protocol modules.
ALLOWED_INET_TYPES: tuple[str, ...] = ("SOCK_STREAM", "SOCK_DGRAM")
ALLOWED_INET_PROTOCOLS: tuple[str, ...] = ("IPPROTO_IP", "IPPROTO_TCP", "IPPROTO_UDP")
_INET_TYPE_NUMBERS = {"SOCK_STREAM": 1, "SOCK_DGRAM": 2}
_INET_PROTOCOL_NUMBERS = {"IPPROTO_IP": 0, "IPPROTO_TCP": 6, "IPPROTO_UDP": 17}

#: Denied with EPERM wherever the architecture has them (the i386-only vm86/vm86old are covered
#: by the arch check, which kills any i386-ABI syscall).
DENIED_SYSCALLS: tuple[str, ...] = (
    # kernel keyrings: a snippet must not read, plant or revoke keys
    "keyctl",
    "add_key",
    "request_key",
    # large kernel attack surfaces a snippet has no use for
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "fanotify_init",
    # reaching into other processes
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "kcmp",
    # the kernel itself
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "init_module",
    "finit_module",
    "delete_module",
    "uselib",
    # mounts and namespaces (clone's namespace flags and clone3 are checked separately)
    "mount",
    "umount2",
    "pivot_root",
    "move_mount",
    "open_tree",
    "open_tree_attr",
    "fsopen",
    "fsmount",
    "fsconfig",
    "fspick",
    "mount_setattr",
    "unshare",
    "setns",
    # host administration
    "acct",
    "swapon",
    "swapoff",
    "syslog",
    "quotactl",
    "quotactl_fd",
    "lookup_dcookie",
    "name_to_handle_at",
    "open_by_handle_at",
    "vhangup",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "clock_adjtime",
    # x86 I/O ports and segment tables
    "iopl",
    "ioperm",
    "modify_ldt",
)
#: Syscalls whose arguments decide (see the module docstring).
CONDITIONAL_SYSCALLS: dict[str, str] = {
    "clone": "EPERM when flags carry any CLONE_NEW* bit",
    "clone3": "ENOSYS always (glibc falls back to clone)",
    "personality": "EPERM unless the argument is PER_LINUX or 0xffffffff (query)",
    "socket": "EPERM outside ALLOWED_SOCKET_FAMILIES; for AF_INET/AF_INET6 also outside the allowed types and protocols",
    "socketpair": "as socket",
}

_AUDIT_ARCH_64BIT_LE = 0x80000000 | 0x40000000
_ARCHES = {
    # audit arch, x32 bit to refuse, newest syscall reviewed (file_setattr, Linux 6.17; the numbers
    # are shared by both tables from 403 on), and the numbers of every syscall named above.
    "x86_64": {
        "audit_arch": _AUDIT_ARCH_64BIT_LE | 62,  # EM_X86_64
        "x32": True,
        "max_nr": 469,
        "nr": {
            "socket": 41,
            "socketpair": 53,
            "clone": 56,
            "ptrace": 101,
            "syslog": 103,
            "uselib": 134,
            "personality": 135,
            "vhangup": 153,
            "modify_ldt": 154,
            "pivot_root": 155,
            "adjtimex": 159,
            "acct": 163,
            "settimeofday": 164,
            "mount": 165,
            "umount2": 166,
            "swapon": 167,
            "swapoff": 168,
            "reboot": 169,
            "iopl": 172,
            "ioperm": 173,
            "init_module": 175,
            "delete_module": 176,
            "quotactl": 179,
            "lookup_dcookie": 212,
            "clock_settime": 227,
            "kexec_load": 246,
            "add_key": 248,
            "request_key": 249,
            "keyctl": 250,
            "unshare": 272,
            "perf_event_open": 298,
            "fanotify_init": 300,
            "name_to_handle_at": 303,
            "open_by_handle_at": 304,
            "clock_adjtime": 305,
            "setns": 308,
            "process_vm_readv": 310,
            "process_vm_writev": 311,
            "kcmp": 312,
            "finit_module": 313,
            "seccomp": 317,
            "kexec_file_load": 320,
            "bpf": 321,
            "userfaultfd": 323,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
            "open_tree": 428,
            "move_mount": 429,
            "fsopen": 430,
            "fsconfig": 431,
            "fsmount": 432,
            "fspick": 433,
            "clone3": 435,
            "pidfd_getfd": 438,
            "mount_setattr": 442,
            "quotactl_fd": 443,
            "open_tree_attr": 467,
        },
    },
    "aarch64": {
        "audit_arch": _AUDIT_ARCH_64BIT_LE | 183,  # EM_AARCH64
        "x32": False,
        "max_nr": 469,
        "nr": {
            "lookup_dcookie": 18,
            "umount2": 39,
            "mount": 40,
            "pivot_root": 41,
            "vhangup": 58,
            "quotactl": 60,
            "acct": 89,
            "personality": 92,
            "unshare": 97,
            "kexec_load": 104,
            "init_module": 105,
            "delete_module": 106,
            "clock_settime": 112,
            "syslog": 116,
            "ptrace": 117,
            "reboot": 142,
            "settimeofday": 170,
            "adjtimex": 171,
            "socket": 198,
            "socketpair": 199,
            "add_key": 217,
            "request_key": 218,
            "keyctl": 219,
            "clone": 220,
            "swapon": 224,
            "swapoff": 225,
            "perf_event_open": 241,
            "fanotify_init": 262,
            "name_to_handle_at": 264,
            "open_by_handle_at": 265,
            "clock_adjtime": 266,
            "setns": 268,
            "process_vm_readv": 270,
            "process_vm_writev": 271,
            "kcmp": 272,
            "finit_module": 273,
            "seccomp": 277,
            "bpf": 280,
            "userfaultfd": 282,
            "kexec_file_load": 294,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
            "open_tree": 428,
            "move_mount": 429,
            "fsopen": 430,
            "fsconfig": 431,
            "fsmount": 432,
            "fspick": 433,
            "clone3": 435,
            "pidfd_getfd": 438,
            "mount_setattr": 442,
            "quotactl_fd": 443,
            "open_tree_attr": 467,
        },
    },
}


class SeccompUnsupported(RuntimeError):
    """This machine's architecture (or kernel) cannot take the sandbox's seccomp filter."""


# --- a tiny assembler -------------------------------------------------------------------------------
class Assembler:
    """Classic BPF with named labels; jump offsets are computed and range-checked, never hand-counted.

    Jumps go forward only (as the kernel requires) and at most 255 instructions: a conditional
    jump names a label for the true branch and optionally one for the false branch; `None` means
    "fall through to the next instruction". Only the instructions the filter needs exist here.
    """

    def __init__(self) -> None:
        self._insns: list[tuple[int, str | None, str | None, int]] = []
        self._labels: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._insns)

    def label(self, name: str) -> None:
        if name in self._labels:
            raise ValueError(f"BPF label {name!r} defined twice")
        self._labels[name] = len(self._insns)

    def load(self, offset: int) -> None:
        self._emit(BPF_LD_W_ABS, None, None, offset)

    def and_(self, mask: int) -> None:
        self._emit(BPF_ALU_AND_K, None, None, mask)

    def jeq(self, k: int, true: str | None, false: str | None = None) -> None:
        self._emit(BPF_JMP_JEQ_K, true, false, k)

    def jgt(self, k: int, true: str | None, false: str | None = None) -> None:
        self._emit(BPF_JMP_JGT_K, true, false, k)

    def jge(self, k: int, true: str | None, false: str | None = None) -> None:
        self._emit(BPF_JMP_JGE_K, true, false, k)

    def jset(self, k: int, true: str | None, false: str | None = None) -> None:
        self._emit(BPF_JMP_JSET_K, true, false, k)

    def ret(self, k: int) -> None:
        self._emit(BPF_RET_K, None, None, k)

    def _emit(self, code: int, true: str | None, false: str | None, k: int) -> None:
        if not 0 <= k <= 0xFFFFFFFF:
            raise ValueError(f"BPF constant {k:#x} does not fit in 32 bits")
        self._insns.append((code, true, false, k))

    def _offset(self, pc: int, target: str | None, limit: int) -> int:
        # Classic BPF jumps are relative to the next instruction, forward only, 8 bits wide.
        if target is None:
            return 0
        if target not in self._labels:
            raise ValueError(f"BPF label {target!r} is never defined")
        off = self._labels[target] - (pc + 1)
        if not 0 <= off <= limit:
            raise ValueError(f"BPF jump from {pc} to {target!r} spans {off} instructions (allowed 0..{limit})")
        return off

    def assemble(self) -> bytes:
        if not self._insns:
            raise ValueError("empty BPF program")
        if len(self._insns) > BPF_MAXINSNS:
            raise ValueError(f"BPF program of {len(self._insns)} instructions exceeds {BPF_MAXINSNS}")
        if self._insns[-1][0] != BPF_RET_K:
            raise ValueError("a BPF program must end in a return")  # the kernel's checker refuses it too
        out = bytearray()
        for pc, (code, true, false, k) in enumerate(self._insns):
            out += _INSN.pack(code, self._offset(pc, true, 0xFF), self._offset(pc, false, 0xFF), k)
        return bytes(out)


# --- the filter ---------------------------------------------------------------------------------
def _arch_name(arch: str | None) -> str:
    name = platform.machine() if arch is None else arch
    name = {"amd64": "x86_64", "arm64": "aarch64"}.get(name.lower(), name)
    if name not in _ARCHES or (arch is None and sys.byteorder != "little"):
        raise SeccompUnsupported(
            f"no seccomp filter for architecture {name!r} (supported: {', '.join(_ARCHES)}); "
            "snippets still run, without syscall filtering"
        )
    return name


def _build(arch: str) -> Assembler:
    spec = _ARCHES[arch]
    nr = spec["nr"]
    a = Assembler()
    a.load(_OFF_ARCH)
    a.jeq(spec["audit_arch"], None, "kill")
    a.load(_OFF_NR)
    if spec["x32"]:
        a.jge(X32_SYSCALL_BIT, "deny")
    a.jgt(spec["max_nr"], "enosys")
    a.jeq(nr["clone3"], "enosys")
    a.jeq(nr["clone"], "clone")
    a.jeq(nr["personality"], "personality")
    a.jeq(nr["socket"], "socket")
    a.jeq(nr["socketpair"], "socket")
    for number in sorted(nr[name] for name in DENIED_SYSCALLS if name in nr):
        a.jeq(number, "deny")
    a.ret(SECCOMP_RET_ALLOW)

    a.label("clone")  # clone(flags, ...) on both x86_64 and aarch64; the kernel uses the low 32 bits
    a.load(_arg_lo(0))
    a.jset(CLONE_NAMESPACE_FLAGS, "deny", "allow")

    a.label("personality")  # personality(unsigned int): the high half is ignored by the kernel
    a.load(_arg_lo(0))
    a.jeq(PER_LINUX, "allow")
    a.jeq(PERSONALITY_QUERY, "allow", "deny")

    a.label("socket")  # socket(int family, int type, int protocol); socketpair has the same head
    a.load(_arg_lo(0))
    a.jeq(_FAMILY_NUMBERS["AF_UNIX"], "allow")
    a.jeq(_FAMILY_NUMBERS["AF_INET"], "inet")
    a.jeq(_FAMILY_NUMBERS["AF_INET6"], "inet", "deny")
    a.label("inet")
    a.load(_arg_lo(1))
    a.and_(SOCK_TYPE_MASK)
    for i, name in enumerate(ALLOWED_INET_TYPES):
        last = i == len(ALLOWED_INET_TYPES) - 1
        a.jeq(_INET_TYPE_NUMBERS[name], "inet_protocol", "deny" if last else None)
    a.label("inet_protocol")
    a.load(_arg_lo(2))
    for i, name in enumerate(ALLOWED_INET_PROTOCOLS):
        last = i == len(ALLOWED_INET_PROTOCOLS) - 1
        a.jeq(_INET_PROTOCOL_NUMBERS[name], "allow", "deny" if last else None)

    a.label("allow")
    a.ret(SECCOMP_RET_ALLOW)
    a.label("deny")
    a.ret(SECCOMP_RET_ERRNO | _errno.EPERM)
    a.label("enosys")
    a.ret(SECCOMP_RET_ERRNO | _errno.ENOSYS)
    a.label("kill")
    a.ret(SECCOMP_RET_KILL_PROCESS)
    return a


def program(arch: str | None = None) -> bytes:
    """The filter as raw `struct sock_filter` records (8 bytes each): what `bwrap --seccomp FD` reads.

    Deterministic for a given architecture (default: this machine's). Raises `SeccompUnsupported`
    for an architecture without a syscall table here.
    """
    return _build(_arch_name(arch)).assemble()


def describe(arch: str | None = None) -> dict:
    """What the filter does, for the sandbox's `info`."""
    try:
        name = _arch_name(arch)
    except SeccompUnsupported as exc:
        return {"supported": False, "arch": arch or platform.machine(), "reason": str(exc)}
    spec = _ARCHES[name]
    return {
        "supported": supported() if arch is None else True,
        "arch": name,
        "instructions": len(_build(name)),
        "denied": [s for s in DENIED_SYSCALLS if s in spec["nr"]],
        "action": "errno EPERM",
        "conditional": dict(CONDITIONAL_SYSCALLS),
        "socket_families": list(ALLOWED_SOCKET_FAMILIES),
        "inet_types": list(ALLOWED_INET_TYPES),
        "inet_protocols": list(ALLOWED_INET_PROTOCOLS),
        "newer_syscalls": f"ENOSYS above {spec['max_nr']}",
        "x32_abi": "errno EPERM" if spec["x32"] else "n/a",
        "foreign_arch": "kill process",
    }


# --- loading it --------------------------------------------------------------------------------
class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_LIBC: ctypes.CDLL | None = None


def _libc() -> ctypes.CDLL:
    # One handle per process, made on first use: a forked child then inherits it ready to call,
    # instead of paying for dlopen and symbol lookups between fork and the snippet.
    global _LIBC
    if _LIBC is None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        libc.prctl.restype = ctypes.c_int
        _LIBC = libc
    return _LIBC


def _syscall(name: str, *args: int | ctypes.c_void_p | None) -> tuple[int, int]:
    """(return value, errno) of a raw syscall; the number is this machine's."""
    nr = _ARCHES[_arch_name(None)]["nr"][name]
    libc = _libc()
    ctypes.set_errno(0)
    cargs = [a if isinstance(a, ctypes.c_void_p) or a is None else ctypes.c_ulong(a) for a in args]
    rc = libc.syscall(ctypes.c_long(nr), *cargs)
    return rc, ctypes.get_errno()


def supported() -> bool:
    """Whether this machine can load the filter (known arch, kernel with seccomp filters). Never raises."""
    try:
        _arch_name(None)
        for action in (SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS):
            value = ctypes.c_uint32(action)
            rc, _ = _syscall("seccomp", SECCOMP_GET_ACTION_AVAIL, 0, ctypes.c_void_p(ctypes.addressof(value)))
            if rc != 0:
                return False
        return True
    except Exception:
        return False


def install(prog: bytes | None = None) -> None:
    """Load the filter (default: `program()`) into this process, for all its threads, irreversibly.

    Sets no_new_privs first (required for an unprivileged filter; it also keeps setuid binaries
    from gaining privileges). Meant for a freshly forked child about to run untrusted code, after
    everything that needs a denied syscall (namespaces, mounts, `join_new_session_keyring()`).
    Raises `SeccompUnsupported` on an unsupported architecture and `OSError` if the kernel refuses.
    """
    if prog is None:
        prog = program()
    if not prog or len(prog) % _INSN.size or len(prog) // _INSN.size > BPF_MAXINSNS:
        raise ValueError(f"a seccomp program is 1..{BPF_MAXINSNS} records of {_INSN.size} bytes, got {len(prog)} bytes")
    _arch_name(None)
    libc = _libc()
    buf = ctypes.create_string_buffer(prog, len(prog))
    fprog = _SockFprog(len(prog) // _INSN.size, ctypes.addressof(buf))
    zero = ctypes.c_ulong(0)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), zero, zero, zero) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(err)}")
    # TSYNC: a filter on only the calling thread would leave the process's other threads unfiltered.
    rc, err = _syscall(
        "seccomp", SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, ctypes.c_void_p(ctypes.addressof(fprog))
    )
    if rc == -1 and err == _errno.ENOSYS:  # kernels before 3.17: prctl only (single thread)
        if _thread_count() > 1:
            raise OSError(
                err, "this kernel cannot apply a seccomp filter to every thread; install it before starting threads"
            )
        ctypes.set_errno(0)
        rc = libc.prctl(
            PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.c_void_p(ctypes.addressof(fprog)), zero, zero
        )
        err = ctypes.get_errno()
    if rc > 0:
        raise OSError(_errno.EBUSY, f"seccomp filter not installed: thread {rc} could not be synchronised")
    if rc != 0:
        raise OSError(err, f"seccomp filter not installed: {os.strerror(err)}")


def _thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def join_new_session_keyring() -> None:
    """Give this process (and its future children) a new, empty, anonymous session keyring.

    Keys in the previous session keyring (the trainer's login or credential-helper tokens) are then
    no longer "possessed", so this process cannot read, update or revoke them even where keyctl is
    allowed. Needed under bubblewrap too: bwrap creates no new session keyring, and the session
    keyring survives fork, exec and new user namespaces. (The per-uid user keyring is per user
    namespace; without one, only the keyctl denial of `install()` keeps it out of reach.) Call it
    in every snippet process before `install()`, which denies keyctl. A kernel without keyrings
    (ENOSYS) has nothing to isolate and is not an error.

    The new keyring counts against the per-uid key quota (/proc/sys/kernel/keys/maxkeys, 200 by
    default for non-root uids) until its last process exits; EDQUOT means that many keyrings of
    this uid are alive at once.
    """
    rc, err = _syscall("keyctl", KEYCTL_JOIN_SESSION_KEYRING, None)
    if rc >= 0 or err == _errno.ENOSYS:
        return
    hint = {
        _errno.EPERM: " (keyctl is denied: join before install(), or an outer seccomp filter forbids keyctl)",
        _errno.EDQUOT: " (this uid's key quota is exhausted: see /proc/sys/kernel/keys/maxkeys and maxbytes)",
    }.get(err, "")
    raise OSError(err, f"cannot join a new session keyring: {os.strerror(err)}{hint}")
