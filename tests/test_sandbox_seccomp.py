"""The local sandbox's seccomp filter (code_interpreter/sandboxes/seccomp.py) and the keyring reset.

Three layers: the assembler and the compiled program, run through a classic-BPF interpreter over
synthetic syscalls (exact, privilege-independent); the syscall tables, cross-checked against the
installed kernel headers and libseccomp; and real child processes under `install()` and under
`bwrap --seccomp`, which make each attack for real next to an unfiltered control run, so every
denial is shown to come from the filter and not from a missing privilege.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from code_interpreter.sandboxes import seccomp
from code_interpreter.sandboxes.seccomp import Assembler, SeccompUnsupported

HAVE_BWRAP = shutil.which("bwrap") is not None
MODULE_PATH = Path(seccomp.__file__)
ARCH = platform.machine()
needs_seccomp = pytest.mark.skipif(not seccomp.supported(), reason=f"no seccomp filter support for {ARCH}")

EPERM = seccomp.SECCOMP_RET_ERRNO | errno.EPERM
ENOSYS = seccomp.SECCOMP_RET_ERRNO | errno.ENOSYS
ALLOW = seccomp.SECCOMP_RET_ALLOW
KILL = seccomp.SECCOMP_RET_KILL_PROCESS


# --- a classic-BPF interpreter for the opcodes a seccomp filter may use ---------------------------
def run_bpf(prog: bytes, nr: int, arch: int, args: tuple[int, ...] = ()) -> int:
    """The filter's verdict for one syscall, following the kernel's classic-BPF semantics."""
    args = tuple(args) + (0,) * (6 - len(args))
    data = struct.pack("<IIQ6Q", nr & 0xFFFFFFFF, arch, 0, *(a & (2**64 - 1) for a in args))
    insns = [struct.unpack_from("<HBBI", prog, i) for i in range(0, len(prog), 8)]
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = insns[pc]
        pc += 1
        if code == 0x20:  # ld [k]
            assert k % 4 == 0 and k + 4 <= len(data)
            (acc,) = struct.unpack_from("<I", data, k)
        elif code == 0x54:  # and #k
            acc &= k
        elif code in (0x15, 0x25, 0x35, 0x45):  # jeq, jgt, jge, jset
            taken = {0x15: acc == k, 0x25: acc > k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            pc += jt if taken else jf
        elif code == 0x06:  # ret #k
            return k
        else:
            raise AssertionError(f"unexpected BPF opcode {code:#x}")


# --- the assembler ----------------------------------------------------------------------------------
def test_assembler_computes_forward_jump_offsets():
    a = Assembler()
    a.load(0)  # 0
    a.jeq(5, "yes")  # 1 -> 4: jt = 2
    a.jeq(6, None, "no")  # 2 -> fall through / 5: jf = 2
    a.ret(1)  # 3
    a.label("yes")
    a.ret(2)  # 4
    a.label("no")
    a.ret(3)  # 5
    code = a.assemble()
    insns = [struct.unpack_from("<HBBI", code, i) for i in range(0, len(code), 8)]
    assert len(insns) == len(a) == 6
    assert insns[1] == (0x15, 2, 0, 5)
    assert insns[2] == (0x15, 0, 2, 6)
    assert insns[0] == (0x20, 0, 0, 0) and insns[5] == (0x06, 0, 0, 3)
    assert [run_bpf(code, 0, 0), run_bpf(code, 5, 0), run_bpf(code, 6, 0), run_bpf(code, 7, 0)] == [3, 2, 1, 3]


def test_assembler_refuses_bad_programs():
    a = Assembler()
    a.jeq(1, "far")
    for _ in range(256):
        a.ret(0)
    a.label("far")
    a.ret(1)
    with pytest.raises(ValueError, match="spans 256"):
        a.assemble()

    b = Assembler()
    b.jeq(1, "nowhere")
    b.ret(0)
    with pytest.raises(ValueError, match="never defined"):
        b.assemble()

    c = Assembler()
    c.label("x")
    with pytest.raises(ValueError, match="defined twice"):
        c.label("x")
    with pytest.raises(ValueError, match="32 bits"):
        c.ret(1 << 32)
    c.load(0)
    with pytest.raises(ValueError, match="end in a return"):
        c.assemble()
    with pytest.raises(ValueError, match="empty"):
        Assembler().assemble()


def test_a_backward_jump_is_impossible():
    a = Assembler()
    a.label("top")
    a.load(0)
    a.jeq(1, "top")
    a.ret(0)
    with pytest.raises(ValueError, match="spans -2"):
        a.assemble()


# --- the compiled program -----------------------------------------------------------------------
@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_program_is_deterministic_and_sized(arch):
    prog = seccomp.program(arch)
    assert prog == seccomp.program(arch)
    assert len(prog) % 8 == 0
    info = seccomp.describe(arch)
    assert info["instructions"] == len(prog) // 8 <= 255  # every jump must stay short
    assert info["arch"] == arch and info["supported"] is True
    assert set(info["denied"]) <= set(seccomp.DENIED_SYSCALLS)
    assert seccomp.program("amd64" if arch == "x86_64" else "arm64") == prog


def test_unsupported_arch_raises_and_is_reported():
    with pytest.raises(SeccompUnsupported, match="riscv64"):
        seccomp.program("riscv64")
    assert issubclass(SeccompUnsupported, RuntimeError)
    assert seccomp.describe("riscv64")["supported"] is False
    assert isinstance(seccomp.supported(), bool)


def test_the_two_arches_compile_to_different_programs():
    assert seccomp.program("x86_64") != seccomp.program("aarch64")


def _nr(arch: str) -> dict[str, int]:
    return seccomp._ARCHES[arch]["nr"]


def _audit(arch: str) -> int:
    return seccomp._ARCHES[arch]["audit_arch"]


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_every_syscall_gets_the_intended_verdict(arch):
    """Exhaustive over every number up to the reviewed maximum, with all-zero arguments."""
    prog, nr, audit = seccomp.program(arch), _nr(arch), _audit(arch)
    denied = {nr[s] for s in seccomp.DENIED_SYSCALLS if s in nr}
    assert len(denied) == len([s for s in seccomp.DENIED_SYSCALLS if s in nr])  # no two names share a number
    assert nr["socket"] not in denied and nr["clone"] not in denied
    top = seccomp._ARCHES[arch]["max_nr"]
    for n in range(top + 1):
        want = EPERM if n in denied else ENOSYS if n == nr["clone3"] else ALLOW
        if n in (nr["socket"], nr["socketpair"]):
            want = EPERM  # family 0 (AF_UNSPEC) is not an allowed family
        assert run_bpf(prog, n, audit) == want, (arch, n)
    for n in (top + 1, top + 100, 0x3FFFFFFF):
        assert run_bpf(prog, n, audit) == ENOSYS


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_denied_names_cover_the_issue(arch):
    nr = _nr(arch)
    required = set(
        "keyctl add_key request_key io_uring_setup io_uring_enter io_uring_register bpf perf_event_open "
        "userfaultfd ptrace process_vm_readv process_vm_writev kexec_load kexec_file_load reboot init_module "
        "finit_module delete_module mount umount2 pivot_root move_mount open_tree fsopen fsmount fsconfig "
        "fspick mount_setattr unshare setns acct swapon swapoff syslog quotactl lookup_dcookie "
        "name_to_handle_at open_by_handle_at vhangup settimeofday clock_settime adjtimex clock_adjtime".split()
    )
    if arch == "x86_64":
        required |= {"iopl", "ioperm"}
    assert required <= set(seccomp.describe(arch)["denied"])
    assert all(name in nr for name in required)


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_foreign_abis_are_refused(arch):
    prog, nr = seccomp.program(arch), _nr(arch)
    for other in (0x40000003, 0x40000028, 0xC000003E, 0xC00000B7, 0x80000016, 0):  # i386, ARM, the other 64-bit arch
        if other != _audit(arch):
            assert run_bpf(prog, 39, other) == KILL
            assert run_bpf(prog, nr["keyctl"], other) == KILL
    if arch == "x86_64":
        for n in (0x40000000 | 39, 0x40000000 | nr["keyctl"], 0x40000000 | 512, 0xFFFFFFFF, -1):
            assert run_bpf(prog, n, _audit(arch)) == EPERM


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_clone_namespace_flags(arch):
    prog, nr, audit = seccomp.program(arch), _nr(arch), _audit(arch)
    thread = 0x003D0F00  # what glibc's pthread_create passes
    fork = 0x01200011  # CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD
    vfork = 0x00004111  # CLONE_VM | CLONE_VFORK | SIGCHLD (posix_spawn)
    for flags in (thread, fork, vfork, 17, 0):
        assert run_bpf(prog, nr["clone"], audit, (flags,)) == ALLOW
    names = ("NEWNS", "NEWCGROUP", "NEWUTS", "NEWIPC", "NEWUSER", "NEWPID", "NEWNET")
    for name in names:
        bit = getattr(seccomp, f"CLONE_{name}")
        assert run_bpf(prog, nr["clone"], audit, (fork | bit,)) == EPERM, name
        # the kernel ignores the high half of clone()'s flags, so must the filter: no false alarm ...
        assert run_bpf(prog, nr["clone"], audit, ((1 << 40) | fork,)) == ALLOW
        # ... and no way around it by setting high bits
        assert run_bpf(prog, nr["clone"], audit, ((1 << 40) | bit,)) == EPERM
    for flags in (0, fork, 0xFFFFFFFFFFFFFFFF):
        assert run_bpf(prog, nr["clone3"], audit, (flags, 88)) == ENOSYS


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_personality(arch):
    prog, nr, audit = seccomp.program(arch), _nr(arch), _audit(arch)
    assert run_bpf(prog, nr["personality"], audit, (0xFFFFFFFF,)) == ALLOW
    assert run_bpf(prog, nr["personality"], audit, (0xFFFFFFFFFFFFFFFF,)) == ALLOW  # int -1, sign-extended
    assert run_bpf(prog, nr["personality"], audit, (0,)) == ALLOW
    for persona in (0x0008, 0x0040000, 0x0400000, 0x0020000, 0xFFFFFFFE, 1 << 32 | 0x0040000):
        assert run_bpf(prog, nr["personality"], audit, (persona,)) == EPERM, hex(persona)


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
@pytest.mark.parametrize("call", ["socket", "socketpair"])
def test_socket_families_types_and_protocols(arch, call):
    prog, audit = seccomp.program(arch), _audit(arch)
    n = _nr(arch)[call]
    cloexec_nonblock = 0o2000000 | 0o4000
    allowed = [
        (1, 1, 0),
        (1, 2, 0),
        (1, 5, 0),  # AF_UNIX: any type
        (2, 1, 0),
        (2, 1, 6),
        (2, 2, 0),
        (2, 2, 17),
        (10, 1 | cloexec_nonblock, 0),
        (10, 2, 17),
        (1 << 32 | 2, 1, 0),  # the kernel reads an int: this is AF_INET
    ]
    denied = [
        (40, 1, 0),  # AF_VSOCK
        (1 << 32 | 40, 1, 0),
        (17, 3, 0),  # AF_PACKET
        (16, 3, 0),  # AF_NETLINK, NETLINK_ROUTE
        (16, 3, 9),  # NETLINK_AUDIT
        (38, 5, 0),  # AF_ALG
        (0, 1, 0),  # AF_UNSPEC
        (21, 5, 0),  # AF_RDS
        (2, 3, 1),  # raw
        (2, 1, 132),  # SCTP
        (2, 5, 132),  # SCTP seqpacket
        (10, 6, 0),  # DCCP
        (2, 2, 136),  # UDP-Lite
        (2, 2, 115),  # L2TP/IP
        (2, 1, 262),  # MPTCP
        (2, 10, 0),  # SOCK_PACKET
        (10, 2, 58),  # ICMPv6
    ]
    for args in allowed:
        assert run_bpf(prog, n, audit, args) == ALLOW, args
    for args in denied:
        assert run_bpf(prog, n, audit, args) == EPERM, args


# --- syscall numbers against the machine's own tables ----------------------------------------------
def _header_numbers(path: Path) -> dict[str, int]:
    text = path.read_text()
    out = {}
    for name, value in re.findall(r"^#define __NR(?:3264)?_(\w+)\s+(\d+)\s*$", text, re.M):
        out[name] = int(value)
    return out


@pytest.mark.parametrize(
    "arch, header",
    [
        ("x86_64", "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
        ("x86_64", "/usr/include/asm/unistd_64.h"),
        ("aarch64", "/usr/include/asm-generic/unistd.h"),
    ],
)
def test_numbers_match_the_kernel_headers(arch, header):
    path = Path(header)
    if not path.exists():
        pytest.skip(f"{header} is not installed")
    table = _header_numbers(path)
    checked = 0
    for name, number in _nr(arch).items():
        if name in table:  # newer syscalls than these headers are checked by the libseccomp test or by hand
            assert table[name] == number, (arch, name)
            checked += 1
    assert checked >= 50
    # a name the header has but our table lacks would be a silent hole
    for name in (*seccomp.DENIED_SYSCALLS, *seccomp.CONDITIONAL_SYSCALLS):
        if name in table:
            assert name in _nr(arch), (arch, name)


def test_numbers_match_libseccomp():
    try:
        lib = ctypes.CDLL("libseccomp.so.2")
    except OSError:
        pytest.skip("libseccomp is not installed")
    resolve = lib.seccomp_syscall_resolve_name_arch
    resolve.argtypes, resolve.restype = [ctypes.c_uint32, ctypes.c_char_p], ctypes.c_int
    for arch in ("x86_64", "aarch64"):
        for name in (*seccomp.DENIED_SYSCALLS, *seccomp.CONDITIONAL_SYSCALLS, "seccomp"):
            got = resolve(_audit(arch), name.encode())
            if got >= 0:
                assert _nr(arch).get(name) == got, (arch, name)
            elif got < -1:  # a pseudo-number: libseccomp knows the name, this arch has no such syscall
                assert name not in _nr(arch), (arch, name)


def test_the_module_runs_standalone():
    """The worker cannot import the project: the module's source must work exec'd on its own."""
    code = (
        "import sys; ns = {'__name__': 'r1ci_seccomp'}\n"
        "exec(compile(open(sys.argv[1]).read(), sys.argv[1], 'exec'), ns)\n"
        "sys.stdout.write(ns['program']().hex())\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(MODULE_PATH)], capture_output=True, text=True, timeout=30, cwd="/"
    )
    assert out.returncode == 0, out.stderr
    if seccomp.supported():
        assert bytes.fromhex(out.stdout) == seccomp.program()


# --- real processes ---------------------------------------------------------------------------------
# Each probe makes one attack for real and records "ok", an errno name or "signal:NAME". Arguments
# are chosen so that an unfiltered kernel answers with something other than EPERM wherever it can
# (an invalid fd, flag or pointer) and so that no probe changes anything outside its own process.
PROBE = r"""
import ctypes, errno, json, mmap, os, platform, signal, socket, sys
NR = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
pylibc = ctypes.PyDLL(None, use_errno=True)
pylibc.syscall.restype = ctypes.c_long
X86 = platform.machine() == "x86_64"
BAD = 0xFFFFFFFF
NOPATH = b"/nonexistent-r1ci/x"
out = {}

def name(err):
    return errno.errorcode.get(err, str(err))

def raw(nr, *args):
    ctypes.set_errno(0)
    rc = libc.syscall(ctypes.c_long(nr), *[ctypes.c_ulong(a) if isinstance(a, int) else a for a in args])
    return "ok" if rc != -1 else name(ctypes.get_errno())

def sc(key, syscall, *args):
    if syscall in NR:
        out[key] = raw(NR[syscall], *args)

def in_child(key, fn):
    # run fn in a forked child: it may change its own process state (namespaces, persona)
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(fn())
        except BaseException:
            os._exit(250)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        out[key] = "signal:" + signal.Signals(os.WTERMSIG(status)).name
    else:
        code = os.WEXITSTATUS(status)
        out[key] = "ok" if code == 0 else name(code)

def errno_of(fn):
    ctypes.set_errno(0)
    return 0 if fn() != -1 else ctypes.get_errno()

def sock(key, family, type_, proto=0, pair=False):
    try:
        if pair:
            for s in socket.socketpair(family, type_, proto):
                s.close()
        else:
            socket.socket(family, type_, proto).close()
        out[key] = "ok"
    except OSError as exc:
        out[key] = name(exc.errno)

# keyrings
sc("keyctl", "keyctl", 0, ctypes.c_long(-3), 0)                 # KEYCTL_GET_KEYRING_ID(session)
sc("add_key", "add_key", None, None, None, 0, 0)
sc("request_key", "request_key", None, None, None, 0)
# attack surfaces
params = ctypes.create_string_buffer(120)
sc("io_uring_setup", "io_uring_setup", 1, params)
sc("io_uring_enter", "io_uring_enter", BAD, 0, 0, 0, None, 0)
sc("io_uring_register", "io_uring_register", BAD, 0, None, 0)
sc("bpf", "bpf", 0xFFFF, None, 0)
sc("perf_event_open", "perf_event_open", None, 0, BAD, BAD, 0)
sc("userfaultfd", "userfaultfd", 0xFFFF)
sc("fanotify_init", "fanotify_init", BAD, 0)
sc("ptrace", "ptrace", 3, 0x7FFFFFF0, 0, 0)                       # PEEKUSER on a pid that does not exist
sc("process_vm_readv", "process_vm_readv", 0, None, 0, None, 0, 1)
sc("process_vm_writev", "process_vm_writev", 0, None, 0, None, 0, 1)
sc("pidfd_getfd", "pidfd_getfd", BAD, 0, 0)
sc("kcmp", "kcmp", 0, 0, 99, 0, 0)
sc("kexec_load", "kexec_load", 0, 0xFFFF, None, 0)               # too many segments: EINVAL
sc("kexec_file_load", "kexec_file_load", BAD, BAD, 0, None, BAD)
sc("reboot", "reboot", 0, 0, 0, None)                            # bad magic: EINVAL
sc("init_module", "init_module", None, 0, None)
sc("finit_module", "finit_module", BAD, None, 0)
sc("delete_module", "delete_module", b"r1ci_no_such_module", 0)
sc("uselib", "uselib", None)
sc("mount", "mount", None, NOPATH, None, 0, None)
sc("umount2", "umount2", NOPATH, 0)
sc("pivot_root", "pivot_root", NOPATH, NOPATH)
sc("move_mount", "move_mount", BAD, b"", BAD, b"", BAD)
sc("open_tree", "open_tree", BAD, b"", BAD)
sc("open_tree_attr", "open_tree_attr", BAD, b"", BAD, None, 0)
sc("fsopen", "fsopen", None, BAD)
sc("fsmount", "fsmount", BAD, BAD, 0)
sc("fsconfig", "fsconfig", BAD, 0xFFFF, None, None, 0)
sc("fspick", "fspick", BAD, b"", BAD)
sc("mount_setattr", "mount_setattr", BAD, b"", BAD, None, 0)
sc("unshare", "unshare", 1)                                      # an invalid flag: EINVAL
sc("setns", "setns", BAD, 0)
sc("acct", "acct", NOPATH)
sc("swapon", "swapon", NOPATH, 0)
sc("swapoff", "swapoff", NOPATH)
sc("syslog", "syslog", 10, None, 0)                              # SYSLOG_ACTION_SIZE_BUFFER
sc("quotactl", "quotactl", BAD, None, 0, None)
sc("quotactl_fd", "quotactl_fd", BAD, 0, 0, None)
sc("lookup_dcookie", "lookup_dcookie", 0, None, 0)
sc("name_to_handle_at", "name_to_handle_at", BAD, None, None, None, BAD)
sc("open_by_handle_at", "open_by_handle_at", BAD, None, 0)
sc("settimeofday", "settimeofday", None, None)                   # both NULL: changes nothing
sc("clock_settime", "clock_settime", 0xFFFF, None)
sc("adjtimex", "adjtimex", None)
sc("clock_adjtime", "clock_adjtime", 0xFFFF, None)
sc("iopl", "iopl", 4)                                            # level 4 does not exist: EINVAL
sc("ioperm", "ioperm", 0, 0, 0)
sc("modify_ldt", "modify_ldt", 0x99, None, 0)
if "vhangup" in NR and sys.argv[2] == "filtered":               # never hang up a terminal unfiltered
    out["vhangup"] = raw(NR["vhangup"])
# namespaces through clone, clone3 and unshare
out["clone3"] = raw(NR["clone3"], None, 0)
def clone_with(flag):
    def child():
        pid = pylibc.syscall(ctypes.c_long(NR["clone"]), ctypes.c_ulong(flag | signal.SIGCHLD), None, None, None, None)
        if pid == 0:
            os._exit(0)
        if pid < 0:
            return ctypes.get_errno()
        os.waitpid(pid, 0)
        return 0
    return child
for flag, label in ((0x10000000, "user"), (0x40000000, "net"), (0x00020000, "ns"), (0x20000000, "pid"),
                    (0x02000000, "cgroup"), (0x04000000, "uts"), (0x08000000, "ipc")):
    in_child("clone_new" + label, clone_with(flag))
in_child("clone_newuser_highbits", clone_with(0x10000000 | (1 << 40)))
in_child("unshare_newuser", lambda: errno_of(lambda: libc.unshare(0x10000000)))
in_child("unshare_newnet", lambda: errno_of(lambda: libc.unshare(0x40000000)))
in_child("setns_own_userns", lambda: errno_of(lambda: libc.setns(os.open("/proc/self/ns/user", os.O_RDONLY), 0)))
# personality
in_child("personality_change", lambda: errno_of(lambda: libc.personality(0x0040000)))   # ADDR_NO_RANDOMIZE
in_child("personality_linux32", lambda: errno_of(lambda: libc.personality(0x0008)))
in_child("personality_query", lambda: errno_of(lambda: libc.personality(0xFFFFFFFF)))
in_child("personality_linux", lambda: errno_of(lambda: libc.personality(0)))
# socket families
sock("socket_vsock", 40, socket.SOCK_STREAM)
sock("socket_vsock_dgram", 40, socket.SOCK_DGRAM)
sock("socket_packet", 17, socket.SOCK_RAW)
sock("socket_netlink_route", 16, socket.SOCK_RAW, 0)
sock("socket_netlink_audit", 16, socket.SOCK_RAW, 9)
sock("socket_alg", 38, socket.SOCK_SEQPACKET)
sock("socket_inet_sctp", socket.AF_INET, socket.SOCK_STREAM, 132)
sock("socket_inet_udplite", socket.AF_INET, socket.SOCK_DGRAM, 136)
sock("socket_inet_raw", socket.AF_INET, socket.SOCK_RAW, 1)
sock("socketpair_vsock", 40, socket.SOCK_STREAM, pair=True)
out["socket_vsock_highbits"] = raw(NR["socket"], (1 << 32) | 40, 1, 0)
# x32 and i386 ABIs (x86_64)
if X86:
    out["x32_keyctl"] = raw(0x40000000 | NR["keyctl"], 0, ctypes.c_long(-3), 0)
    out["x32_getpid"] = raw(0x40000000 | 39)
    def int80():
        code = b"\xb8\x14\x00\x00\x00\xcd\x80\xc3"  # mov eax, 20 (i386 getpid); int 0x80; ret
        page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        page.write(code)
        addr = ctypes.addressof(ctypes.c_char.from_buffer(page))
        ret = ctypes.CFUNCTYPE(ctypes.c_int)(addr)()
        return 0 if ret > 0 else 1
    in_child("int80_getpid", int80)
# above the reviewed range
out["beyond_table"] = raw(1000)
# what must keep working
sock("ok_socket_inet", socket.AF_INET, socket.SOCK_STREAM)
sock("ok_socket_inet_tcp", socket.AF_INET, socket.SOCK_STREAM, 6)
sock("ok_socket_inet6_udp", socket.AF_INET6, socket.SOCK_DGRAM, 17)
sock("ok_socketpair_unix", socket.AF_UNIX, socket.SOCK_STREAM, pair=True)
sock("ok_socket_flags", socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK)
in_child("ok_fork", lambda: 0)
print(json.dumps(out))
"""

# Calls whose unfiltered answer is never EPERM, privileged or not: the control run proves that the
# filtered EPERM comes from the filter.
ALWAYS_DISTINGUISHING = {
    "keyctl",
    "add_key",
    "request_key",
    "io_uring_enter",
    "io_uring_register",
    "perf_event_open",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "kcmp",
    "setns",
    "quotactl_fd",
    "clock_settime",
    "adjtimex",
    "clock_adjtime",
    "unshare",
    "socket_vsock",
    "socket_netlink_route",
    "socket_netlink_audit",
    "socket_alg",
    "socket_vsock_highbits",
    "clone3",
    "personality_change",
    "personality_linux32",
}
ALLOWED_PROBES = {
    "personality_query",
    "personality_linux",
    "ok_socket_inet",
    "ok_socket_inet_tcp",
    "ok_socket_inet6_udp",
    "ok_socketpair_unix",
    "ok_socket_flags",
    "ok_fork",
}
ENOSYS_PROBES = {"clone3", "beyond_table"}


def _probe_argv(mode: str) -> list[str]:
    return [sys.executable, "-I", "-c", PROBE, json.dumps(_nr(seccomp._arch_name(None))), mode]


def _run_probe(argv: list[str], **kwargs) -> dict[str, str]:
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd="/", **kwargs)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _install_in_child(prog: bytes, keyring: bool = True):
    def preexec() -> None:
        if keyring:
            seccomp.join_new_session_keyring()
        seccomp.install(prog)

    return preexec


def _check_verdicts(filtered: dict[str, str], control: dict[str, str]) -> None:
    denied = set(filtered) - ALLOWED_PROBES - ENOSYS_PROBES - {"int80_getpid", "x32_getpid"}
    wrong = {k: filtered[k] for k in denied if filtered[k] != "EPERM"}
    assert not wrong, f"not denied with EPERM: {wrong}"
    assert {k: filtered[k] for k in ALLOWED_PROBES} == dict.fromkeys(ALLOWED_PROBES, "ok")
    assert filtered["clone3"] == "ENOSYS" and filtered["beyond_table"] == "ENOSYS"
    if ARCH == "x86_64":
        assert filtered["x32_getpid"] == "EPERM"
        if control["int80_getpid"] == "ok":  # the kernel runs i386 code: the filter must kill it
            assert filtered["int80_getpid"] == "signal:SIGSYS"
    # the control run: the same attacks without the filter are not refused with EPERM
    assert set(control) >= set(filtered) - {"vhangup"}
    leaked = {k: control[k] for k in ALWAYS_DISTINGUISHING if control.get(k) == "EPERM"}
    assert not leaked, f"control run refused these without the filter, the probe proves nothing: {leaked}"
    assert {k: control[k] for k in ALLOWED_PROBES} == dict.fromkeys(ALLOWED_PROBES, "ok")


@needs_seccomp
def test_attacks_fail_under_install():
    prog = seccomp.program()
    control = _run_probe(_probe_argv("control"))
    filtered = _run_probe(_probe_argv("filtered"), preexec_fn=_install_in_child(prog))
    _check_verdicts(filtered, control)


def _bwrap_argv(seccomp_fd: int | None, inner: list[str]) -> list[str]:
    argv = ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    argv += ["--die-with-parent"]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
    return [*argv, "--", *inner]


def _run_under_bwrap(inner: list[str], prog: bytes | None, **kwargs) -> subprocess.CompletedProcess:
    if prog is None:
        return subprocess.run(_bwrap_argv(None, inner), capture_output=True, text=True, timeout=60, cwd="/", **kwargs)
    r, w = os.pipe()
    try:
        os.write(w, prog)  # far below a pipe's capacity
        os.close(w)
        w = -1
        return subprocess.run(
            _bwrap_argv(r, inner), capture_output=True, text=True, timeout=60, cwd="/", pass_fds=(r,), **kwargs
        )
    finally:
        os.close(r)
        if w != -1:
            os.close(w)


@pytest.mark.bwrap
@pytest.mark.skipif(not HAVE_BWRAP, reason="bubblewrap (bwrap) is not installed")
@needs_seccomp
def test_attacks_fail_under_bwrap_seccomp():
    prog = seccomp.program()
    control = _run_under_bwrap(_probe_argv("control"), None)
    if control.returncode != 0:
        pytest.skip(f"bwrap cannot run here: {control.stderr.strip()[-300:]}")
    filtered = _run_under_bwrap(_probe_argv("filtered"), prog)
    assert filtered.returncode == 0, filtered.stderr[-3000:]
    _check_verdicts(json.loads(filtered.stdout.splitlines()[-1]), json.loads(control.stdout.splitlines()[-1]))


@pytest.mark.bwrap
@pytest.mark.skipif(not HAVE_BWRAP, reason="bubblewrap (bwrap) is not installed")
@needs_seccomp
def test_bwrap_refuses_a_truncated_program():
    """bwrap must not start a snippet unfiltered when the program it was handed is malformed."""
    res = _run_under_bwrap(["/bin/true"], seccomp.program()[:-3])
    assert res.returncode != 0


ORDINARY = r"""
import asyncio, math, multiprocessing, os, socket, subprocess, sys, tempfile, threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

def square(x):
    return x * x

results = []
t = threading.Thread(target=lambda: results.append(math.factorial(20)))
t.start(); t.join()
with ThreadPoolExecutor(4) as ex:
    assert list(ex.map(square, range(8))) == [x * x for x in range(8)]
assert subprocess.run(["/bin/true"]).returncode == 0
assert subprocess.run([sys.executable, "-I", "-c", "print(6 * 7)"], capture_output=True, text=True).stdout == "42\n"
with multiprocessing.get_context("fork").Pool(2) as pool:
    assert pool.map(square, [1, 2, 3]) == [1, 4, 9]
with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as ex:
    assert list(ex.map(square, [4, 5])) == [16, 25]
pid = os.posix_spawn("/bin/true", ["/bin/true"], {})
assert os.waitpid(pid, 0)[1] == 0
a, b = socket.socketpair()
a.sendall(b"ping"); assert b.recv(4) == b"ping"
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", 0)); srv.listen()
cli = socket.create_connection(srv.getsockname()); conn, _ = srv.accept()
cli.sendall(b"hi"); assert conn.recv(2) == b"hi"
assert socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)
async def main():
    await asyncio.sleep(0)
    proc = await asyncio.create_subprocess_exec("/bin/true")
    return await proc.wait()
assert asyncio.run(main()) == 0
with tempfile.TemporaryDirectory() as d:
    open(os.path.join(d, "f"), "w").write("x")
import uuid, ssl, sqlite3, hashlib, decimal, fractions, random, json
uuid.uuid4(); uuid.uuid1()
sqlite3.connect(":memory:").execute("select 1")
try:
    import numpy
    assert int(numpy.arange(10).sum()) == 45
except ImportError:
    pass
print("ordinary ok", results[0])
"""


def _check_ordinary(res: subprocess.CompletedProcess) -> None:
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip() == "ordinary ok 2432902008176640000"  # 20!


@needs_seccomp
def test_ordinary_code_works_under_install():
    res = subprocess.run(
        [sys.executable, "-I", "-c", ORDINARY],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
        preexec_fn=_install_in_child(seccomp.program()),
    )
    _check_ordinary(res)


@pytest.mark.bwrap
@pytest.mark.skipif(not HAVE_BWRAP, reason="bubblewrap (bwrap) is not installed")
@needs_seccomp
def test_ordinary_code_works_under_bwrap_seccomp():
    _check_ordinary(_run_under_bwrap([sys.executable, "-I", "-c", ORDINARY], seccomp.program()))


@needs_seccomp
def test_the_filter_reaches_grandchildren():
    code = (
        "import socket, subprocess, sys\n"
        "inner = 'import socket\\ntry:\\n    socket.socket(40, 1)\\nexcept PermissionError:\\n    print(\"denied\")'\n"
        "print(subprocess.run([sys.executable, '-I', '-c', inner], capture_output=True, text=True).stdout.strip())\n"
    )
    res = subprocess.run(
        [sys.executable, "-I", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        preexec_fn=_install_in_child(seccomp.program()),
    )
    assert res.returncode == 0 and res.stdout.strip() == "denied", res.stderr


@needs_seccomp
def test_a_snippet_sees_an_ordinary_python_error():
    code = "import socket\nsocket.socket(40, socket.SOCK_STREAM)\n"
    res = subprocess.run(
        [sys.executable, "-I", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        preexec_fn=_install_in_child(seccomp.program()),
    )
    assert res.returncode == 1
    assert "PermissionError: [Errno 1] Operation not permitted" in res.stderr


@needs_seccomp
def test_install_validates_its_input_and_refuses_what_the_kernel_refuses():
    with pytest.raises(ValueError, match="records of 8 bytes"):
        seccomp.install(b"\x00" * 7)
    with pytest.raises(ValueError, match="records of 8 bytes"):
        seccomp.install(b"")
    # A program that jumps out of bounds: the kernel's checker refuses it; install says so (in a child).
    bad = struct.pack("<HBBI", 0x15, 5, 0, 1) + struct.pack("<HBBI", 0x06, 0, 0, ALLOW)
    code = (
        "import sys; ns = {'__name__': 'r1ci_seccomp'}\n"
        "exec(compile(open(sys.argv[1]).read(), sys.argv[1], 'exec'), ns)\n"
        "try:\n    ns['install'](bytes.fromhex(sys.argv[2]))\n"
        "except OSError as exc:\n    print('refused', exc.errno)\n"
    )
    res = subprocess.run(
        [sys.executable, "-I", "-c", code, str(MODULE_PATH), bad.hex()], capture_output=True, text=True, timeout=30
    )
    assert res.stdout.strip() == f"refused {errno.EINVAL}", res.stderr


# --- keyrings ---------------------------------------------------------------------------------------
KEYRING_PROBE = r"""
import ctypes, json, os, sys
ns = {"__name__": "r1ci_seccomp"}
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), ns)
NR = ns["_ARCHES"][ns["_arch_name"](None)]["nr"]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
SESSION, USER = ctypes.c_long(-3), ctypes.c_long(-4)

def keyctl(*args):
    ctypes.set_errno(0)
    rc = libc.syscall(ctypes.c_long(NR["keyctl"]), *args)
    return rc, ctypes.get_errno()

def read_key(key):
    buf = ctypes.create_string_buffer(256)
    rc, err = keyctl(ctypes.c_long(11), ctypes.c_long(key), buf, ctypes.c_long(256))  # KEYCTL_READ
    return buf.raw[:rc].decode() if rc >= 0 else os.strerror(err)

def search(name):
    rc, err = keyctl(ctypes.c_long(10), SESSION, b"user", name, ctypes.c_long(0))  # KEYCTL_SEARCH
    return rc if rc >= 0 else os.strerror(err)

def session_id():
    return keyctl(ctypes.c_long(0), SESSION, ctypes.c_long(0))[0]  # KEYCTL_GET_KEYRING_ID

def in_child(fn):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            result = fn()
        except BaseException as exc:
            result = repr(exc)
        os.write(w, json.dumps(result).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.waitpid(pid, 0)
    return json.loads(data)

# The "trainer": its own fresh session keyring (so this test never touches the caller's), holding a secret.
ns["join_new_session_keyring"]()
secret = b"r1ci-secret-token"
ctypes.set_errno(0)
key = libc.syscall(ctypes.c_long(NR["add_key"]), b"user", b"r1ci-test", secret, ctypes.c_long(len(secret)), SESSION)
assert key > 0, os.strerror(ctypes.get_errno())
out = {"trainer_session": session_id()}

def plain_child():
    return {"session": session_id(), "read": read_key(key), "search": search(b"r1ci-test")}

def isolated_child():
    ns["join_new_session_keyring"]()
    planted = libc.syscall(ctypes.c_long(NR["add_key"]), b"user", b"r1ci-planted", b"x", ctypes.c_long(1), SESSION)
    return {"session": session_id(), "read": read_key(key), "search": search(b"r1ci-test"), "planted": planted}

def filtered_child():
    ns["join_new_session_keyring"]()
    ns["install"]()
    return {"read": read_key(key), "search": search(b"r1ci-test"), "join_again": repr(_try_join())}

def _try_join():
    try:
        ns["join_new_session_keyring"]()
    except OSError as exc:
        return exc.errno
    return 0

out["plain"] = in_child(plain_child)
out["isolated"] = in_child(isolated_child)
out["isolated_sibling_search_planted"] = in_child(lambda: (ns["join_new_session_keyring"](), search(b"r1ci-planted"))[1])
out["trainer_search_planted"] = search(b"r1ci-planted")
if sys.argv[2] == "1":
    out["filtered"] = in_child(filtered_child)
print(json.dumps(out))
"""


def test_new_session_keyring_isolates_the_trainers_keys():
    """Without any seccomp: a child that joined a new session keyring cannot find or read the key."""
    with_filter = "1" if seccomp.supported() else "0"
    res = subprocess.run(
        [sys.executable, "-I", "-c", KEYRING_PROBE, str(MODULE_PATH), with_filter],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    if res.returncode != 0 and "Function not implemented" in res.stderr:
        pytest.skip("this kernel has no keyrings")
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    denied = os.strerror(errno.EACCES)
    nokey = os.strerror(errno.ENOKEY)
    # the hole: a plain child shares the session keyring and reads the secret
    assert out["plain"]["session"] == out["trainer_session"]
    assert out["plain"]["read"] == "r1ci-secret-token" and out["plain"]["search"] > 0
    # the fix: a new session keyring, in which the secret is neither found nor readable
    assert out["isolated"]["session"] not in (out["trainer_session"], -1)
    assert out["isolated"]["read"] == denied
    assert out["isolated"]["search"] == nokey
    # a key planted by one snippet reaches neither the trainer nor the next snippet
    assert out["isolated"]["planted"] > 0
    assert out["trainer_search_planted"] == nokey
    assert out["isolated_sibling_search_planted"] == nokey
    if with_filter == "1":
        eperm = os.strerror(errno.EPERM)
        assert out["filtered"]["read"] == eperm and out["filtered"]["search"] == eperm
        assert out["filtered"]["join_again"] == str(errno.EPERM)


@needs_seccomp
def test_join_after_install_says_what_went_wrong():
    code = (
        "import sys; ns = {'__name__': 'r1ci_seccomp'}\n"
        "exec(compile(open(sys.argv[1]).read(), sys.argv[1], 'exec'), ns)\n"
        "ns['install']()\n"
        "ns['join_new_session_keyring']()\n"
    )
    res = subprocess.run(
        [sys.executable, "-I", "-c", code, str(MODULE_PATH)], capture_output=True, text=True, timeout=30
    )
    assert res.returncode == 1
    assert "join before install()" in res.stderr


BWRAP_KEYRING = r"""
import ctypes, json, subprocess, sys
ns = {"__name__": "r1ci_seccomp"}
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), ns)
NR = ns["_ARCHES"][ns["_arch_name"](None)]["nr"]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
ns["join_new_session_keyring"]()  # a keyring of this test's own, never the caller's
secret = b"r1ci-secret-token"
key = libc.syscall(ctypes.c_long(NR["add_key"]), b"user", b"r1ci-test", secret, ctypes.c_long(len(secret)), ctypes.c_long(-3))
assert key > 0
reader = (
    "import ctypes, os\n"
    f"libc = ctypes.CDLL(None, use_errno=True); libc.syscall.restype = ctypes.c_long; keyctl = {NR['keyctl']}\n"
    "key = libc.syscall(ctypes.c_long(keyctl), ctypes.c_long(10), ctypes.c_long(-3), b'user', b'r1ci-test', ctypes.c_long(0))\n"
    "buf = ctypes.create_string_buffer(64)\n"
    "n = libc.syscall(ctypes.c_long(keyctl), ctypes.c_long(11), ctypes.c_long(key), buf, ctypes.c_long(64))\n"
    "print(buf.raw[:n].decode() if key > 0 and n >= 0 else os.strerror(ctypes.get_errno()))\n"
)
res = subprocess.run(json.loads(sys.argv[2]) + [sys.executable, "-I", "-c", reader], capture_output=True, text=True)
print(json.dumps({"rc": res.returncode, "out": res.stdout.strip(), "err": res.stderr[-300:]}))
"""


@pytest.mark.bwrap
@pytest.mark.skipif(not HAVE_BWRAP, reason="bubblewrap (bwrap) is not installed")
def test_bwrap_alone_leaves_the_session_keyring_readable():
    """Why the keyring reset is needed under bubblewrap too: --unshare-all does not detach keyrings."""
    prefix = _bwrap_argv(None, [])
    res = subprocess.run(
        [sys.executable, "-I", "-c", BWRAP_KEYRING, str(MODULE_PATH), json.dumps(prefix)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    if res.returncode != 0 and "Function not implemented" in res.stderr:
        pytest.skip("this kernel has no keyrings")
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    if out["rc"] != 0:
        pytest.skip(f"bwrap cannot run here: {out['err']}")
    assert out["out"] == "r1ci-secret-token"  # read from inside the "isolated" sandbox
