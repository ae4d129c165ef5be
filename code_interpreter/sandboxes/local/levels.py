"""Isolation levels of the local sandbox, and which of them this machine can offer."""

from __future__ import annotations

import shutil

#: Strongest first. "bwrap" is full isolation; the others are fallbacks for hosts without it.
ISOLATION_LEVELS = ("bwrap", "namespaces", "rlimits")
FULL_ISOLATION = "bwrap"
#: Set to 1/true to make every LocalSandbox refuse to run without full (bwrap) isolation.
REQUIRE_FULL_ISOLATION_ENV = "R1CI_SANDBOX_REQUIRE_FULL_ISOLATION"


class SandboxUnavailable(RuntimeError):
    """The requested isolation cannot be provided on this machine."""


def candidate_levels(isolation: str, require_full: bool) -> list[str]:
    if require_full:
        if shutil.which("bwrap") is None:
            raise SandboxUnavailable(
                "full sandbox isolation is required but bubblewrap (`bwrap`) is not on PATH; "
                "install it (Debian/Ubuntu: apt-get install bubblewrap) or allow a weaker level"
            )
        return [FULL_ISOLATION]
    if isolation != "auto":
        return [isolation]
    levels = list(ISOLATION_LEVELS)
    if shutil.which("bwrap") is None:
        levels.remove("bwrap")
    return levels
