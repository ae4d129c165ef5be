"""The episode loop: run R1-CI episodes, round-based or asynchronously.

An episode generates until the model stops, runs its snippet in the sandbox, appends the formatted
result and goes on, until it has an answer, ends, runs out of tokens or reaches the code-call cap.
Each episode records its segments, with the character spans (and, for token-level backends, the
token mask and logprobs) of everything the interpreter inserted, so trainers can keep those tokens
out of the loss.

Two modes, same `Episode` objects and the same results for deterministic backends:

- "rounds": generate for every open episode in one batch, then run all pending snippets of the
  batch at once; every episode waits for the slowest snippet of the round. Right for in-process
  engines (transformers, colocated vLLM), which gain from batching.
- "async": each episode advances on its own (generate, run its snippet, generate again), with at
  most `max_concurrent_requests` generation requests and `max_concurrent_snippets` snippets in
  flight, so generation of some episodes overlaps code execution of others. Right for servers (a
  vLLM server, any OpenAI-compatible endpoint). The bounds hold per event loop: episodes driven
  on one loop (`arun`, `arun_episode`) share them; each `run` call has its own.
- "auto" (the default) picks "async" when the generator says `concurrent_requests = True`
  (`OpenAIGenerator`, `VLLMServerGenerator`) and "rounds" otherwise.

API for trainers, evaluation and dataset builders::

    runner = EpisodeRunner(generator, sandbox, ProtocolConfig(), max_new_tokens=1024)
    episodes = runner.run(questions, metadata, on_done=callback)   # blocking, any mode; input order
    episodes = await runner.arun(questions, metadata, on_done=cb)  # inside an event loop ("async")
    episode = await runner.arun_episode(runner.new_episode(q))     # one episode, e.g. a stream

`on_done(episode)` is called as each episode finishes (in completion order), e.g. to log or
score while the others still run. `run` also works when called from inside a running event loop
(the episodes then run on a helper thread). Generation requests run on a thread pool sized
`max_concurrent_requests` (backends keep their blocking `generate`); snippets go to
`await sandbox.arun(...)`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from code_interpreter.errors import InputError
from code_interpreter.generation import Chunk, GenerationRequest, Generator
from code_interpreter.protocol import (
    ProtocolConfig,
    build_messages,
    extract_answer,
    first_closed_python,
    format_output,
    render_result,
)
from code_interpreter.sandboxes.base import ExecutionResult, Sandbox

log = logging.getLogger(__name__)

#: Why an episode ended.
FINISH_REASONS = ("answer", "no_answer", "length", "max_code_calls", "generator_error", "sandbox_error")
#: How `EpisodeRunner` schedules episodes (see the module docstring).
MODES = ("auto", "rounds", "async")
DEFAULT_CONCURRENCY = 16


@dataclass
class Segment:
    """A piece of the assistant turn: model-written text (possibly ending in code) or inserted output."""

    role: str  # "model" | "interpreter"
    text: str
    code: str | None = None
    execution: dict[str, Any] | None = None


@dataclass
class Episode:
    messages: list[dict[str, str]]
    segments: list[Segment] = field(default_factory=list)
    prompt_ids: list[int] | None = None
    completion_ids: list[int] | None = None
    completion_mask: list[int] | None = None
    """Per completion token: 1 if the model wrote it, 0 if the interpreter inserted it."""
    logprobs: list[float] | None = None
    tokens_used: int = 0
    num_code_calls: int = 0
    finish_reason: str | None = None
    error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    answer_source: str = "model"
    """Where `answer` may come from: "model" (only model segments) or "anywhere" (see protocol)."""

    @property
    def done(self) -> bool:
        return self.finish_reason is not None

    @property
    def completion(self) -> str:
        return "".join(s.text for s in self.segments)

    @property
    def inserted_spans(self) -> list[tuple[int, int]]:
        """Character spans of `completion` that the interpreter inserted (mask these from losses)."""
        spans, pos = [], 0
        for s in self.segments:
            if s.role == "interpreter":
                spans.append((pos, pos + len(s.text)))
            pos += len(s.text)
        return spans

    @property
    def answer(self) -> str | None:
        """The last <<<...>>> the model wrote; interpreter segments never supply it (by default)."""
        return extract_answer(self.completion, inserted_spans=self.inserted_spans, answer_source=self.answer_source)

    def rounds(self) -> tuple[list[tuple[str, str]], str]:
        """(model text, result) pairs, and the model text after the last result."""
        pairs, said = [], ""
        for s in self.segments:
            if s.role == "model":
                said += s.text
            else:
                pairs.append((said, s.text))
                said = ""
        return pairs, said

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(completion=self.completion, inserted_spans=self.inserted_spans, answer=self.answer)
        return d


class EpisodeRunner:
    """Runs episodes with one generator and one sandbox, round-based or asynchronously (`mode`).

    `max_new_tokens` bounds each episode's whole assistant turn, inserted results included.
    `max_concurrent_requests` (default: the generator's `max_concurrency`, else 16) and
    `max_concurrent_snippets` (default 16) bound the asynchronous mode.
    """

    def __init__(
        self,
        generator: Generator,
        sandbox: Sandbox,
        config: ProtocolConfig | None = None,
        max_new_tokens: int = 1024,
        tokenizer: Any = None,
        *,
        mode: str = "auto",
        max_concurrent_requests: int | None = None,
        max_concurrent_snippets: int | None = None,
    ) -> None:
        if max_new_tokens <= 0:
            raise InputError(f"max_new_tokens must be positive, got {max_new_tokens}")
        if mode not in MODES:
            raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        requests = max_concurrent_requests or getattr(generator, "max_concurrency", None) or DEFAULT_CONCURRENCY
        snippets = max_concurrent_snippets or DEFAULT_CONCURRENCY
        for name, value in (("max_concurrent_requests", requests), ("max_concurrent_snippets", snippets)):
            if not isinstance(value, int) or value < 1:
                raise InputError(f"{name} must be a positive integer, got {value!r}")
        self.generator, self.sandbox = generator, sandbox
        self.config = config or ProtocolConfig()
        self.max_new_tokens = max_new_tokens
        self.mode = mode
        self.max_concurrent_requests, self.max_concurrent_snippets = requests, snippets
        # Token-level truncation of results uses the policy's tokenizer when there is one.
        self.tokenizer = tokenizer if tokenizer is not None else getattr(generator, "tokenizer", None)
        # Bounds per event loop: `run` from several threads at once (a web app) gets a loop each.
        self._bounds: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Limits] = weakref.WeakKeyDictionary()
        self._bounds_lock = threading.Lock()

    @property
    def asynchronous(self) -> bool:
        """Whether `run` advances episodes independently (see the module docstring)."""
        return self.mode == "async" or (
            self.mode == "auto" and bool(getattr(self.generator, "concurrent_requests", False))
        )

    def new_episode(self, question: str | list[dict[str, str]], metadata: dict[str, Any] | None = None) -> Episode:
        messages = build_messages(question, self.config) if isinstance(question, str) else list(question)
        try:
            prompt_ids = self.generator.encode_prompt(messages)
        except Exception as exc:  # e.g. a malformed message list: this episode ends, the batch goes on
            episode = Episode(
                messages=messages,
                metadata=dict(metadata or {}),
                finish_reason="generator_error",
                answer_source=self.config.answer_source,
            )
            episode.error = f"cannot encode the prompt: {type(exc).__name__}: {exc}"
            return episode
        token_level = prompt_ids is not None
        return Episode(
            messages=messages,
            prompt_ids=prompt_ids,
            completion_ids=[] if token_level else None,
            completion_mask=[] if token_level else None,
            logprobs=[] if token_level else None,
            metadata=dict(metadata or {}),
            answer_source=self.config.answer_source,
        )

    def _new_episodes(
        self, questions: Sequence[str | list[dict[str, str]]], metadata: Sequence[dict] | None
    ) -> list[Episode]:
        if metadata is not None and len(metadata) != len(questions):
            raise InputError(f"got {len(metadata)} metadata dicts for {len(questions)} questions")
        return [self.new_episode(q, m) for q, m in zip(questions, metadata or [None] * len(questions), strict=True)]

    def run(
        self,
        questions: Sequence[str | list[dict[str, str]]],
        metadata: Sequence[dict] | None = None,
        on_done: Callable[[Episode], None] | None = None,
    ) -> list[Episode]:
        """Run one episode per question to the end; results keep input order."""
        episodes = self._new_episodes(questions, metadata)
        if self.asynchronous:
            _run_blocking(lambda: self._arun_all(episodes, on_done, release=True))
            return episodes
        for ep in episodes:
            if ep.done and on_done is not None:
                on_done(ep)
        while open_ := [e for e in episodes if not e.done]:
            self.step(open_)
            for ep in open_:
                if ep.done and on_done is not None:
                    on_done(ep)
        return episodes

    async def arun(
        self,
        questions: Sequence[str | list[dict[str, str]]],
        metadata: Sequence[dict] | None = None,
        on_done: Callable[[Episode], None] | None = None,
    ) -> list[Episode]:
        """Asynchronous episodes, one per question, from inside an event loop; results keep input order."""
        episodes = self._new_episodes(questions, metadata)
        await self._arun_all(episodes, on_done)
        return episodes

    async def arun_episode(self, episode: Episode) -> Episode:
        """Advance one episode to its end; concurrent calls on this runner share its bounds."""
        return await self._advance(episode, self._limits())

    async def _arun_all(
        self, episodes: list[Episode], on_done: Callable[[Episode], None] | None, release: bool = False
    ) -> None:
        limits = self._limits()

        async def one(ep: Episode) -> None:
            await self._advance(ep, limits)
            if on_done is not None:
                on_done(ep)

        try:
            await asyncio.gather(*(one(ep) for ep in episodes))
        finally:
            if release:  # `run` made this event loop and is about to close it
                with self._bounds_lock:
                    self._bounds.pop(asyncio.get_running_loop(), None)
                limits.close()

    def _limits(self) -> _Limits:
        # One set of bounds per event loop, shared by every episode this runner drives on it.
        loop = asyncio.get_running_loop()
        with self._bounds_lock:
            limits = self._bounds.get(loop)
            if limits is None:
                limits = self._bounds[loop] = _Limits(
                    requests=asyncio.Semaphore(self.max_concurrent_requests),
                    snippets=asyncio.Semaphore(self.max_concurrent_snippets),
                    # The backends' blocking `generate` runs here, one request per thread.
                    pool=ThreadPoolExecutor(self.max_concurrent_requests, thread_name_prefix="r1ci-generate"),
                )
        return limits

    async def _advance(self, ep: Episode, limits: _Limits) -> Episode:
        loop = asyncio.get_running_loop()
        while not ep.done:
            request = self._request(ep)
            async with limits.requests:
                chunk = await loop.run_in_executor(limits.pool, self._generate_one, request)
            code = self._take_chunk(ep, chunk)
            if code is None:
                continue
            async with limits.snippets:
                result = await self._aexecute_one(code)
            self._append_result(ep, result)
        return ep

    def _generate_one(self, request: GenerationRequest) -> Chunk | Exception:
        try:
            chunks = list(self.generator.generate([request]))
            if len(chunks) != 1:
                raise RuntimeError(f"the generator returned {len(chunks)} results for 1 request")
            return chunks[0]
        except Exception as exc:  # ends this episode only, as in round-based mode
            return exc

    async def _aexecute_one(self, code: str) -> ExecutionResult:
        try:
            return await self.sandbox.arun(code, timeout=self.config.timeout_s)
        except Exception as exc:  # the sandbox failed, not the snippet: this episode ends with the reason
            return ExecutionResult.failed(f"{type(exc).__name__}: {exc}", isolation="none")

    def step(self, episodes: list[Episode]) -> None:
        """One round: generate for every open episode, then execute their pending code together."""
        chunks = self._generate(episodes)
        pending: list[tuple[Episode, str]] = []
        for ep, chunk in zip(episodes, chunks, strict=True):
            code = self._take_chunk(ep, chunk)
            if code is not None:
                pending.append((ep, code))
        if pending:
            results = self._execute([code for _, code in pending])
            for (ep, _), result in zip(pending, results, strict=True):
                self._append_result(ep, result)

    def _take_chunk(self, ep: Episode, chunk: Chunk | Exception) -> str | None:
        """Record what the model produced; the code to run next, or None (the episode may have ended)."""
        if isinstance(chunk, Exception):
            ep.finish_reason, ep.error = "generator_error", f"{type(chunk).__name__}: {chunk}"
            return None
        self._append_model(ep, chunk)
        if chunk.finish == "code":
            if ep.num_code_calls >= self.config.code_call_cap:
                ep.finish_reason = "max_code_calls"
            elif ep.tokens_used >= self.max_new_tokens:
                ep.finish_reason = "length"
            else:
                return ep.segments[-1].code or ""
        elif chunk.finish == "length":
            ep.finish_reason = "length"
        else:  # the model ended its turn, even if it used the last of its budget doing so
            ep.finish_reason = "answer" if ep.answer is not None else "no_answer"
        return None

    def _generate(self, episodes: list[Episode]) -> list[Chunk | Exception]:
        requests = [self._request(e) for e in episodes]
        try:
            chunks = list(self.generator.generate(requests))
            if len(chunks) != len(requests):
                raise RuntimeError(f"the generator returned {len(chunks)} results for {len(requests)} requests")
            return chunks
        except Exception as exc:  # one bad request must not end the whole batch: retry one by one
            log.warning("batch generation failed (%s); retrying episodes one by one", exc)
        out: list[Chunk | Exception] = []
        for req in requests:
            try:
                out.append(self.generator.generate([req])[0])
            except Exception as exc:
                out.append(exc)
        return out

    def _request(self, ep: Episode) -> GenerationRequest:
        rounds, partial = ep.rounds()
        return GenerationRequest(
            messages=ep.messages,
            completion=ep.completion,
            prompt_ids=ep.prompt_ids,
            completion_ids=ep.completion_ids,
            max_new_tokens=self.max_new_tokens - ep.tokens_used,
            rounds=rounds,
            partial=partial,
        )

    def _append_model(self, ep: Episode, chunk: Chunk) -> None:
        block = first_closed_python(chunk.text) if chunk.finish == "code" else None
        ep.segments.append(Segment("model", chunk.text, code=block.code if block else None))
        if ep.completion_ids is not None and chunk.token_ids is not None:
            ep.completion_ids += chunk.token_ids
            ep.completion_mask += [1] * len(chunk.token_ids)
            ep.logprobs += chunk.logprobs if chunk.logprobs is not None else [0.0] * len(chunk.token_ids)
        ep.tokens_used += chunk.num_tokens if chunk.num_tokens is not None else self.generator.count_tokens(chunk.text)

    def _execute(self, codes: list[str]) -> list[ExecutionResult]:
        timeout = self.config.timeout_s
        try:
            results = list(self.sandbox.run_many(codes, timeout=timeout))
            if len(results) != len(codes):
                raise RuntimeError(f"the sandbox returned {len(results)} results for {len(codes)} snippets")
            return results
        except Exception as exc:  # a crashed batch: run one by one so one bad snippet costs one episode
            log.warning("sandbox batch failed (%s); running snippets one by one", exc)
        results = []
        for code in codes:
            try:
                results.append(self.sandbox.run(code, timeout=timeout))
            except Exception as exc:
                results.append(ExecutionResult.failed(f"{type(exc).__name__}: {exc}", isolation="none"))
        return results

    def _append_result(self, ep: Episode, result: ExecutionResult) -> None:
        ep.num_code_calls += 1
        if result.error is not None:
            ep.finish_reason, ep.error = "sandbox_error", result.error
            return
        output = format_output(
            result.stdout, result.stderr, timed_out=result.timed_out, timeout_s=self.config.timeout_s
        )
        text, truncated = render_result(output, self.config, self.tokenizer)
        execution = result.to_dict() | {"truncated": result.truncated or truncated}
        ep.segments.append(Segment("interpreter", text, execution=execution))
        ids = self.generator.encode_inserted(text)
        if ep.completion_ids is not None and ids is not None:
            ep.completion_ids += ids
            ep.completion_mask += [0] * len(ids)
            ep.logprobs += [0.0] * len(ids)
        ep.tokens_used += len(ids) if ids is not None else self.generator.count_tokens(text)
        if ep.tokens_used >= self.max_new_tokens:
            ep.finish_reason = "length"


@dataclass
class _Limits:
    """Bounds of one asynchronous run: requests and snippets in flight, and the generation threads."""

    requests: asyncio.Semaphore
    snippets: asyncio.Semaphore
    pool: ThreadPoolExecutor

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _run_blocking(make: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to the end from synchronous code, even when this thread runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(make())
        return
    # Called from async code (a notebook, a web app): a helper thread gets an event loop of its own.
    with ThreadPoolExecutor(1, thread_name_prefix="r1ci-episodes") as helper:
        helper.submit(lambda: asyncio.run(make())).result()
