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


_WHAT_YOU_GET = {
    "namespaces": (
        "snippets still get their own user, pid, mount, network and IPC namespaces, the same allow-list "
        "view of the host and the seccomp filter, set up by the worker itself instead of by bubblewrap"
    ),
    "rlimits": (
        "snippets run WITHOUT namespaces: they see the host's files (wherever permissions allow), its "
        "network and its processes; only resource limits, a private temp dir, a scrubbed environment "
        "and the seccomp filter apply. Do not run untrusted code this way on a machine with secrets"
    ),
}


def weaker_level_notice(isolation: str, why: list[str], requested: str = "auto") -> str:
    """What a newcomer without full isolation is told, once: what they got and how to get the rest."""
    level = isolation.removesuffix("-partial")
    if requested not in ("auto", FULL_ISOLATION):
        cause = f"isolation={requested!r} was requested"
    elif shutil.which("bwrap") is None:
        cause = "bubblewrap (`bwrap`) is not installed"
    else:
        cause = "bubblewrap is installed but could not be used here"
    got = _WHAT_YOU_GET.get(level, "per-snippet namespaces could not be set up")
    details = f" ({'; '.join(why)})" if why else ""
    return (
        f"local sandbox: running at isolation {isolation!r}, weaker than full isolation ({FULL_ISOLATION!r}), "
        f"because {cause}{details}. What that means: {got}. For full isolation: `sudo apt-get install "
        f"bubblewrap` (Debian/Ubuntu; `dnf install bubblewrap` on Fedora). To refuse anything weaker, set "
        f"{REQUIRE_FULL_ISOLATION_ENV}=1. See docs/sandbox.md."
    )
