"""Per-snippet resource limits of the local sandbox."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Per-snippet limits. Process limits apply to every process of the snippet separately."""

    memory_mb: int = 2048
    """Address space per process (RLIMIT_AS); a memory bomb gets MemoryError."""
    cpu_time_s: float | None = None
    """CPU seconds per process (RLIMIT_CPU); None means the call's timeout plus one second."""
    file_size_mb: int = 64
    """Largest file a snippet may write (RLIMIT_FSIZE); beyond it writes fail with EFBIG."""
    tmp_size_mb: int = 256
    """Size of the snippet's private /tmp (and /dev/shm) in memory."""
    max_processes: int = 128
    """Processes plus threads of one snippet (RLIMIT_NPROC, counted per snippet namespace)."""
    max_open_files: int = 1024
    """Open file descriptors per process (RLIMIT_NOFILE)."""
    max_output_bytes: int = 1 << 20
    """Bytes kept per stream; beyond it the head and tail are kept and `truncated` is set."""
    output_kill_bytes: int = 64 << 20
    """A snippet that writes more than this in total is stopped (an output flood)."""

    def rlimits(self, timeout: float) -> dict[str, list[int]]:
        cpu = self.cpu_time_s if self.cpu_time_s is not None else timeout + 1
        cpu = max(1, int(-(-cpu // 1)))
        mb = 1 << 20
        return {
            "RLIMIT_AS": [self.memory_mb * mb] * 2,
            "RLIMIT_CPU": [cpu, cpu + 1],  # soft: SIGXCPU, hard: SIGKILL
            "RLIMIT_FSIZE": [self.file_size_mb * mb] * 2,
            "RLIMIT_NPROC": [self.max_processes] * 2,
            "RLIMIT_NOFILE": [self.max_open_files] * 2,
            "RLIMIT_CORE": [0, 0],
            # Kernel memory that RLIMIT_AS does not see, capped per snippet (see docs/sandbox.md).
            "RLIMIT_SIGPENDING": [256, 256],
            "RLIMIT_MSGQUEUE": [256 << 10] * 2,
            "RLIMIT_MEMLOCK": [64 << 10] * 2,
        }
