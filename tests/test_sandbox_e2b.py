"""E2B backend: construction errors and the mapping from the SDK's own objects run offline; the
pool, retries and SDK parameter names are checked against a stand-in whose methods have the real
signatures; one live test (marked `e2b`) runs when E2B_API_KEY is set."""

from __future__ import annotations

import asyncio
import inspect
import os

import httpx
import pytest

pytest.importorskip("e2b_code_interpreter")

from e2b.exceptions import (  # noqa: E402
    AuthenticationException,
    RateLimitException,
    SandboxNotFoundException,
)
from e2b_code_interpreter import AsyncSandbox, Execution, ExecutionError, Logs  # noqa: E402
from e2b_code_interpreter.exceptions import (  # noqa: E402
    format_execution_timeout_error,
    format_request_timeout_error,
    format_sandbox_killed_error,
)

from code_interpreter.sandboxes import get_sandbox  # noqa: E402
from code_interpreter.sandboxes.e2b import E2BSandbox, E2BUnavailable, classify_error, to_result  # noqa: E402


def test_missing_api_key_is_one_clear_error(monkeypatch):
    monkeypatch.delenv("E2B_API_KEY", raising=False)
    with pytest.raises(E2BUnavailable, match="E2B_API_KEY"):
        get_sandbox("e2b")
    with pytest.raises(E2BUnavailable, match="E2B_API_KEY"):
        E2BSandbox(pool_size=2)


def test_bad_pool_size(monkeypatch):
    with pytest.raises(ValueError):
        E2BSandbox(api_key="k", pool_size=0)


def test_maps_logs_to_stdout_and_stderr():
    ex = Execution(logs=Logs(stdout=["hello\n", "world\n"], stderr=["warn\n"]))
    res = to_result(ex, 0.5)
    assert (res.stdout, res.stderr, res.exit_code, res.timed_out, res.truncated) == (
        "hello\nworld\n",
        "warn\n",
        0,
        False,
        False,
    )
    assert res.isolation == "e2b" and res.error is None and res.duration_s == 0.5 and res.ok


def test_maps_error_name_value_and_traceback_to_stderr():
    tb = (
        "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m\n"
        "\x1b[0;31mZeroDivisionError\x1b[0m   Traceback (most recent call last)\n"
        "Cell \x1b[0;32mIn[1], line 2\x1b[0m\n----> 2 1/0\n"
        "\x1b[0;31mZeroDivisionError\x1b[0m: division by zero"
    )
    ex = Execution(logs=Logs(stdout=["before\n"]), error=ExecutionError("ZeroDivisionError", "division by zero", tb))
    res = to_result(ex, 0.1)
    assert res.stdout == "before\n"
    assert res.exit_code == 1 and not res.ok and res.error is None  # the snippet failed, not the sandbox
    assert "\x1b[" not in res.stderr
    assert "Traceback (most recent call last)" in res.stderr
    assert res.stderr.rstrip().endswith("ZeroDivisionError: division by zero")


def test_error_without_traceback_still_names_the_error():
    res = to_result(Execution(error=ExecutionError("NameError", "name 'x' is not defined", "")), 0.0)
    assert res.stderr == "NameError: name 'x' is not defined\n" and res.exit_code == 1


def test_long_output_is_truncated_head_and_tail():
    ex = Execution(logs=Logs(stdout=["a" * 600, "b" * 600]))
    res = to_result(ex, 0.0, max_output_chars=100)
    assert res.truncated and res.stdout.startswith("a" * 50) and res.stdout.endswith("b" * 50)
    assert "truncated" in res.stdout


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (format_execution_timeout_error(), "timeout"),
        (format_sandbox_killed_error(), "expired"),
        (SandboxNotFoundException("sandbox abc not found"), "expired"),
        (format_request_timeout_error(), "transient"),
        (httpx.ConnectError("boom"), "transient"),
        (RateLimitException("slow down"), "transient"),
        (AuthenticationException("bad key"), "fatal"),
        (ValueError("bug"), "fatal"),
    ],
)
def test_classify_error(exc, kind):
    assert classify_error(exc) == kind


def test_sdk_accepts_the_parameter_names_we_use():
    run_code = inspect.signature(AsyncSandbox.run_code).parameters
    assert {"code", "context", "timeout", "request_timeout"} <= set(run_code)
    ctx = inspect.signature(AsyncSandbox.create_code_context).parameters
    assert {"language", "request_timeout"} <= set(ctx)
    create = inspect.signature(AsyncSandbox.create).parameters
    assert {"template", "timeout", "envs"} <= set(create)


# -- a stand-in for AsyncSandbox with the same method signatures (no **kwargs: a wrong name fails) --


class FakeContext:
    def __init__(self, cid):
        self.id = cid


class FakeSandbox:
    created: list[FakeSandbox] = []
    script: list = []  # per run_code call: an Execution, or an exception to raise

    def __init__(self):
        self.sandbox_id = f"fake-{len(FakeSandbox.created)}"
        self.contexts: list[str] = []
        self.removed: list[str] = []
        self.runs: list[tuple] = []
        self.killed = False

    @classmethod
    async def create(cls, template=None, timeout=None, metadata=None, envs=None, api_key=None, request_timeout=None):
        sbx = cls()
        sbx.create_args = dict(template=template, timeout=timeout, envs=envs, api_key=api_key)
        cls.created.append(sbx)
        return sbx

    async def create_code_context(self, cwd=None, language=None, request_timeout=None):
        assert language == "python"
        ctx = FakeContext(f"{self.sandbox_id}/ctx{len(self.contexts)}")
        self.contexts.append(ctx.id)
        return ctx

    async def run_code(
        self,
        code,
        language=None,
        context=None,
        on_stdout=None,
        on_stderr=None,
        on_result=None,
        on_error=None,
        envs=None,
        timeout=None,
        request_timeout=None,
    ):
        assert context is not None and language is None  # the SDK refuses both at once
        self.runs.append((code, context.id, timeout, request_timeout))
        step = FakeSandbox.script.pop(0) if FakeSandbox.script else Execution(logs=Logs(stdout=[f"ran {code}\n"]))
        if isinstance(step, BaseException):
            raise step
        await asyncio.sleep(0)
        return step

    async def remove_code_context(self, context):
        self.removed.append(context.id)

    async def kill(self):
        self.killed = True


@pytest.fixture
def fake_sdk(monkeypatch):
    import e2b_code_interpreter

    FakeSandbox.created = []
    FakeSandbox.script = []
    monkeypatch.setattr(e2b_code_interpreter, "AsyncSandbox", FakeSandbox)
    return FakeSandbox


def test_pool_reuses_sandboxes_with_a_fresh_context_per_snippet(fake_sdk):
    with E2BSandbox(api_key="k", pool_size=2, backoff_s=0.01, request_timeout=7) as sb:
        results = sb.run_many([f"print({i})" for i in range(6)], timeout=3)
        assert [r.stdout for r in results] == [f"ran print({i})\n" for i in range(6)]
        assert all(r.ok and r.isolation == "e2b" for r in results)
    assert len(fake_sdk.created) == 2  # reused, not one per snippet
    runs = [run for s in fake_sdk.created for run in s.runs]
    assert len(runs) == 6
    assert len({ctx for _, ctx, _, _ in runs}) == 6  # each snippet had its own context
    assert all(t == 3 and rt == 7 for _, _, t, rt in runs)
    assert all(s.killed for s in fake_sdk.created)
    assert fake_sdk.created[0].create_args["api_key"] == "k"


def test_transient_errors_are_retried(fake_sdk):
    fake_sdk.script = [
        httpx.ConnectError("flaky"),
        RateLimitException("429"),
        Execution(logs=Logs(stdout=["third time\n"])),
    ]
    with E2BSandbox(api_key="k", pool_size=1, backoff_s=0.01) as sb:
        res = sb.run("print('x')")
    assert res.ok and res.stdout == "third time\n"


def test_expired_sandbox_is_recreated(fake_sdk):
    fake_sdk.script = [format_sandbox_killed_error()]
    with E2BSandbox(api_key="k", pool_size=1, backoff_s=0.01) as sb:
        res = sb.run("print('x')")
        assert res.ok and res.stdout == "ran print('x')\n"
    assert len(fake_sdk.created) == 2 and fake_sdk.created[0].killed


def test_execution_timeout_is_reported_as_timed_out(fake_sdk):
    fake_sdk.script = [format_execution_timeout_error()]
    with E2BSandbox(api_key="k", pool_size=1, backoff_s=0.01) as sb:
        res = sb.run("while True: pass", timeout=1)
        assert res.timed_out and res.exit_code is None and res.error is None
        assert sb.run("print(1)").ok  # the same sandbox goes on
    assert len(fake_sdk.created) == 1


def test_persistent_failure_becomes_an_error_result(fake_sdk):
    fake_sdk.script = [httpx.ConnectError("down")] * 10
    with E2BSandbox(api_key="k", pool_size=1, retries=2, backoff_s=0.01) as sb:
        res = sb.run("print(1)")
    assert res.error and "ConnectError" in res.error and res.exit_code is None


def test_arun_works_from_another_event_loop(fake_sdk):
    async def main(sb):
        return await asyncio.gather(sb.arun("a"), sb.arun("b"), sb.arun_many(["c", "d"]))

    with E2BSandbox(api_key="k", pool_size=2) as sb:
        a, b, cd = asyncio.run(main(sb))
    assert a.stdout == "ran a\n" and b.stdout == "ran b\n" and [r.stdout for r in cd] == ["ran c\n", "ran d\n"]


@pytest.mark.e2b
def test_live_e2b_roundtrip():
    if not os.environ.get("E2B_API_KEY"):
        pytest.skip("E2B_API_KEY is not set")
    with get_sandbox("e2b", pool_size=1) as sb:
        ok, err = sb.run_many(["import math\nprint(math.factorial(5))", "1/0"], timeout=30)
        assert ok.ok and ok.stdout == "120\n", ok
        assert err.exit_code == 1 and "ZeroDivisionError" in err.stderr, err
        state = sb.run("print('x' in dir())", timeout=30)
        assert state.stdout == "False\n"  # no state leaks between snippets
