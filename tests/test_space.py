"""The Space: driven through gradio_client (scripted model and the real tiny model), its pieces
(turn rendering of hostile text, transcript adapters, the stop clean-up) and `r1ci space push`
against the local Hub server."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import re
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from code_interpreter.errors import InputError
from spaces_demo.live_chat import ChatSession, ChatSettings, run_turn
from spaces_demo.space_repo import OTHER_PACKAGES, SPACE_PACKAGES, stage_space
from spaces_demo.transcript_view import fenced, safe_markdown, settle, turn_messages
from spaces_demo.transcripts import filter_transcripts, load_transcripts, task_counts, transcript_from_row
from tests.hub_server import HubServer
from tests.space_doubles import (
    CODE_QUESTION,
    LONG_QUESTION,
    StreamingEndpoint,
    example_entries,
    scripted_factory,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENDPOINTS = {
    "/respond",
    "/stop",
    "/check_answer",
    "/clear_chat",
    "/pick_example",
    "/open_dataset",
    "/filter_transcripts",
    "/show_transcript",
}


def _client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False)


def _settings(model: str = "scripted", backend: str = "transformers", base_url: str = "", max_new_tokens: int = 256):
    # model, backend, base_url, temperature, max_code_calls, sandbox, max_new_tokens: the settings panel
    return (model, backend, base_url, 0.7, 8, "local", max_new_tokens)


def _text(message: dict) -> str:
    content = message["content"]
    return "".join(c.get("text", "") for c in content) if isinstance(content, list) else str(content)


def _titles(chat: list[dict]) -> list[str]:
    return [(m.get("metadata") or {}).get("title") or "" for m in chat]


def _respond(client, question: str, *settings) -> list[dict]:
    """The chat after a whole turn (/respond's second output updates the question box)."""
    chat, _ = client.predict(question, *(settings or _settings()), api_name="/respond")
    return chat


# --- through gradio_client ---------------------------------------------------------------------


def test_respond_streams_a_code_call_and_its_real_output_on_pinned_endpoints(space_url):
    client = _client(space_url)
    assert ENDPOINTS <= set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    job = client.submit(CODE_QUESTION, *_settings(), api_name="/respond")
    chat, _ = job.result(timeout=60)
    outputs = [chat for chat, _ in job.outputs()]
    assert len(outputs) >= 2 and _titles(outputs[0])[-1] == "Loading the model…"  # the page answers at once
    assert job.outputs()[0][1] == ""  # the first update clears the question box, later ones leave it alone
    titles = _titles(chat)
    assert titles[:2] == ["", ""] and chat[0]["role"] == "user"
    code = chat[titles.index("Code · call 1")]
    output = chat[titles.index("Output")]
    assert "math.factorial" in _text(code) and _text(code).startswith("```python")
    assert output["metadata"]["parent_id"] == code["metadata"]["id"]  # nested under its code
    assert "42 120" in _text(output) and output["metadata"]["log"] == "exit 0"  # really executed
    assert _text(chat[titles.index("Final answer")]) == "```\n42\n```"
    cleared = client.predict(api_name="/clear_chat")
    assert cleared == []


def test_stop_endpoint_settles_the_turn_in_progress(space_url):
    client = _client(space_url)
    job = client.submit(LONG_QUESTION, *_settings(), api_name="/respond")
    for _ in range(200):
        outs = job.outputs()
        if outs and "Running…" in _titles(outs[-1][0]):
            break
        job.status()
        asyncio.run(asyncio.sleep(0.05))
    else:
        pytest.fail("the long snippet never started")
    chat = client.predict(api_name="/stop")
    job.cancel()
    assert _titles(chat)[-1] == "Stopped" and "Code (stopped while running)" in _titles(chat)
    assert not any((m.get("metadata") or {}).get("status") == "pending" for m in chat)


@pytest.mark.skipif(bool(os.environ.get("E2B_API_KEY")), reason="an E2B key is set: the sandbox would start")
def test_a_sandbox_that_cannot_start_is_a_chat_message(space_url):
    chat = _respond(_client(space_url), CODE_QUESTION, "scripted", "transformers", "", 0.7, 8, "e2b", 256)
    assert _titles(chat)[-1] == "Could not start" and "E2B_API_KEY" in _text(chat[-1])


def test_check_the_answer_on_an_example_question(space_url):
    from spaces_demo.example_questions import example_label

    right, wrong = example_entries()
    client = _client(space_url)
    assert client.predict(example_label(right), api_name="/pick_example") == right["question"]
    no_turn = client.predict(api_name="/check_answer")
    assert "Ask a question first" in _text(no_turn[-1])
    _respond(client, right["question"])
    verdict = client.predict(api_name="/check_answer")[-1]
    assert verdict["metadata"]["title"] == "Verdict: correct" and right["answer"] in _text(verdict)
    _respond(client, wrong["question"])
    assert client.predict(api_name="/check_answer")[-1]["metadata"]["title"] == "Verdict: wrong"
    _respond(client, CODE_QUESTION)
    none = client.predict(api_name="/check_answer")[-1]
    assert none["metadata"]["title"] == "Verdict: none" and "not one of the example questions" in _text(none)


def test_real_tiny_model_streams_and_errors_read_as_chat_messages(tiny_model_dir):
    from spaces_demo.app import DemoConfig, build_demo

    demo = build_demo(DemoConfig(model=str(tiny_model_dir), max_new_tokens=24), examples=[])
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        client = _client(url)
        job = client.submit("What is 2+3?", *_settings(str(tiny_model_dir), max_new_tokens=24), api_name="/respond")
        chat, _ = job.result(timeout=120)
        streamed = [o for o, _ in job.outputs() if "Thinking…" in _titles(o) or len(o) > 2]
        assert len(streamed) >= 2  # partial text arrived before the turn ended
        titles = _titles(chat)
        assert "Could not start" not in titles and chat[0]["role"] == "user" and len(chat) >= 2
        assert not any((m.get("metadata") or {}).get("status") == "pending" for m in chat)

        missing = _respond(client, "Hi", *_settings("/no/such/model"))
        assert _titles(missing)[-1] == "Could not start" and "does not exist" in _text(missing[-1])
        down = _respond(client, "Hi", *_settings("served", backend="openai", base_url="http://127.0.0.1:9/v1"))
        assert _titles(down)[-1] == "Ended: generator_error" and "Connection" in _text(down[-1])
    finally:
        demo.close()


def test_an_openai_compatible_endpoint_streams_into_the_chat():
    from spaces_demo.live_chat import ModelCache

    async def scenario(url: str) -> list[list[dict]]:
        settings = ChatSettings(model="served", backend="openai", base_url=url)
        return [chat async for chat in run_turn(ChatSession(), "What is 6*7?", settings, ModelCache())]

    with StreamingEndpoint() as endpoint:
        shown = asyncio.run(scenario(endpoint.url))
    assert all(r["stream"] is True for r in endpoint.requests) and len(endpoint.requests) == 2
    prose = [_text(m) for chat in shown for m in chat if m["role"] == "assistant" and not _titles([m])[0]]
    assert any(0 < len(t) < len("Let me compute it with code.") for t in prose)  # partial text, as it came
    final = shown[-1]
    assert "42" in _text(final[_titles(final).index("Output")]) and _titles(final)[-1] == "Final answer"


# --- the stop clean-up, without a page -----------------------------------------------------------


def test_closing_a_turn_mid_snippet_kills_the_snippet_and_the_sandbox():
    async def scenario() -> ChatSession:
        session = ChatSession()
        settings = ChatSettings(model="scripted", timeout_s=60)
        turn = run_turn(session, LONG_QUESTION, settings, scripted_factory())
        async for _ in turn:
            if session.turn is not None and session.turn.executing:
                break
        await turn.aclose()  # what gradio does when the stop button cancels the event
        return session

    session = asyncio.run(scenario())
    assert session.turn.finished.wait(10)  # the episode thread ended long before the snippet's 120 s
    assert session.turn.cancel.is_set() and session._sandbox is None
    last = session.turn.episode
    assert last.finish_reason == "sandbox_error" and "closed" in last.error


# --- rendering: model text and output are hostile -----------------------------------------------


def test_fences_and_markdown_hold_hostile_text_inert():
    out = fenced("a\n````\nb\x1b[31m\u202e")
    fence = out.split("\n")[0]
    assert fence == "`````" and out.endswith("\n`````") and "\x1b" not in out and "\\x1b[31m" in out
    assert "\\u202e" in out
    md = safe_markdown("<img src=x onerror=alert(1)> ![p](http://evil/p.png) `a<b` and </div>")
    assert "<img" not in md and "&lt;img" in md and "!\\[p]" in md and "`a<b`" in md and "&lt;/div>" in md


def test_rendering_is_fast_on_backtick_floods():
    import time

    from spaces_demo.transcript_view import code_spans

    assert code_spans("`a` ``b`c`` `") == [(0, 3), (4, 11)]
    started = time.monotonic()
    for text in ("`" * 200_000 + "a", "` `` ``` " * 20_000 + "<b>", "```python\n" + "`" * 100_000):
        turn_messages([{"role": "model", "text": text}], phase="generating")
    assert time.monotonic() - started < 5  # a backreference regex took 23 s on 1,000 backticks


def test_turn_messages_nest_outputs_and_say_why_a_turn_ended():
    segments = [
        {"role": "model", "text": "Try.\n```python\nprint(1)\n```\n", "code": "print(1)\n"},
        {
            "role": "interpreter",
            "text": "\nCode Execution Results: 1\n",
            "execution": {"exit_code": 0, "duration_s": 0.01, "timed_out": False},
        },
        {"role": "model", "text": "Again.\n```python\nwhile True: pass\n```\n", "code": "while True: pass\n"},
    ]
    running = turn_messages(segments, phase="running", key="k")
    assert [m["metadata"].get("title") for m in running] == [None, "Code · call 1", "Output", None, "Running…"]
    assert running[2]["metadata"]["parent_id"] == "k-code-1" and running[2]["content"] == "```\n1\n```"
    assert running[-1]["metadata"]["status"] == "pending"
    capped = turn_messages(segments, finish_reason="max_code_calls", key="k")
    assert capped[-2]["metadata"]["title"] == "Code (not run: code-call cap reached)"
    assert capped[-1]["metadata"]["title"] == "Ended: max_code_calls"
    writing = turn_messages([{"role": "model", "text": "x\n```python\nprint("}], phase="generating")
    assert writing[-1]["metadata"] == {"title": "Writing code…", "status": "pending", "id": "t-code-1"}
    slow = [segments[0], {"role": "interpreter", "text": "\nCode Execution Results: TimeoutError: ...\n",
                          "execution": {"timed_out": True, "duration_s": 30.0, "truncated": True}}]  # fmt: skip
    timed_out = turn_messages(slow, finish_reason="no_answer", key="k")
    assert timed_out[2]["metadata"]["log"] == "timed out · truncated" and timed_out[1]["metadata"]["duration"] == 30.0
    assert "TimeoutError" in timed_out[2]["content"] and timed_out[-1]["metadata"]["title"] == "Ended: no_answer"
    stopped = settle(running, "Stopped by the user.")
    assert "Code (stopped while running)" in _titles(stopped) and _titles(stopped)[-1] == "Stopped"
    with pytest.raises(ValueError, match="phase"):
        turn_messages([], phase="later")


# --- Browse: adapters, filters, counts ------------------------------------------------------------


def test_browse_reads_rollouts_and_traces_alike(space_datasets):
    rollouts = load_transcripts(str(space_datasets["rollouts"]))
    same = load_transcripts(str(space_datasets["rollouts"].parent))
    traces = load_transcripts(str(space_datasets["traces"]))
    assert len(rollouts) == len(same) == 6 and len(traces) == 3
    assert {t.verdict for t in traces} == {"correct"} and traces[0].note
    by_id = {t.id: t for t in rollouts}
    for trace in traces:  # the same episode read from spans renders like the one read from segments
        rollout = by_id[trace.id]
        assert [s["text"] for s in trace.segments] == [s["text"] for s in rollout.segments]
        assert [s["code"] for s in trace.segments] == [s["code"] for s in rollout.segments]
    assert filter_transcripts(rollouts, verdict="wrong") == [1, 4, 5]
    assert filter_transcripts(rollouts, task="symbench/light_puzzles", code_calls="1") == [4]
    assert filter_transcripts(rollouts, code_calls="3+") == []
    assert task_counts(rollouts) == [
        ["reasoning_gym/prime_factorization", 4, 2, 2, 1.0],
        ["symbench/light_puzzles", 2, 1, 1, 0.5],
    ]


def test_browse_reads_eval_details_rows_like_rollouts(space_datasets):
    from dataset_builders import get_task
    from tests.space_doubles import _episodes
    from trainers.evaluation import sample_record

    rows = [sample_record("code", get_task(e["task"]), e, ep, score) for ep, e, score in _episodes()]
    details = [transcript_from_row(json.loads(json.dumps(r))) for r in rows]  # as a dataset stores them
    rollouts = load_transcripts(str(space_datasets["rollouts"]))
    assert [(t.task, t.id, t.verdict, t.answer, t.reference, t.num_code_calls) for t in details] == [
        (t.task, t.id, t.verdict, t.answer, t.reference, t.num_code_calls) for t in rollouts
    ]
    assert [t.segments for t in details] == [t.segments for t in rollouts]
    assert {t.extra["kind"] for t in details} == {"eval"} and details[0].extra["mode"] == "code"


def test_browse_refuses_bad_sources_in_one_sentence(tmp_path, space_datasets):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"segments": []}\nnot json\n')
    with pytest.raises(InputError, match="line 2 is not JSON"):
        load_transcripts(str(bad))
    with pytest.raises(InputError, match="needs `segments`"):
        transcript_from_row({"question": "q"})
    with pytest.raises(InputError, match="out of order"):
        transcript_from_row({"messages": [{"role": "assistant", "content": "ab"}], "inserted_spans": [[1, 9]]})
    with pytest.raises(InputError, match="local paths are off"):
        load_transcripts(str(space_datasets["rollouts"]), allow_local=False)
    with pytest.raises(InputError, match="neither an existing folder"):
        load_transcripts("nothing-here")
    with pytest.raises(InputError, match="verdict must be"):
        filter_transcripts([], verdict="maybe")


# --- the Space repo --------------------------------------------------------------------------------


def test_settings_and_cli_errors_are_one_sentence():
    import argparse

    from spaces_demo import cli

    with pytest.raises(InputError, match="backend must be"):
        ChatSettings(model="m", backend="carrier-pigeon")
    with pytest.raises(InputError, match="temperature"):
        ChatSettings(model="m", temperature=-1)
    parser = argparse.ArgumentParser()
    cli.make_parser(parser.add_subparsers())
    args = parser.parse_args(["demo", "--model", "/no/such/model"])
    with pytest.raises(InputError, match="does not exist"):  # before any page is served
        args.func(args)


def _third_party_imports(root: Path) -> set[str]:
    names: set[str] = set()
    for package in SPACE_PACKAGES:
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    first_party = {*SPACE_PACKAGES, *OTHER_PACKAGES, "__future__"}
    return {n for n in names if n not in sys.stdlib_module_names and n not in first_party}


def test_space_requirements_cover_every_import_and_match_pyproject():
    import tomllib

    required = {}
    for line in (PROJECT_ROOT / "spaces_demo" / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name = re.split(r"[<>=!~ ]", line.strip())[0]
            required[re.sub(r"[-_.]+", "-", name).lower()] = line.strip()
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        re.sub(r"[-_.]+", "-", re.split(r"[<>=!~ ]", spec)[0]).lower(): spec
        for spec in [*project["dependencies"], *project["optional-dependencies"]["e2b"]]
    }
    assert {k: v for k, v in required.items() if declared.get(k) != v} == {}  # same pins as the toolkit
    dists = packages_distributions()
    missing = {
        module
        for module in _third_party_imports(PROJECT_ROOT)
        if not {re.sub(r"[-_.]+", "-", d).lower() for d in dists.get(module, [module])} & (set(required) | {"gradio"})
    }
    # installed by what is required (math-verify, e2b-code-interpreter, huggingface_hub), GPU-only (vllm), or
    # optional with a one-sentence error when absent (deepspeed: only to convert DeepSpeed-dump checkpoints)
    assert missing <= {"latex2sympy2_extended", "e2b", "httpx", "vllm", "deepspeed"}, missing


_PUSH = """
import argparse, json, sys
from spaces_demo import cli
parser = argparse.ArgumentParser()
cli.make_parser(parser.add_subparsers())
for model in ("org/R1-CI-7B", "org/R1-CI-14B"):
    args = parser.parse_args(["space", "push", "--repo", "org/R1-CI-demo", "--model", model,
                              "--dataset", "org/R1-CI-SFT-traces", "--hardware", "a10g-small"])
    args.func(args)
# Browse reads a Hub dataset the same way as a local folder
from hub_tools.publish import push_folder
from spaces_demo.transcripts import load_transcripts
push_folder(sys.argv[1], "org/R1-CI-SFT-traces", summary="traces")
print(json.dumps([t.id for t in load_transcripts("org/R1-CI-SFT-traces", allow_local=False)]))
"""


def test_space_push_uploads_a_self_contained_space_and_browse_reads_the_hub(tmp_path, space_datasets):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(HF_HUB_DISABLE_XET="1", HF_HOME=str(tmp_path / "home"), HF_HUB_OFFLINE="0", HF_TOKEN="hf_test_token")
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    with HubServer() as hub:
        env["HF_ENDPOINT"] = hub.url
        traces = str(space_datasets["traces"])
        proc = subprocess.run(
            [sys.executable, "-c", _PUSH, traces], env=env, capture_output=True, text=True, timeout=180
        )
        repo = hub.state.repos.get(("space", "org/R1-CI-demo"))
        head = repo.commits[repo.branches["main"]] if repo else None
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("new commit") == 2 and "/spaces/org/R1-CI-demo" in proc.stdout
    files = head.files
    readme = files["README.md"].data.decode()
    assert {"spaces_demo/app.py", "code_interpreter/episode.py", "requirements.txt", "packages.txt"} <= set(files)
    assert not any("__pycache__" in f or f.startswith("spaces_demo/README") for f in files)
    assert "sdk: gradio" in readme and "app_file: spaces_demo/app.py" in readme
    assert "- org/R1-CI-14B" in readme and "- org/R1-CI-7B" not in readme  # the second push replaced the card
    assert "- org/R1-CI-SFT-traces" in readme and "suggested_hardware: a10g-small" in readme
    local = [t.id for t in load_transcripts(str(space_datasets["traces"]))]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == local


def test_staged_space_imports_its_own_copy_and_reads_its_card(tmp_path, monkeypatch):
    from spaces_demo.app import DemoConfig
    from spaces_demo.space_repo import card_defaults

    stage = stage_space(tmp_path / "space", model="org/R1-CI-7B", dataset="org/traces")
    # run from the Space's root, as the Space does: its own copies are imported, its card is read, and
    # the app's modules (gradio aside) with all tasks loaded need none of the packages left out
    script = (
        "import json, sys, spaces_demo.live_chat, spaces_demo.transcripts, spaces_demo.space_repo as s;"
        "import code_interpreter as c;"
        "from dataset_builders import list_tasks; list_tasks();"
        "left_out = sorted(m for m in sys.modules if m.split('.')[0] in s.OTHER_PACKAGES);"
        "print(json.dumps([s.__file__, c.__file__, s.card_defaults(), left_out]))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=stage, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    repo_file, package_file, card, left_out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert left_out == [] and not any((stage / name).exists() for name in OTHER_PACKAGES)
    assert repo_file.startswith(str(stage)) and package_file.startswith(str(stage))
    assert card == {"model": "org/R1-CI-7B", "dataset": "org/traces"} == card_defaults((stage / "README.md",))
    monkeypatch.setenv("SPACE_ID", "org/R1-CI-demo")
    monkeypatch.delenv("R1CI_DEMO_MODEL", raising=False)
    config = DemoConfig.from_env()
    assert config.allow_local_datasets is False and config.model == "Qwen/Qwen2.5-3B-Instruct"  # the repo's card
    # a visitor cannot make the Space download another model or call another address
    chosen = config.settings(model="someone/huge-model", backend="openai", base_url="http://169.254.169.254/v1")
    assert (chosen.model, chosen.backend, chosen.base_url) == (config.model, "transformers", None)
    assert config.settings(temperature=0.2).temperature == 0.2
    with pytest.raises(InputError, match="not empty"):
        stage_space(stage)
