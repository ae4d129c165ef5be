"""The R1-CI Space: chat with a model and watch its code run live; browse transcripts of many episodes.

Run locally with `r1ci demo [--model ID_OR_PATH] [--port N]`; on a Hugging Face Space this file is
the app (the Space runs `python spaces_demo/app.py`), configured by Space variables:
R1CI_DEMO_MODEL, R1CI_DEMO_BACKEND, R1CI_DEMO_BASE_URL, R1CI_DEMO_SANDBOX, R1CI_DEMO_DATASET.

Endpoint names are pinned (`api_name`), so scripts can drive the app with `gradio_client`:
/respond (question and settings -> the chat, and an update of the question box), /stop,
/check_answer, /clear_chat, /pick_example, /open_dataset, /filter_transcripts, /show_transcript.
"""

from __future__ import annotations

import os
import sys
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script, as a Space does: the toolkit's packages sit beside this folder
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gradio as gr  # noqa: E402

from code_interpreter.errors import InputError  # noqa: E402
from spaces_demo.example_questions import example_entries, example_label  # noqa: E402
from spaces_demo.live_chat import (  # noqa: E402
    BACKENDS,
    SANDBOXES,
    ChatSession,
    ChatSettings,
    GeneratorFactory,
    ModelCache,
    check_answer,
    run_turn,
    stop_turn,
)
from spaces_demo.space_repo import card_defaults  # noqa: E402
from spaces_demo.transcript_view import turn_messages, user_message, verdict_message  # noqa: E402
from spaces_demo.transcripts import (  # noqa: E402
    CODE_CALLS,
    VERDICTS,
    Transcript,
    filter_transcripts,
    load_transcripts,
    task_counts,
)

#: The model a Space starts with unless R1CI_DEMO_MODEL names another (a trained R1-CI checkpoint).
DEFAULT_MODEL = "Qwen/Qwen2.5-3B-Instruct"
#: Transcripts listed at most in the Browse picker (filters narrow the rest down).
MAX_LISTED = 500
#: Seconds a chat session (and its sandbox) lives after its last turn.
SESSION_TTL_S = 3600
#: Longest question accepted: task questions are a few thousand characters at most.
MAX_QUESTION_CHARS = 20_000

HEADER = """\
# R1-CI: a model that reasons with a code interpreter
Ask a question. The model reasons in text and, when it helps, writes a Python block; the block runs
in a sandbox the moment it closes, and its output goes back to the model, which continues. Each
question starts a new episode. **Browse** shows recorded episodes (SFT traces, eval details, rollouts) the
same way.
"""


@dataclass
class DemoConfig:
    """How the app starts; the chat's settings panel starts from these values."""

    model: str = DEFAULT_MODEL
    backend: str = "transformers"
    base_url: str | None = None
    sandbox: str = "local"
    temperature: float = 0.7
    max_code_calls: int = 8
    max_new_tokens: int = 1024
    timeout_s: float = 30.0
    concurrency: int = 2
    """Chat turns running at once across all visitors; more wait in the queue."""
    max_queue: int = 64
    allow_local_datasets: bool = True
    """Browse may open local folders; off on a public Space (visitors would read the server's files)."""
    lock_model: bool = False
    """Visitors keep the configured model, backend and endpoint: on a public Space, a free choice would
    let anyone make the server download any model or send requests to any address."""
    dataset: str = ""

    def __post_init__(self) -> None:
        self.settings()  # a bad default fails at start-up, in one sentence
        if self.concurrency < 1 or self.max_queue < 1:
            raise InputError("concurrency and max_queue must be at least 1")

    def settings(self, **overrides: Any) -> ChatSettings:
        """Chat settings: the defaults, with a visitor's choices (`overrides`) where allowed."""
        if self.lock_model:
            overrides = {k: v for k, v in overrides.items() if k not in ("model", "backend", "base_url")}
        values = dict(
            model=self.model,
            backend=self.backend,
            base_url=self.base_url,
            temperature=self.temperature,
            max_code_calls=self.max_code_calls,
            sandbox=self.sandbox,
            max_new_tokens=self.max_new_tokens,
            timeout_s=self.timeout_s,
        )
        return ChatSettings(**{**values, **overrides})

    @classmethod
    def from_env(cls, **overrides: Any) -> DemoConfig:
        """Defaults from R1CI_DEMO_* variables (Space variables), then the Space card's `models:` and
        `datasets:`; Browse opens local datasets only off a Space."""
        env, card = os.environ, card_defaults()
        values: dict[str, Any] = dict(
            model=env.get("R1CI_DEMO_MODEL") or card.get("model") or DEFAULT_MODEL,
            backend=env.get("R1CI_DEMO_BACKEND") or "transformers",
            base_url=env.get("R1CI_DEMO_BASE_URL") or None,
            sandbox=env.get("R1CI_DEMO_SANDBOX") or "local",
            dataset=env.get("R1CI_DEMO_DATASET") or card.get("dataset") or "",
            allow_local_datasets="SPACE_ID" not in env,
            lock_model="SPACE_ID" in env and env.get("R1CI_DEMO_OPEN_SETTINGS", "") not in ("1", "true", "yes"),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def build_demo(
    config: DemoConfig | None = None,
    *,
    factory: GeneratorFactory | None = None,
    examples: list[dict[str, Any]] | None = None,
) -> gr.Blocks:
    """The app. `factory` makes a generator for chat settings (default: `ModelCache`); `examples` are
    task entries for the example picker (default: one per `EXAMPLE_TASKS`)."""
    config = config or DemoConfig()
    factory = factory or ModelCache()
    entries = example_entries() if examples is None else examples
    by_label = {example_label(e): e for e in entries}
    by_question = {e["question"].strip(): e for e in entries}
    # Sessions by browser session, for closing them when their tab closes; weak, so a session the
    # State deleted (time to live) is not kept alive here.
    sessions: weakref.WeakValueDictionary[str, ChatSession] = weakref.WeakValueDictionary()

    async def respond(
        question: str,
        model: str,
        backend: str,
        base_url: str,
        temperature: float,
        max_code_calls: float,
        sandbox: str,
        max_new_tokens: float,
        session: ChatSession,
        request: gr.Request,
    ) -> AsyncIterator[tuple[list[dict[str, Any]], ChatSession, Any]]:
        # The question box is cleared by the first update and left alone after (the visitor may type on).
        if request is not None and request.session_hash:
            sessions[request.session_hash] = session
        if not (question or "").strip():
            yield session.history, session, gr.skip()
            return
        if len(question) > MAX_QUESTION_CHARS:
            gr.Warning(f"The question is {len(question)} characters long; at most {MAX_QUESTION_CHARS} are accepted.")
            yield session.history, session, gr.skip()
            return
        try:
            settings = config.settings(
                model=(model or "").strip(),
                backend=backend,
                base_url=(base_url or "").strip() or None,
                temperature=float(temperature),
                max_code_calls=int(max_code_calls),
                sandbox=sandbox,
                max_new_tokens=int(max_new_tokens),
            )
        except InputError as exc:
            gr.Warning(str(exc))
            yield session.history, session, gr.skip()
            return
        first = True
        async for chat in run_turn(session, question.strip(), settings, factory, by_question):
            yield chat, session, ("" if first else gr.skip())
            first = False

    def stop(session: ChatSession) -> list[dict[str, Any]]:
        return stop_turn(session)

    def check(session: ChatSession) -> list[dict[str, Any]]:
        return check_answer(session)

    def clear_chat(session: ChatSession) -> list[dict[str, Any]]:
        session.clear()
        return []

    def pick_example(label: str) -> str:
        entry = by_label.get(label or "")
        return entry["question"] if entry else ""

    def close_session(request: gr.Request) -> None:
        session = sessions.pop(request.session_hash, None) if request is not None else None
        if session is not None:
            session.close()

    def open_dataset(source: str) -> tuple[Any, ...]:
        try:
            transcripts = load_transcripts(source, allow_local=config.allow_local_datasets)
        except InputError as exc:
            empty = gr.update(choices=[], value=None)
            return None, gr.update(choices=["all"], value="all"), [], f"**Could not open:** {exc}", empty, []
        tasks = ["all", *sorted({t.task for t in transcripts})]
        picker, status = _picker(transcripts, list(range(len(transcripts))))
        first = picker["value"]
        return (
            transcripts,
            gr.update(choices=tasks, value="all"),
            task_counts(transcripts),
            f"Opened **{len(transcripts)}** transcripts from `{source.strip()}`. {status}",
            picker,
            _transcript_chat(transcripts, first),
        )

    def filter_rows(transcripts: list[Transcript] | None, task: str, verdict: str, code_calls: str) -> tuple:
        if not transcripts:
            return gr.update(choices=[], value=None), "Open a dataset first.", []
        picker, status = _picker(transcripts, filter_transcripts(transcripts, task, verdict, code_calls))
        return picker, status, _transcript_chat(transcripts, picker["value"])

    def show_transcript(transcripts: list[Transcript] | None, index: int | None) -> list[dict[str, Any]]:
        return _transcript_chat(transcripts, index)

    with gr.Blocks(title="R1-CI: reasoning with a code interpreter") as demo:
        # A session idle for an hour (or an hour after its tab closed) is deleted, and its sandbox closed.
        session = gr.State(ChatSession, time_to_live=SESSION_TTL_S, delete_callback=lambda s: s.close())
        transcripts = gr.State(None)
        gr.Markdown(HEADER)
        with gr.Tab("Chat", id="chat-tab"):
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label="Episode", height=600, elem_id="chat", layout="panel")
                    with gr.Row():
                        question = gr.Textbox(
                            placeholder="Ask a question that code can help with…",
                            show_label=False,
                            lines=2,
                            scale=6,
                            elem_id="question",
                        )
                        with gr.Column(scale=1, min_width=120):
                            send = gr.Button("Send", variant="primary", elem_id="send")
                            stop_button = gr.Button("Stop", variant="stop", elem_id="stop")
                    with gr.Row():
                        example = gr.Dropdown(
                            choices=list(by_label),
                            value=None,
                            label="Examples from held-out test tasks (their answers can be checked)",
                            elem_id="examples",
                            scale=4,
                        )
                        check_button = gr.Button("Check the answer", elem_id="check", scale=1)
                        clear_button = gr.Button("Clear", elem_id="clear", scale=1)
                with gr.Column(scale=1, min_width=260):
                    with gr.Accordion("Settings", open=True):
                        model = gr.Textbox(
                            value=config.model,
                            label="Model (Hub id, local folder or served name)",
                            interactive=not config.lock_model,
                        )
                        backend = gr.Radio(
                            list(BACKENDS), value=config.backend, label="Backend", interactive=not config.lock_model
                        )
                        base_url = gr.Textbox(
                            value=config.base_url or "",
                            label="Endpoint (openai backend)",
                            interactive=not config.lock_model,
                            placeholder="http://localhost:8000/v1",
                        )
                        temperature = gr.Slider(0, 1.5, value=config.temperature, step=0.05, label="Temperature")
                        max_code_calls = gr.Slider(0, 16, value=config.max_code_calls, step=1, label="Max code calls")
                        sandbox = gr.Radio(list(SANDBOXES), value=config.sandbox, label="Sandbox")
                        max_new_tokens = gr.Slider(
                            16, 8192, value=config.max_new_tokens, step=16, label="Max new tokens (whole turn)"
                        )
        with gr.Tab("Browse", id="browse-tab"):
            gr.Markdown(
                "Open an SFT traces dataset, the details of `r1ci eval` or the `transcripts.jsonl` of `r1ci rollouts` "
                + (
                    "(a local folder or file, or a Hub dataset id)."
                    if config.allow_local_datasets
                    else "(a Hub dataset id)."
                )
            )
            with gr.Row():
                source = gr.Textbox(value=config.dataset, label="Dataset", scale=5, elem_id="browse-source")
                open_button = gr.Button("Open", variant="primary", elem_id="browse-open", scale=1)
            status = gr.Markdown(elem_id="browse-status")
            with gr.Accordion("Per-task counts", open=True):
                counts = gr.Dataframe(
                    headers=["task", "transcripts", "correct", "wrong", "mean code calls"],
                    interactive=False,
                    max_height=240,
                    elem_id="browse-counts",
                )
            with gr.Row():
                task_filter = gr.Dropdown(["all"], value="all", label="Task", elem_id="browse-task")
                verdict_filter = gr.Radio(list(VERDICTS), value="all", label="Verdict", elem_id="browse-verdict")
                calls_filter = gr.Radio(list(CODE_CALLS), value="any", label="Code calls", elem_id="browse-calls")
            picker = gr.Dropdown([], label="Transcript", elem_id="browse-picker")
            view = gr.Chatbot(label="Transcript", height=600, elem_id="browse-view", layout="panel")

        settings = [model, backend, base_url, temperature, max_code_calls, sandbox, max_new_tokens]
        chat_events = []
        for trigger, visibility in ((send.click, "public"), (question.submit, "private")):
            event = trigger(
                respond,
                [question, *settings, session],
                [chatbot, session, question],
                api_name="respond",
                api_visibility=visibility,
                concurrency_limit=config.concurrency,
                concurrency_id="chat",
            )
            chat_events.append(event)
        stop_button.click(stop, [session], [chatbot], cancels=chat_events, queue=False, api_name="stop")
        check_button.click(check, [session], [chatbot], api_name="check_answer")
        clear_button.click(clear_chat, [session], [chatbot], api_name="clear_chat")
        example.change(pick_example, [example], [question], api_name="pick_example")
        demo.unload(close_session)

        browse_outputs = [transcripts, task_filter, counts, status, picker, view]
        for trigger, visibility in ((open_button.click, "public"), (source.submit, "private")):
            trigger(open_dataset, [source], browse_outputs, api_name="open_dataset", api_visibility=visibility)
        for component, visibility in ((task_filter, "public"), (verdict_filter, "private"), (calls_filter, "private")):
            component.change(
                filter_rows,
                [transcripts, task_filter, verdict_filter, calls_filter],
                [picker, status, view],
                api_name="filter_transcripts",
                api_visibility=visibility,
            )
        picker.change(show_transcript, [transcripts, picker], [view], api_name="show_transcript")
    demo.queue(default_concurrency_limit=config.concurrency, max_size=config.max_queue)
    return demo


def _picker(transcripts: list[Transcript], indices: list[int]) -> tuple[dict[str, Any], str]:
    shown = indices[:MAX_LISTED]
    choices = [(transcripts[i].label(i), i) for i in shown]
    more = f" (the first {MAX_LISTED} are listed)" if len(indices) > MAX_LISTED else ""
    status = f"{len(indices)} match the filters{more}."
    return gr.update(choices=choices, value=shown[0] if shown else None), status


def _transcript_chat(transcripts: list[Transcript] | None, index: int | None) -> list[dict[str, Any]]:
    if not transcripts or index is None or not 0 <= int(index) < len(transcripts):
        return []
    t = transcripts[int(index)]
    key = f"b{index}"
    messages = [user_message(t.question)]
    messages += turn_messages(t.segments, answer=t.answer, finish_reason=t.finish_reason, error=t.error, key=key)
    if t.score is not None:
        verdict = verdict_message(t.score, t.reference, key=key)
        if t.note:
            verdict["content"] += f"\n\n{t.note}"
        messages.append(verdict)
    return messages


if __name__ == "__main__":
    build_demo(DemoConfig.from_env()).launch()
