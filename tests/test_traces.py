"""`r1ci traces build`: verified teacher traces through real episodes, caps, refusal of test tasks,
resume after a kill, and the dataset folder with spans, card and plots."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from datasets import load_dataset

from code_interpreter import get_generator, get_sandbox
from code_interpreter.sandboxes.base import ExecutionResult, Sandbox
from dataset_builders import get_task, list_tasks
from dataset_builders.traces import AttemptLog, TraceBuildConfig, build_traces, train_tasks, write_traces
from hub_tools.errors import HubInputError
from hub_tools.publish import resolve_target
from r1ci_cli import main
from tests.teacher_double import SolverTeacher

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TASK = "symbench/number_multiply"


@pytest.fixture()
def teacher():
    t = SolverTeacher()
    yield t
    t.close()


@pytest.fixture(scope="module")
def sandbox():
    with get_sandbox("local") as sb:
        yield sb


def _build(teacher, sandbox, cache: Path, **overrides):
    config = TraceBuildConfig(tasks=[TASK], batch_size=4, max_new_tokens=256, **overrides)
    generator = get_generator("openai", model="solver", base_url=teacher.base_url, api_key="k", temperature=0)
    return build_traces(generator, sandbox, config, cache_dir=cache, teacher={"backend": "openai", "model": "solver"})


def test_accepts_only_verified_traces_with_spans_and_cap(teacher, sandbox, tmp_path):
    build = _build(teacher, sandbox, tmp_path / "cache", max_per_task=5, attempts_per_task=12)
    task = get_task(TASK)
    assert 0 < len(build.rows) <= 5 and build.tally[TASK].accepted == len(build.rows)
    assert build.tally[TASK].attempted > len(build.rows)  # some answers were wrong and rejected
    ids = [r["id"] for r in build.rows]
    assert len(ids) == len(set(ids))
    for row in build.rows:
        system, user, assistant = row["messages"]
        text = assistant["content"]
        assert system["role"] == "system" and user["role"] == "user" and assistant["role"] == "assistant"
        ((start, end),) = row["inserted_spans"]
        inserted = text[start:end]
        assert inserted.strip().startswith("Code Execution Results:") and "```python" in text[:start]
        entry = next(e for e in task.generate(12, seed=0) if e["id"] == row["id"])
        assert task.score(text, entry, inserted_spans=row["inserted_spans"]) == 1.0
        assert (
            row["num_code_calls"] == 1
            and row["num_turns"] == 2
            and row["style"] in ("free", "code_first", "text_then_code")
        )
    assert len({r["style"] for r in build.rows}) >= 2 or len(build.rows) < 3


def test_test_tasks_are_refused(capsys):
    name = list_tasks(split="test")[0].name
    with pytest.raises(HubInputError, match="held-out test task"):
        train_tasks([TASK, name])
    assert [t.name for t in train_tasks([TASK, TASK])] == [TASK]
    for styles in ("", "free,verbose"):
        assert main(["traces", "build", "--model", "m", "--styles", styles, "--output-dir", "unused"]) == 2
        assert "choose from free, code_first, text_then_code" in capsys.readouterr().err
    assert main(["traces", "build", "--model", "m", "--tasks", name, "--output-dir", "unused"]) == 2
    assert "held-out test task" in capsys.readouterr().err


def test_an_output_folder_that_holds_the_cache_is_refused_before_any_teacher_call(teacher, tmp_path, capsys):
    (tmp_path / "out" / "cache" / "0123").mkdir(parents=True)
    (tmp_path / "out" / "cache" / "0123" / "attempts-00000.jsonl").write_text("")
    args = ["traces", "build", "--model", "solver", "--base-url", teacher.base_url, "--tasks", TASK,
            "--cache-dir", str(tmp_path / "out" / "cache"), "--output-dir", str(tmp_path / "out")]  # fmt: skip
    assert main(args) == 2 and teacher.requests == 0
    assert "holds cache/0123," in capsys.readouterr().err


def test_written_folder_loads_with_card_and_plots(teacher, sandbox, tmp_path):
    config = TraceBuildConfig(tasks=[TASK], max_per_task=4, attempts_per_task=10)
    build = _build(teacher, sandbox, tmp_path / "cache", max_per_task=4, attempts_per_task=10)
    folder = write_traces(
        build, resolve_target(tmp_path / "out", None), config, {"backend": "openai", "model": "solver"}
    )
    rows = load_dataset(str(folder), split="train")
    assert rows.num_rows == len(build.rows) and list(rows[0]["inserted_spans"][0]) == build.rows[0]["inserted_spans"][0]
    card = (folder / "README.md").read_text()
    assert f"| `{TASK}` | {build.tally[TASK].attempted} | {build.tally[TASK].accepted} |" in card
    assert "Mask those spans" in card and "images/code_calls.png" in card
    assert (folder / "images" / "code_calls.png").read_bytes()[:4] == b"\x89PNG"


def test_endpoint_down_stops_once_and_keeps_accepted(teacher, sandbox, tmp_path):
    first = _build(teacher, sandbox, tmp_path / "cache", max_per_task=3, attempts_per_task=6)
    teacher.fail_with = 401
    again = _build(teacher, sandbox, tmp_path / "cache", max_per_task=10, attempts_per_task=20)
    assert again.stopped and "401" in again.stopped or "Authentication" in (again.stopped or "")
    assert [r["id"] for r in again.rows] == [r["id"] for r in first.rows]  # nothing lost


def test_resume_after_kill_loses_and_duplicates_nothing(tmp_path, sandbox):
    slow = SolverTeacher(delay_s=0.15)
    try:
        cmd = [sys.executable, "-m", "r1ci_cli", "traces", "build", "--model", "solver", "--base-url", slow.base_url,
               "--tasks", TASK, "--max-per-task", "8", "--attempts-per-task", "16", "--batch-size", "2",
               "--max-new-tokens", "256", "--temperature", "0", "--cache-dir", str(tmp_path / "cache"),
               "--output-dir", str(tmp_path / "out")]  # fmt: skip
        env = {**os.environ, "OPENAI_API_KEY": "k", "PYTHONPATH": str(PROJECT_ROOT)}
        proc = subprocess.Popen(cmd, env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        log = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            logs = list((tmp_path / "cache").rglob("attempts-*.jsonl"))
            if logs and len(logs[0].read_text().splitlines()) >= 3:
                log = logs[0]
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert log is not None, "the build never logged an attempt"
        before = len(log.read_text().splitlines())
        assert not (tmp_path / "out").exists()  # killed before writing
        assert main(cmd[3:]) == 0
    finally:
        slow.close()
    attempts = [
        json.loads(line)
        for p in sorted((tmp_path / "cache").rglob("attempts-*.jsonl"))
        for line in p.read_text().splitlines()
    ]
    keys = [a["key"] for a in attempts]
    assert len(keys) == len(set(keys)) and len(keys) > before  # resumed, nothing attempted twice
    rows = load_dataset(str(tmp_path / "out"), split="train")
    assert len(set(rows["id"])) == rows.num_rows == min(8, sum(a["row"] is not None for a in attempts))


def test_resume_keeps_the_cap_and_only_the_tasks_asked_for(teacher, sandbox, tmp_path):
    first = _build(teacher, sandbox, tmp_path / "cache", max_per_task=4, attempts_per_task=8)
    assert len(first.rows) == 4
    assert len(_build(teacher, sandbox, tmp_path / "cache", max_per_task=2, attempts_per_task=8).rows) == 2
    asked = teacher.requests
    reweighted = _build(
        teacher, sandbox, tmp_path / "cache", max_per_task=4, attempts_per_task=8, multi_turn_weight=5.0
    )
    assert teacher.requests == asked and len(reweighted.rows) == 4  # another weight: the same attempts, not paid again
    teacher.fail_with = 400  # the other task's questions are never answered: only the log could supply rows
    generator = get_generator("openai", model="solver", base_url=teacher.base_url, api_key="k", temperature=0)
    other = build_traces(
        generator,
        sandbox,
        TraceBuildConfig(tasks=["reasoning_gym/leg_counting"], batch_size=4, max_new_tokens=256),
        cache_dir=tmp_path / "cache",
        teacher={"backend": "openai", "model": "solver"},
    )
    assert other.rows == [] and set(other.tally) == {"reasoning_gym/leg_counting"}


def test_a_key_in_the_base_url_is_written_nowhere(teacher, tmp_path, capsys):
    secret = "sk-redteam-secret-0123456789"
    url = teacher.base_url.replace("http://", f"http://user:{secret}@") + f"?api-key={secret}"
    args = ["traces", "build", "--model", "solver", "--base-url", url, "--tasks", TASK, "--max-per-task", "2",
            "--attempts-per-task", "4", "--max-new-tokens", "256", "--temperature", "0",
            "--cache-dir", str(tmp_path / "cache"), "--output-dir", str(tmp_path / "out")]  # fmt: skip
    assert main(args) == 0
    assert load_dataset(str(tmp_path / "out"), split="train")[0]["teacher"].count(teacher.base_url) == 1
    written = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    out = capsys.readouterr()
    assert secret.encode() not in written and secret not in out.out + out.err


def test_a_rate_limit_storm_is_waited_out_then_reported(teacher, sandbox, tmp_path):
    import threading

    config = TraceBuildConfig(tasks=[TASK], batch_size=4, max_new_tokens=256, max_per_task=2, attempts_per_task=4)
    # no client-side retries: the builder's own backoff is what is tested
    generator = get_generator("openai", model="solver", base_url=teacher.base_url, api_key="k", max_retries=0)
    teacher.fail_with = 429
    threading.Timer(1.0, lambda: setattr(teacher, "fail_with", None)).start()  # the storm passes
    config.teacher_patience_s = 60.0
    build = build_traces(generator, sandbox, config, cache_dir=tmp_path / "a", teacher={"model": "solver"})
    assert build.stopped is None and len(build.rows) == 2

    teacher.fail_with = 429  # a storm that lasts: stops once the patience is spent, with the reason
    config.teacher_patience_s = 2.5
    start = time.monotonic()
    build = build_traces(generator, sandbox, config, cache_dir=tmp_path / "b", teacher={"model": "solver"})
    assert build.stopped.startswith("RateLimitError") and build.rows == [] and time.monotonic() - start < 30


def test_attempt_log_skips_torn_lines_and_admits_one_build_at_a_time(tmp_path):
    log = AttemptLog(tmp_path / "log")
    record = {"key": "a|free", "task": TASK, "question": "q", "tokens": 3, "row": None}
    log.append([record])
    with log.path.open("ab") as f:
        f.write(b'{"key": "b|free", "task": "' + "é".encode()[:1])  # killed mid-record, mid-character
    with pytest.raises(HubInputError, match="another traces build is using the attempt log"):
        AttemptLog(tmp_path / "log")
    log.close()
    again = AttemptLog(tmp_path / "log")
    assert list(again.read()) == [record] and again.path != log.path  # a fresh shard: the torn tail stays alone
    again.close()


@pytest.mark.slow  # three CLI runs in subprocesses (~20-60 s)
def test_push_to_local_hub_is_tagged_and_idempotent(teacher, tmp_path):
    from tests.hub_server import HubServer
    from tests.test_hub_tools import _client_env

    key = "sk-teacher-key-never-published"
    cmd = [sys.executable, "-m", "r1ci_cli", "traces", "build", "--model", "solver", "--base-url", teacher.base_url,
           "--tasks", TASK, "--max-per-task", "2", "--attempts-per-task", "4", "--max-new-tokens", "256",
           "--temperature", "0", "--cache-dir", str(tmp_path / "cache"), "--output-dir", str(tmp_path / "out"),
           "--push-to-hub", "org/R1-CI-SFT-traces"]  # fmt: skip
    with HubServer() as hub:
        env = {**_client_env(hub, tmp_path / "home"), "OPENAI_API_KEY": key}
        runs = [subprocess.run(cmd, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=240)]
        runs.append(subprocess.run(cmd, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=240))
        teacher.fail_with = 401  # the teacher stops answering half-way: the partial build is not published
        more = [*cmd[: cmd.index("--max-per-task") + 1], "3", *cmd[cmd.index("--max-per-task") + 2 :]]
        stopped = subprocess.run(more, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=240)
        repo = hub.state.repos[("dataset", "org/R1-CI-SFT-traces")]
    assert stopped.returncode == 1 and "not pushed to org/R1-CI-SFT-traces" in " ".join(stopped.stdout.split())
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr[-3000:] + runs[1].stderr[-3000:]
    first, second = (" ".join(r.stdout.split()) for r in runs)  # rich wraps lines
    assert "(new commit" in first and "(unchanged, no new commit" in second
    assert len(repo.commits) == 2 and list(repo.tags.values()) == [repo.branches["main"]]
    assert next(iter(repo.tags)).startswith("traces-")
    head = repo.commits[repo.branches["main"]]
    assert "images/code_calls.png" in head.files and "default/train-00000-of-00001.parquet" in head.files
    published = b"".join(f.data for f in head.files.values()) + (head.title + head.message).encode()
    assert key.encode() not in published and key not in runs[0].stdout + runs[0].stderr


class _AnswerOnlyInOutput(SolverTeacher):
    """Prints the right answer inside <<<>>> from its code and never writes it itself."""

    def reply(self, messages: list[dict]) -> str:
        last = messages[-1]
        if last["role"] == "user" and last["content"].startswith("Code Execution Results:"):
            return "The answer is shown above."
        question = next(m["content"] for m in messages if m["role"] == "user")
        product = question.split("result of ")[1].split("?")[0]
        return f"```python\nprint('<<<' + str({product}) + '>>>')\n```\n"


def test_an_answer_only_in_interpreter_output_is_never_accepted(sandbox, tmp_path):
    sneaky = _AnswerOnlyInOutput()
    try:
        generator = get_generator("openai", model="x", base_url=sneaky.base_url, api_key="k", temperature=0)
        config = TraceBuildConfig(tasks=[TASK], max_per_task=3, attempts_per_task=6, batch_size=3, max_new_tokens=256)
        build = build_traces(generator, sandbox, config, cache_dir=tmp_path, teacher={"model": "sneaky"})
    finally:
        sneaky.close()
    assert build.tally[TASK].attempted == 6 and build.rows == []


# -- the offline solver teacher --------------------------------------------------------------------


class _LyingSandbox(Sandbox):
    """Runs nothing and reports a fixed output: the solver teacher must answer what execution printed."""

    name = "lying"

    def __init__(self, printed: str) -> None:
        self.printed = printed
        self.codes: list[str] = []

    async def arun(self, code, timeout=60.0):
        self.codes.append(code)
        return ExecutionResult(stdout=self.printed + "\n", exit_code=0, isolation="test")


def test_solver_teacher_traces_verify_with_the_real_sandbox_output(sandbox, tmp_path, capsys):
    out = tmp_path / "traces"
    argv = ["traces", "build", "--teacher", "solver", "--tasks", f"{TASK},symbench/letters", "--complexity", "1-2",
            "--styles", "free", "--max-per-task", "6", "--attempts-per-task", "8", "--cache-dir", str(tmp_path / "c"),
            "--output-dir", str(out)]  # fmt: skip
    assert main(argv) == 0
    rows = load_dataset(str(out), "default", split="train")
    assert {r["task"] for r in rows} == {TASK, "symbench/letters"} and len(rows) == 12
    for row in rows:
        task = get_task(row["task"])
        text = row["messages"][-1]["content"]
        ((start, end),) = row["inserted_spans"]
        printed = text[start:end].removeprefix("\nCode Execution Results: ").strip()
        assert text[:start].endswith("```") and text[end:] == f"\n<<<{printed}>>>"  # answered after the output
        entry = next(e for e in task.generate(8, seed=0, levels=(1, 2)) if e["id"] == row["id"])
        assert entry["metadata"]["complexity"] <= 2 and printed == entry["answer"]
        assert task.score(text, entry, inserted_spans=row["inserted_spans"]) == 1.0
        assert json.loads(row["teacher"])["backend"] == "solver"
    assert '"backend": "solver"' in (out / "README.md").read_text()  # the teacher choice is in the card


def test_solver_teacher_answers_what_ran_not_the_reference(tmp_path):
    from dataset_builders.solver_teacher import SolverTeacher as OfflineSolver

    task = get_task(TASK)
    lying = _LyingSandbox("12345")
    config = TraceBuildConfig(tasks=[TASK], max_per_task=3, attempts_per_task=3, styles=("free",))
    build = build_traces(OfflineSolver([task]), lying, config, cache_dir=tmp_path, teacher={"backend": "solver"})
    assert build.rows == [] and build.tally[TASK].attempted == 3  # wrong output, wrong answer: nothing kept
    assert len(lying.codes) == 3 and all(c.startswith("print(") for c in lying.codes)


def test_solver_teacher_refuses_tasks_without_a_solver(capsys, tmp_path):
    argv = ["traces", "build", "--teacher", "solver", "--tasks", "symbench/game24", "--output-dir", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "symbench/game24 has none" in err and TASK in err
    assert main(["traces", "build", "--teacher", "openai", "--tasks", TASK, "--output-dir", str(tmp_path)]) == 2
    assert "needs --model" in capsys.readouterr().err


def test_solver_teacher_build_with_levels_past_a_task_stops_with_one_sentence(capsys, tmp_path):
    for levels, said in (("11", "symbench/number_multiply has levels 1-10"), ("1-x", "a level or a range")):
        argv = ["traces", "build", "--teacher", "solver", "--tasks", TASK, "--complexity", levels,
                "--cache-dir", str(tmp_path / "c"), "--output-dir", str(tmp_path / "out")]  # fmt: skip
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err


def test_solver_teacher_gives_no_answer_to_a_question_it_cannot_read():
    from code_interpreter.generation import GenerationRequest
    from dataset_builders.solver_teacher import NO_SOLVER
    from dataset_builders.solver_teacher import SolverTeacher as OfflineSolver

    hostile = "What is the result of __import__('os').system('id')?\nReturn your answer with the format <<<number>>>."
    request = GenerationRequest(
        messages=[{"role": "user", "content": hostile}], completion="", prompt_ids=None, completion_ids=None,
        max_new_tokens=64,
    )  # fmt: skip
    (chunk,) = OfflineSolver([get_task(TASK)]).generate([request])
    assert chunk.text == NO_SOLVER and chunk.finish == "eos"  # no code built from a question it does not parse
    for digits in ("\u0663*\u0664", "\uff13*\uff14"):  # Arabic-Indic and fullwidth digits: no literal to print
        assert get_task(TASK).solve_with_code(f"What is the result of {digits}?") is None
