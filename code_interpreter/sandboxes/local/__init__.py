"""The local sandbox: model-written snippets run in a warm, isolated worker on this machine.

Modules, along the seams of the design:
  sandbox.py       the public `LocalSandbox` (options, worker life cycle, supervisor thread)
  batch.py         one caller's batch: dispatch to spares, pump pipes, deadlines, worker watch
  job.py           one snippet in flight seen from the host: capture, status, result
  worker_proxy.py  the host's side of one worker process (control socket, spares, exits)
  host_view.py     pure builders: bubblewrap command line, allow-list view, user-namespace maps
  levels.py        isolation levels and what this machine offers
  limits.py        per-snippet resource limits
The worker itself is `code_interpreter/sandboxes/_worker.py`, shipped to the sandbox as one string.
"""

from code_interpreter.sandboxes.local.levels import (
    FULL_ISOLATION,
    ISOLATION_LEVELS,
    REQUIRE_FULL_ISOLATION_ENV,
    SandboxUnavailable,
)
from code_interpreter.sandboxes.local.limits import Limits
from code_interpreter.sandboxes.local.sandbox import DEFAULT_PRELOAD, LocalSandbox

__all__ = [
    "DEFAULT_PRELOAD",
    "FULL_ISOLATION",
    "ISOLATION_LEVELS",
    "REQUIRE_FULL_ISOLATION_ENV",
    "Limits",
    "LocalSandbox",
    "SandboxUnavailable",
]
