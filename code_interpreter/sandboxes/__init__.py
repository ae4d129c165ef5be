"""Sandboxes that run model-written code: `get_sandbox("local")` (default) and `get_sandbox("e2b")`."""

from __future__ import annotations

from code_interpreter.sandboxes.base import ExecutionResult, Sandbox


def get_sandbox(name: str = "local", **options) -> Sandbox:
    """Build a sandbox backend by name; `options` go to its constructor."""
    if name == "local":
        from code_interpreter.sandboxes.local import LocalSandbox

        return LocalSandbox(**options)
    if name == "e2b":
        from code_interpreter.sandboxes.e2b import E2BSandbox

        return E2BSandbox(**options)
    raise ValueError(f"unknown sandbox {name!r}; choose 'local' or 'e2b'")


__all__ = ["ExecutionResult", "Sandbox", "get_sandbox"]
