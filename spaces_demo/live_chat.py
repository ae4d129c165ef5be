"""The live chat: one R1-CI episode per question, streamed to the page while it runs.

The episode is the toolkit's own (`EpisodeRunner.new_episode` + `step`, so the demo follows the
protocol byte for byte); it runs in a background thread and the page polls what it has so far:
tokens as the transformers streamer or the endpoint's stream hands them over, each python block once it closes, its output
once the sandbox returns. The stop button cancels the polling coroutine; its `finally` stops
generation (an extra stopping criterion) and, if a snippet is running, closes the session's
sandbox, which kills the snippet (the next question gets a fresh sandbox).

Each browser session has a `ChatSession`: its chat history, its own sandbox (created at its first
question, closed when the tab closes) and what the "check the answer" action needs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from code_interpreter import ProtocolConfig, get_sandbox
from code_interpreter.episode import Episode, EpisodeRunner
from code_interpreter.errors import InputError
from code_interpreter.generation import Generator, OpenAIGenerator, TransformersGenerator
from code_interpreter.sandboxes.base import Sandbox
from hub_tools.checkpoints import load_model_and_tokenizer, released_checkpoint
from spaces_demo.transcript_view import note_message, settle, turn_messages, user_message, verdict_message

log = logging.getLogger(__name__)

BACKENDS = ("transformers", "openai")
SANDBOXES = ("local", "e2b")
#: Seconds between two looks at a running episode: fast enough to feel live, cheap on a queue.
POLL_S = 0.05


@dataclass(frozen=True)
class ChatSettings:
    """What the settings panel chooses; checked before anything loads."""

    model: str
    backend: str = "transformers"
    base_url: str | None = None
    temperature: float = 0.7
    max_code_calls: int = 8
    sandbox: str = "local"
    max_new_tokens: int = 1024
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if not self.model or not self.model.strip():
            raise InputError("choose a model: a Hub model id, a local folder, or the served name on an endpoint")
        if self.backend not in BACKENDS:
            raise InputError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.sandbox not in SANDBOXES:
            raise InputError(f"sandbox must be one of {', '.join(SANDBOXES)}, got {self.sandbox!r}")
        if not 0 <= self.temperature <= 2:
            raise InputError(f"temperature must be between 0 and 2, got {self.temperature}")
        if not 0 <= self.max_code_calls <= 16:
            raise InputError(f"max code calls must be between 0 and 16, got {self.max_code_calls}")
        if not 1 <= self.max_new_tokens <= 32768:
            raise InputError(f"max new tokens must be between 1 and 32768, got {self.max_new_tokens}")
        if self.timeout_s <= 0:
            raise InputError(f"the code timeout must be positive, got {self.timeout_s}")

    @property
    def protocol(self) -> ProtocolConfig:
        # The paper's released checkpoints were trained under its looser answer rule: an answer their
        # code prints counts (hub_tools.checkpoints.RELEASED); every other model answers in its own text.
        released = released_checkpoint(self.model)
        answer_source = released.protocol["answer_source"] if released else "model"
        return ProtocolConfig(timeout_s=self.timeout_s, max_code_calls=self.max_code_calls, answer_source=answer_source)


#: Makes the generator of one turn; it must return a new generator object per call (a turn sets its
#: own streamer and stop criterion on it), which may share a loaded model with others.
GeneratorFactory = Callable[[ChatSettings], Generator]


class ModelCache:
    """Generators for chat settings; local models are loaded once per process and shared by sessions.

    At most `size` local models stay loaded (least recently used goes first): on a public Space every
    visitor may name a model, and memory is the limit.
    """

    def __init__(self, size: int = 1) -> None:
        self.size = size
        self._models: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, settings: ChatSettings) -> Generator:
        if settings.backend == "openai":
            # Endpoint failures surface per request as the episode's generator_error, shown in the chat.
            return OpenAIGenerator(
                settings.model,
                base_url=settings.base_url or None,
                temperature=settings.temperature,
                max_retries=1,
                request_timeout=120.0,
            )
        model, tokenizer = self._load(settings.model.strip())
        return TransformersGenerator(model, tokenizer, temperature=settings.temperature, compute_logprobs=False)

    def _load(self, name: str) -> tuple[Any, Any]:
        with self._lock:  # one load at a time: two sessions asking for the same model load it once
            if name in self._models:
                self._models.move_to_end(name)
                return self._models[name]
            # Any layout: fp32 Hub weights load in bf16, the paper's DeepSpeed dumps convert once (hub_tools.checkpoints).
            self._models[name] = load_model_and_tokenizer(name)
            while len(self._models) > self.size:
                self._models.popitem(last=False)
            return self._models[name]


class ChatSession:
    """One browser session: its chat, its sandbox, and its last episode (for the answer check)."""

    def __init__(self) -> None:
        self.history: list[dict[str, Any]] = []
        self.turns = 0
        self.last: dict[str, Any] | None = None
        """The last finished episode: completion, inserted spans, answer and the example entry, if any."""
        self.live: list[dict[str, Any]] = []
        """Messages of the turn in progress, as last shown."""
        self.current: str | None = None
        self.turn: LiveTurn | None = None
        """The episode of the last turn (running or not)."""
        """Key of the turn in progress; a stop clears it, and that turn then shows nothing more."""
        self._sandbox: Sandbox | None = None
        self._sandbox_name: str | None = None
        self._lock = threading.Lock()

    def sandbox_for(self, name: str) -> Sandbox:
        """This session's sandbox of kind `name`, started on first use."""
        with self._lock:
            if self._sandbox is not None and self._sandbox_name == name:
                return self._sandbox
            old, self._sandbox = self._sandbox, None
            if old is not None:
                old.close()
            if name == "local":
                # One question at a time per session: a small worker, one spare warm.
                self._sandbox = get_sandbox("local", spares=1, max_concurrency=2)
            else:
                self._sandbox = get_sandbox(name, pool_size=1)
            self._sandbox_name = name
            return self._sandbox

    def kill_sandbox(self) -> None:
        """Close the sandbox, killing whatever snippet runs; the next question starts a new one."""
        with self._lock:
            sandbox, self._sandbox = self._sandbox, None
        if sandbox is not None:
            sandbox.close()

    def close(self) -> None:
        self.kill_sandbox()

    def clear(self) -> None:
        self.history, self.live, self.last = [], [], None

    def __deepcopy__(self, memo: dict) -> ChatSession:
        # gradio deep-copies a State's initial value; a session holds threads and processes, never copied.
        return ChatSession()


def _streamer(tokenizer: Any, turn: LiveTurn) -> Any:
    """A transformers streamer that hands decoded text to `turn` as `model.generate` produces it."""
    from transformers import TextStreamer

    class Streamer(TextStreamer):
        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            turn.on_text(text)

    return Streamer(tokenizer, skip_prompt=True, skip_special_tokens=True)


def _cancel_criterion(event: threading.Event) -> Any:
    import torch
    from transformers import StoppingCriteria

    class Cancelled(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full((input_ids.shape[0],), event.is_set(), dtype=torch.bool, device=input_ids.device)

    return Cancelled()


class TurnStopped(RuntimeError):
    """Raised inside generation to abandon a stopped turn's request."""


class LiveTurn:
    """One episode running in a background thread, observed through `messages()`."""

    def __init__(self, generator: Generator, sandbox: Sandbox, settings: ChatSettings, question: str, key: str):
        self.runner = EpisodeRunner(generator, sandbox, settings.protocol, max_new_tokens=settings.max_new_tokens)
        self.question, self.key = question, key
        self.cancel = threading.Event()
        self.episode: Episode | None = None
        self.error: str | None = None
        self.finished = threading.Event()
        self._lock = threading.Lock()
        self._text: list[str] = []
        self._round_start = 0
        if isinstance(generator, TransformersGenerator):
            generator.streamer = _streamer(generator.tokenizer, self)
            generator.extra_stopping_criteria = [_cancel_criterion(self.cancel)]
        elif isinstance(generator, OpenAIGenerator):
            generator.on_text = self._on_endpoint_text
        self._thread = threading.Thread(target=self._run, name="r1ci-demo-turn", daemon=True)

    def start(self) -> LiveTurn:
        self._thread.start()
        return self

    def on_text(self, text: str) -> None:
        with self._lock:
            self._text.append(text)

    def _on_endpoint_text(self, text: str) -> None:
        if self.cancel.is_set():  # stopped: abandon the streamed request (its connection is closed)
            raise TurnStopped("the turn was stopped")
        self.on_text(text)

    def _run(self) -> None:
        try:
            episode = self.runner.new_episode(self.question)
            self.episode = episode
            while not episode.done and not self.cancel.is_set():
                with self._lock:
                    self._round_start, self._text = len(episode.segments), []
                self.runner.step([episode])
        except Exception as exc:  # shown in the chat; the page stays alive
            log.exception("demo episode failed")
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.finished.set()

    @property
    def executing(self) -> bool:
        """A snippet of this turn is in the sandbox right now."""
        ep = self.episode
        if ep is None or ep.done or self.finished.is_set():
            return False
        segs = list(ep.segments)
        return bool(segs) and len(segs) > self._round_start and segs[-1].role == "model" and segs[-1].code is not None

    def messages(self) -> list[dict[str, Any]]:
        """What to show now."""
        ep = self.episode
        if self.finished.is_set():
            if ep is None:
                return [note_message(self.error or "The episode did not start.", title="Error", key=self.key)]
            return turn_messages(
                [_seg(s) for s in ep.segments],
                answer=ep.answer,
                finish_reason=ep.finish_reason if self.error is None else "generator_error",
                error=ep.error or self.error,
                key=self.key,
            )
        if ep is None:
            return turn_messages([], phase="generating", key=self.key)
        with self._lock:
            segs = [_seg(s) for s in ep.segments]
            live = "".join(self._text) if len(segs) == self._round_start else None
        if live is not None:
            return turn_messages([*segs, {"role": "model", "text": live}], phase="generating", key=self.key)
        running = bool(segs) and not ep.done and segs[-1]["role"] == "model" and segs[-1].get("code") is not None
        return turn_messages(segs, phase="running" if running else "generating", key=self.key)


def _seg(segment: Any) -> dict[str, Any]:
    return {"role": segment.role, "text": segment.text, "code": segment.code, "execution": segment.execution}


async def run_turn(
    session: ChatSession,
    question: str,
    settings: ChatSettings,
    factory: GeneratorFactory,
    examples: dict[str, dict[str, Any]] | None = None,
) -> AsyncIterator[list[dict[str, Any]]]:
    """Ask one question; yields the whole chat each time it changes. Errors become chat messages.

    While the turn runs, `session.live` holds its messages (the question first), so a stop button
    can settle them; a finished turn moves them into `session.history`.
    """
    session.turns += 1
    key = f"t{session.turns}"
    asked = user_message(question)
    loading = note_message("", title="Loading the model…", key=key)
    loading["metadata"]["status"] = "pending"
    session.live, session.current = [asked, loading], key
    yield session.history + session.live
    turn: LiveTurn | None = None
    try:
        try:
            generator = await asyncio.to_thread(factory, settings)
            sandbox = await asyncio.to_thread(session.sandbox_for, settings.sandbox)
        except Exception as exc:  # a model that fails to load or a sandbox that cannot start: say so
            what = "InputError" if isinstance(exc, InputError) else type(exc).__name__
            session.live = [asked, note_message(f"{what}: {exc}", title="Could not start", key=key)]
        else:
            turn = session.turn = LiveTurn(generator, sandbox, settings, question, key).start()
            while session.current == key:
                finished = turn.finished.is_set()
                current = [asked, *turn.messages()]
                if current != session.live:
                    session.live = current
                    yield session.history + current
                if finished:
                    break
                await asyncio.sleep(POLL_S)
            if turn.finished.is_set() and turn.episode is not None:
                ep = turn.episode
                session.last = {
                    "completion": ep.completion,
                    "inserted_spans": ep.inserted_spans,
                    "answer": ep.answer,
                    "answer_source": ep.answer_source,
                    "entry": (examples or {}).get(question.strip()),
                    "key": key,
                }
    finally:
        if turn is not None and not turn.finished.is_set():  # stopped: end generation, kill a running snippet
            running = turn.executing
            turn.cancel.set()
            if running:
                session.kill_sandbox()
    if session.current == key:
        session.history, session.live, session.current = session.history + session.live, [], None
    yield session.history


def stop_turn(session: ChatSession) -> list[dict[str, Any]]:
    """The chat after the stop button: the turn in progress is kept, its spinners stopped."""
    if session.live:
        session.history = session.history + settle(session.live, "Stopped by the user.")
    session.live, session.current = [], None
    return session.history


def check_answer(session: ChatSession) -> list[dict[str, Any]]:
    """Append the verifier's verdict on the last answer to the chat."""
    from dataset_builders import get_task

    last = session.last
    key = last["key"] if last else f"t{session.turns}"
    if last is None:
        msg = verdict_message(None, None, key=key, reason="Ask a question first, then check its answer.")
    elif last["entry"] is None:
        msg = verdict_message(
            None,
            None,
            key=key,
            reason="This question is not one of the example questions, so there is no reference to check "
            "against: pick one under Examples and ask it.",
        )
    elif last["answer"] is None:
        msg = verdict_message(0.0, last["entry"]["answer"], key=key)
        msg["content"] = "No final <<<answer>>> to check: score 0.\n\n" + msg["content"]
    else:
        entry = last["entry"]
        score = get_task(entry["task"]).score(
            last["completion"], entry, inserted_spans=last["inserted_spans"], answer_source=last["answer_source"]
        )
        msg = verdict_message(score, entry["answer"], key=key)
    session.history = [*session.history, msg]
    return session.history
