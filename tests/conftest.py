"""Shared fixtures. Tests run offline on CPU; anything built here lives in the session's temp dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = PROJECT_ROOT.parent / "shared" / "external"


# --- tiny model -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny Qwen2 with the real Qwen2.5 tokenizer, built once per test session."""
    from trainers.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-qwen2", hidden_size=32, num_layers=1)


@pytest.fixture(scope="session")
def qwen_tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


# --- task data (Task library: BBH, Reasoning-Gym, published data, task contract) ------------------
#: Environment variables pointing the dataset-backed tasks at the local copies in shared/external.
TASK_DATA_ENV = {
    "R1CI_BBH_PATH": EXTERNAL / "bbh",
    "R1CI_GSM_HARD_PATH": EXTERNAL / "symbench" / "gsmhardv2.jsonl",
    "R1CI_MATH_PATH": EXTERNAL / "symbench" / "MATH",
}


@pytest.fixture(scope="session")
def external_task_data() -> Iterator[Path]:
    """shared/external, with the dataset-backed tasks (bbh/*, gsm_hard, math_*) reading from it.

    Skips the requesting test when the folder is absent; the variables are restored afterwards.
    """
    missing = [str(p) for p in TASK_DATA_ENV.values() if not p.exists()]
    if missing:
        pytest.skip(f"task data under shared/external is absent: {', '.join(missing)}")
    with pytest.MonkeyPatch.context() as mp:
        for name, path in TASK_DATA_ENV.items():
            mp.setenv(name, str(path))
        yield EXTERNAL


# --- sandbox: say how much of the hardened sandbox this run could not test ---------------------------
def pytest_terminal_summary(terminalreporter) -> None:
    """`make test` on a machine without bubblewrap (or seccomp, or a root host) skips the hardened
    sandbox's tests: count them and say why, so a green run is not mistaken for a full one."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        if not report.nodeid.startswith("tests/test_sandbox_"):
            continue
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        total = sum(reasons.values())
        terminalreporter.write_sep("-", f"hardened sandbox: {total} test(s) skipped")
        for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
            terminalreporter.write_line(f"  {count:4d} x {reason}")
        if any("bubblewrap" in reason for reason in reasons):
            terminalreporter.write_line("  full isolation needs bubblewrap: sudo apt-get install bubblewrap")


# --- the Space (tests/test_space.py, tests/test_space_browser.py) ---------------------------------
@pytest.fixture(scope="session")
def space_datasets(tmp_path_factory) -> dict[str, Path]:
    """A `r1ci rollouts` transcripts.jsonl and an SFT traces folder, small, for the Browse tab."""
    from tests.space_doubles import write_rollouts, write_traces

    root = tmp_path_factory.mktemp("space-data")
    return {"rollouts": write_rollouts(root / "rollouts"), "traces": write_traces(root / "traces")}


@pytest.fixture(scope="session")
def space_url() -> Iterator[str]:
    """The app served locally with a scripted model (tests.space_doubles) and the real local sandbox."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from spaces_demo.app import DemoConfig, build_demo
    from tests.space_doubles import example_entries, scripted_factory

    demo = build_demo(
        DemoConfig(model="scripted", timeout_s=30), factory=scripted_factory(), examples=example_entries()
    )
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    yield url
    demo.close()
