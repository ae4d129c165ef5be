"""Generator backends behind one small interface: local transformers, OpenAI-compatible endpoints
and vLLM (code_interpreter/vllm_backends.py).

A backend continues a batch of partial assistant turns until each one stops: at the closing fence
of a python block ("code"), at end of sequence ("eos"), or at its token budget ("length"). The
episode loop owns everything else (running code, appending results, caps), so a backend only has
to implement `generate` (and, to produce token ids for training, `encode_*`).

A backend whose `concurrent_requests` attribute is true serves independent requests concurrently
(a server): `EpisodeRunner` then runs asynchronous episodes that never wait on each other instead
of round-based batches (see code_interpreter/episode.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from code_interpreter.errors import InputError, MissingInput
from code_interpreter.protocol import first_closed_python, iter_blocks, truncate_at_stop


@dataclass
class GenerationRequest:
    """One partial episode to continue: its chat messages, what the assistant has said so far
    (model text and inserted results), and, for token-level backends, the ids of both."""

    messages: list[dict[str, str]]
    completion: str
    prompt_ids: list[int] | None
    completion_ids: list[int] | None
    max_new_tokens: int
    rounds: list[tuple[str, str]] | None = None
    """For chat backends: (assistant text, interpreter result) pairs so far."""
    partial: str = ""
    """For chat backends: assistant text after the last result (a continuation in progress)."""


@dataclass
class Chunk:
    """What a backend produced for one request."""

    text: str
    finish: str  # "code" | "eos" | "length"
    token_ids: list[int] | None = None
    logprobs: list[float] | None = None
    num_tokens: int | None = None


class Generator(Protocol):
    concurrent_requests: bool
    """True for servers (many small requests in flight beat one batch); False for in-process engines."""

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Chunk]: ...

    def encode_prompt(self, messages: list[dict[str, str]]) -> list[int] | None: ...

    def encode_inserted(self, text: str) -> list[int] | None: ...

    def count_tokens(self, text: str) -> int: ...


class TextOnlyCodec:
    """For backends that exchange text, not token ids (OpenAI-compatible endpoints, scripted or solver
    teachers): no ids; token budgets count whitespace-separated words unless the backend knows better."""

    def encode_prompt(self, messages: list[dict[str, str]]) -> list[int] | None:
        return None

    def encode_inserted(self, text: str) -> list[int] | None:
        return None

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class TokenCodec:
    """Token ids of prompts and inserted text, shared by every token-level backend (transformers and
    both vLLM modes), so the same episode has the same ids whichever backend sampled it."""

    tokenizer: Any

    def encode_prompt(self, messages: list[dict[str, str]]) -> list[int]:
        return encode_chat_prompt(self.tokenizer, messages)

    def encode_inserted(self, text: str) -> list[int]:
        return encode_inserted_text(self.tokenizer, text)

    def count_tokens(self, text: str) -> int:
        return len(self.encode_inserted(text))

    def _decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)


class TransformersGenerator(TokenCodec):
    """Batched local generation with a transformers causal LM; returns token ids and logprobs.

    Logprobs are recomputed with one forward pass per row at the sampling temperature (the same
    quantity TRL's GRPO computes for old policy log-probabilities), which costs far less memory
    than keeping every step's full-vocabulary logits.
    """

    concurrent_requests = False  # one batched forward pass per round beats requests one by one

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = 0,
        do_sample: bool = True,
        compute_logprobs: bool = True,
    ) -> None:
        self.model, self.tokenizer = model, tokenizer
        # transformers rejects sampling at temperature 0; read it as greedy decoding, as servers do.
        do_sample = do_sample and temperature > 0
        self.temperature, self.top_p, self.top_k, self.do_sample = temperature, top_p, top_k, do_sample
        self.compute_logprobs = compute_logprobs
        eos = model.generation_config.eos_token_id if model.generation_config.eos_token_id is not None else []
        self.eos_ids = set(eos if isinstance(eos, list) else [eos]) | {tokenizer.eos_token_id}
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        # Hooks for interactive use (the demo streams tokens and has a stop button): a transformers
        # streamer (one request at a time) and extra stopping criteria, passed to `model.generate`.
        self.streamer: Any = None
        self.extra_stopping_criteria: list[Any] = []

    @classmethod
    def from_pretrained(cls, path: str, **kwargs: Any) -> TransformersGenerator:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        check_model_path(path)
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModelForCausalLM.from_pretrained(path)
        except OSError as exc:
            raise MissingInput(f"could not load model {path!r}: {exc}") from exc
        model.eval()
        return cls(model, tokenizer, **kwargs)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Chunk]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        inputs = [list(r.prompt_ids or []) + list(r.completion_ids or []) for r in requests]
        if any(not ids for ids in inputs):
            raise ValueError("TransformersGenerator needs prompt_ids for every request")
        width = max(map(len, inputs))
        device = self.model.device
        input_ids = torch.tensor([[self.pad_id] * (width - len(x)) + x for x in inputs], device=device)
        attention = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in inputs], device=device)
        budgets = [r.max_new_tokens for r in requests]
        decode = self._decode

        class FenceOrBudget(StoppingCriteria):
            # Per-row stop: a closed python block in this chunk, or the row's own token budget. A block
            # can only close on a token that carries a backtick, so the whole chunk is decoded only then
            # (decoding it at every step would make generation quadratic in its length).
            def __call__(self, ids, scores, **kwargs):
                new = ids[:, width:]
                done = [
                    new.shape[1] >= budgets[i]
                    or (
                        "`" in decode(new[i, -1:].tolist()) and first_closed_python(decode(new[i].tolist())) is not None
                    )
                    for i in range(new.shape[0])
                ]
                return torch.tensor(done, device=ids.device)

        gen_kwargs: dict[str, Any] = {"do_sample": self.do_sample}
        if self.do_sample:
            gen_kwargs.update(temperature=self.temperature, top_p=self.top_p, top_k=self.top_k)
        with torch.no_grad():
            out = self.model.generate(
                input_ids=input_ids,
                attention_mask=attention,
                max_new_tokens=max(budgets),
                stopping_criteria=StoppingCriteriaList([FenceOrBudget(), *self.extra_stopping_criteria]),
                pad_token_id=self.pad_id,
                streamer=self.streamer,
                **gen_kwargs,
            )
        chunks = []
        for i, row in enumerate(out[:, width:].tolist()):
            ids, finish = self._cut(row[: budgets[i]])
            chunk = Chunk(text=self._decode(ids), finish=finish, token_ids=ids, num_tokens=len(ids))
            if self.compute_logprobs:
                chunk.logprobs = self._logprobs(inputs[i], ids)
            chunks.append(chunk)
        return chunks

    def _cut(self, row: list[int]) -> tuple[list[int], str]:
        return cut_at_stop(row, self._decode, self.eos_ids)

    def _logprobs(self, context: list[int], ids: list[int]) -> list[float]:
        import torch

        if not ids:
            return []
        seq = torch.tensor([context + ids], device=self.model.device)
        with torch.no_grad():
            logits = self.model(seq, logits_to_keep=len(ids) + 1).logits[0, :-1].float()
        logps = torch.log_softmax(logits / (self.temperature if self.do_sample else 1.0), dim=-1)
        return logps.gather(1, torch.tensor(ids, device=logps.device)[:, None])[:, 0].tolist()


def encode_chat_prompt(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    """Prompt ids of a chat with the generation prompt, as every token-level backend builds them."""
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    return list(ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids)


def cut_at_stop(row: Sequence[int], decode: Any, eos_ids: set[int]) -> tuple[list[int], str]:
    """Where generated tokens `row` stop: ("code") the shortest prefix whose text closes a python
    block, ("eos") through the first end-of-sequence token, or ("length") all of them. Every
    token-level backend cuts here, so the same tokens mean the same chunk whichever engine sampled them.
    """
    row = list(row)
    eos_at = next((k for k, t in enumerate(row) if t in eos_ids), None)
    body = row if eos_at is None else row[:eos_at]
    if first_closed_python(decode(body)) is not None:
        # The shortest prefix that closes the block: tokens after the fence were never "said".
        lo, hi = 1, len(body)
        while lo < hi:
            mid = (lo + hi) // 2
            if first_closed_python(decode(body[:mid])) is None:
                lo = mid + 1
            else:
                hi = mid
        return body[:lo], "code"
    if eos_at is not None:
        return row[: eos_at + 1], "eos"
    return row, "length"


def check_model_path(path: str) -> None:
    """Fail with one sentence when `path` is neither an existing folder nor shaped like a Hub model id."""
    import re
    from pathlib import Path

    if Path(path).exists():
        return
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", path):
        raise MissingInput(f"model path {path!r} does not exist (give a local folder or a Hub model id)")


class OpenAIGenerator(TextOnlyCodec):
    """Any OpenAI-compatible endpoint (OpenAI, a vLLM server, ...), in chat or completions mode.

    - "completions": the chat template is applied locally (needs `tokenizer`) and the partial
      assistant turn is continued as raw text; exact for vLLM servers.
    - "chat": the partial turn is sent as alternating assistant messages and user messages that
      carry the interpreter results; the episode still records one assistant turn.
    The stop sequence is a closing fence on its own line; servers strip it, so it is put back.
    Text only: for token ids and logprobs from a vLLM server use `VLLMServerGenerator`.
    """

    concurrent_requests = True

    STOP = ["```\n"]
    # Each non-python fence costs one extra request; a model that emits many is cut off here.
    MAX_FENCE_CONTINUATIONS = 8

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        mode: str = "chat",
        tokenizer: Any = None,
        temperature: float = 0.7,
        top_p: float = 1.0,
        max_concurrency: int = 16,
        request_timeout: float = 600.0,
        max_retries: int = 3,
        continue_final_message: bool = False,
    ) -> None:
        import os

        from openai import OpenAI

        if mode not in ("chat", "completions"):
            raise InputError(f"mode must be 'chat' or 'completions', got {mode!r}")
        if mode == "completions" and tokenizer is None:
            raise InputError("completions mode applies the chat template locally: pass `tokenizer`")
        key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"  # local vLLM servers accept any key
        self.client = OpenAI(base_url=base_url, api_key=key, timeout=request_timeout, max_retries=max_retries)
        self.model, self.mode, self.tokenizer = model, mode, tokenizer
        self.temperature, self.top_p, self.max_concurrency = temperature, top_p, max_concurrency
        # vLLM servers can continue a partial assistant message; OpenAI's API always starts a new one.
        self.continue_final_message = continue_final_message
        # Interactive use (the demo): when set, responses are streamed and each text piece is passed here.
        self.on_text: Any = None

    def count_tokens(self, text: str) -> int:
        # Without a tokenizer, ~4 characters per token is the usual estimate for budgets.
        return len(self.tokenizer.encode(text, add_special_tokens=False)) if self.tokenizer else max(1, len(text) // 4)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Chunk]:
        if len(requests) == 1:  # asynchronous episodes send one request per call, from their own thread
            return [self._one(requests[0])]
        with ThreadPoolExecutor(max_workers=max(1, min(self.max_concurrency, len(requests)))) as pool:
            return list(pool.map(self._one, requests))

    def _one(self, req: GenerationRequest, depth: int = 0) -> Chunk:
        params = {"model": self.model, "max_tokens": req.max_new_tokens, "temperature": self.temperature,
                  "top_p": self.top_p, "stop": self.STOP}  # fmt: skip
        if self.on_text is not None:
            params["stream"], params["stream_options"] = True, {"include_usage": True}
        if self.mode == "completions":
            prompt = self.tokenizer.apply_chat_template(req.messages, add_generation_prompt=True, tokenize=False)
            resp = self.client.completions.create(prompt=prompt + req.completion, **params)
        else:
            messages = list(req.messages)
            for said, result in req.rounds or []:
                messages += [{"role": "assistant", "content": said}, {"role": "user", "content": result.strip()}]
            if req.partial:
                messages.append({"role": "assistant", "content": req.partial})
                if self.continue_final_message:
                    params["extra_body"] = {"continue_final_message": True, "add_generation_prompt": False}
            resp = self.client.chat.completions.create(messages=messages, **params)
        text, finish_reason, usage = self._streamed(resp) if self.on_text is not None else self._whole(resp)
        used = usage.completion_tokens if usage else self.count_tokens(text)
        cut, stopped = truncate_at_stop(text)
        if stopped:
            # The fence came back in the text: the server ignores stop strings, or the model ended its
            # turn right after the fence. Either way the block runs, as with the stop sequence.
            return Chunk(text=cut + "\n", finish="code", num_tokens=used)
        if finish_reason == "length":
            return Chunk(text=text, finish="length", num_tokens=used)
        # "stop" covers both a natural end and the stop sequence; the text tells them apart.
        closed = text + "```"
        block = first_closed_python(closed)
        if block is not None and block.end == len(closed):
            return Chunk(text=closed + "\n", finish="code", num_tokens=used)
        blocks = iter_blocks(text)
        if blocks and blocks[-1].end is None and text.endswith("\n") and depth < self.MAX_FENCE_CONTINUATIONS:
            # A non-python block was being closed: put the fence back and continue, budget permitting.
            if used >= req.max_new_tokens:
                return Chunk(text=text + "```\n", finish="length", num_tokens=used)
            more = self._one(_extended(req, text + "```\n", used), depth + 1)
            return Chunk(text=text + "```\n" + more.text, finish=more.finish, num_tokens=used + (more.num_tokens or 0))
        return Chunk(text=text, finish="eos", num_tokens=used)

    def _whole(self, resp: Any) -> tuple[str, str | None, Any]:
        """(text, finish reason, usage) of a response."""
        choice = resp.choices[0]
        text = choice.text if self.mode == "completions" else choice.message.content
        return text or "", choice.finish_reason, resp.usage

    def _streamed(self, stream: Any) -> tuple[str, str | None, Any]:
        """(text, finish reason, usage) of a streamed response, each piece passed to `on_text` on arrival
        (which may raise to abandon the request: the connection is closed)."""
        pieces, finish_reason, usage = [], None, None
        try:
            for event in stream:
                usage = event.usage or usage
                for choice in event.choices:
                    piece = choice.text if self.mode == "completions" else choice.delta.content
                    if piece:
                        pieces.append(piece)
                        self.on_text(piece)
                    finish_reason = choice.finish_reason or finish_reason
        finally:
            stream.close()
        return "".join(pieces), finish_reason, usage


def _extended(req: GenerationRequest, text: str, used: int) -> GenerationRequest:
    return GenerationRequest(
        messages=req.messages,
        completion=req.completion + text,
        prompt_ids=None,
        completion_ids=None,
        max_new_tokens=req.max_new_tokens - used,
        rounds=req.rounds,
        partial=req.partial + text,
    )


def get_generator(name: str = "transformers", **options: Any) -> Generator:
    """A generation backend by name, beside `get_sandbox`; `options` go to its constructor.

    - "transformers": `model` (local folder or Hub id) plus `TransformersGenerator` options;
    - "openai": `OpenAIGenerator` options (`model`, `base_url`, `mode`, `tokenizer`, ...): text only;
    - "vllm-server": `VLLMServerGenerator` options (`model`, `base_url`, `tokenizer`, ...): a
      `vllm serve` / `trl vllm-serve` server, token ids and logprobs included (for GRPO);
    - "vllm-colocate": `VLLMColocateGenerator` options (`llm`, an in-process `vllm.LLM` such as
      TRL's `trainer.vllm_generation.llm`, `tokenizer`, ...); needs vllm installed.
    """
    if name == "transformers":
        if "model" not in options:
            raise InputError("the transformers generator needs model=<local folder or Hub model id>")
        return TransformersGenerator.from_pretrained(options.pop("model"), **options)
    if name == "openai":
        return OpenAIGenerator(**options)
    if name in ("vllm-server", "vllm-colocate"):
        from code_interpreter.vllm_backends import VLLMColocateGenerator, VLLMServerGenerator

        return (VLLMServerGenerator if name == "vllm-server" else VLLMColocateGenerator)(**options)
    raise InputError(f"unknown generator {name!r}; choose {', '.join(repr(n) for n in GENERATORS)}")


#: Names `get_generator` accepts.
GENERATORS = ("transformers", "openai", "vllm-server", "vllm-colocate")


def encode_inserted_text(tokenizer: Any, text: str) -> list[int]:
    """Token ids of text the interpreter inserted, with special-token strings kept as plain text.

    A snippet that prints "<|im_end|>" or "<|im_start|>user" must not put a real end-of-turn or a
    fake turn into the model's context; SFT encodes inserted text the same way (`trainers/sft_data`),
    so rollouts, training and inference agree token for token.
    """
    return tokenizer.encode(text, add_special_tokens=False, split_special_tokens=True)
