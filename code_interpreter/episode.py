"""The episode loop: advance a batch of R1-CI episodes together.

Generate for every open episode until it stops; run all pending snippets of the batch at once in
the sandbox; append the formatted results; repeat until each episode has an answer, ends, runs out
of tokens or reaches the code-call cap. Each episode records its segments, with the character
spans (and, for token-level backends, the token mask) of everything the interpreter inserted, so
trainers can keep those tokens out of the loss.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

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
    """Runs batches of episodes with one generator and one sandbox.

    `max_new_tokens` bounds each episode's whole assistant turn, inserted results included.
    """

    def __init__(
        self,
        generator: Generator,
        sandbox: Sandbox,
        config: ProtocolConfig | None = None,
        max_new_tokens: int = 1024,
        tokenizer: Any = None,
    ) -> None:
        if max_new_tokens <= 0:
            raise ValueError(f"max_new_tokens must be positive, got {max_new_tokens}")
        self.generator, self.sandbox = generator, sandbox
        self.config = config or ProtocolConfig()
        self.max_new_tokens = max_new_tokens
        # Token-level truncation of results uses the policy's tokenizer when there is one.
        self.tokenizer = tokenizer if tokenizer is not None else getattr(generator, "tokenizer", None)

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

    def run(
        self, questions: Sequence[str | list[dict[str, str]]], metadata: Sequence[dict] | None = None
    ) -> list[Episode]:
        """Run one episode per question to the end; results keep input order."""
        episodes = [self.new_episode(q, m) for q, m in zip(questions, metadata or [None] * len(questions), strict=True)]
        while open_ := [e for e in episodes if not e.done]:
            self.step(open_)
        return episodes

    def step(self, episodes: list[Episode]) -> None:
        """One round: generate for every open episode, then execute their pending code together."""
        chunks = self._generate(episodes)
        pending: list[tuple[Episode, str]] = []
        for ep, chunk in zip(episodes, chunks, strict=True):
            if isinstance(chunk, Exception):
                ep.finish_reason, ep.error = "generator_error", f"{type(chunk).__name__}: {chunk}"
                continue
            self._append_model(ep, chunk)
            if chunk.finish == "code":
                if ep.num_code_calls >= self.config.code_call_cap:
                    ep.finish_reason = "max_code_calls"
                elif ep.tokens_used >= self.max_new_tokens:
                    ep.finish_reason = "length"
                else:
                    pending.append((ep, ep.segments[-1].code or ""))
            elif chunk.finish == "length":
                ep.finish_reason = "length"
            else:  # the model ended its turn, even if it used the last of its budget doing so
                ep.finish_reason = "answer" if ep.answer is not None else "no_answer"
        if pending:
            results = self._execute([code for _, code in pending])
            for (ep, _), result in zip(pending, results, strict=True):
                self._append_result(ep, result)

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
