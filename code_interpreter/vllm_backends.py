"""vLLM generation backends in both of TRL's modes, with token ids and logprobs for GRPO.

- `VLLMServerGenerator` ("vllm-server" in `get_generator`): a `vllm serve` or `trl vllm-serve`
  server through its OpenAI-compatible `/v1/completions` endpoint. The prompt goes out as token
  ids (the chat prompt plus every token of the turn so far, interpreter output included), and
  vLLM's request extras bring back what was sampled: `return_token_ids` adds `token_ids` (and
  `prompt_token_ids`) to each choice; `logprobs: 0` with `return_tokens_as_token_ids` gives
  `logprobs.token_logprobs` with `logprobs.tokens` as "token_id:<id>" (the fallback for servers
  without `return_token_ids`). Nothing is re-tokenised. TRL's `trl vllm-serve` starts vLLM with
  `--logprobs-mode processed_logprobs`, so logprobs are those of the sampling distribution
  (temperature applied). The client needs no vllm package; requests are independent, so
  `EpisodeRunner` runs asynchronous episodes on it (`concurrent_requests = True`).
- `VLLMColocateGenerator` ("vllm-colocate"): the trainer's in-process `vllm.LLM` (TRL's
  `trainer.vllm_generation.llm` with `vllm_mode="colocate"`), called as
  `LLM.generate([TokensPrompt(prompt_token_ids=...)], [SamplingParams(...)], use_tqdm=False)`,
  one batch per round. Needs vllm (`pip install 'r1ci[vllm]'` on a CUDA machine).

Both ask vLLM to stop at a closing fence (the stop string "```\\n", kept in the output) and then
cut the returned tokens by the rule every token-level backend shares (`cut_at_stop`: the shortest
prefix that closes a python block, or through end-of-sequence). A fence that closed a non-python
block continues generation from the token ids, at most `MAX_FENCE_CONTINUATIONS` times. Inserted
text is tokenised by `encode_inserted` (the policy's tokenizer, no special tokens added), the same
call the transformers backend, evaluation and the demo use, and the next request sends those very
ids, so rollout, training forward and later inference see the same tokens.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from code_interpreter.errors import InputError
from code_interpreter.generation import (
    Chunk,
    GenerationRequest,
    TokenCodec,
    check_model_path,
    cut_at_stop,
)

#: The stop string: a closing fence on its own line (an opening ```python never contains it).
STOP = ["```\n"]
#: Each fence that closes a non-python block costs one more request; a model that emits many is cut off.
MAX_FENCE_CONTINUATIONS = 8
VLLM_MISSING = (
    "the vllm-colocate backend runs an in-process vllm.LLM, but vllm is not installed here; install it on "
    "a CUDA machine with: pip install 'r1ci[vllm]' (on CPU use the 'transformers' backend)"
)


def require_vllm() -> tuple[Any, Any]:
    """vLLM's `SamplingParams` and `TokensPrompt`, or one clear sentence when vllm is missing."""
    try:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt
    except ImportError as exc:
        raise InputError(VLLM_MISSING) from exc
    return SamplingParams, TokensPrompt


@dataclass
class _Draft:
    """One request being generated, across the extra requests that non-python fences cost."""

    request: GenerationRequest
    ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    continuations: int = 0
    chunk: Chunk | None = None

    @property
    def context(self) -> list[int]:
        return [*(self.request.prompt_ids or []), *(self.request.completion_ids or []), *self.ids]

    @property
    def budget(self) -> int:
        return self.request.max_new_tokens - len(self.ids)


class _TokenLevel(TokenCodec):
    """What both vLLM backends share: the policy's tokenizer and the cutting of sampled tokens."""

    def __init__(self, tokenizer: Any, eos_token_ids: Sequence[int] | None) -> None:
        if tokenizer is None:
            raise InputError("vLLM backends need the policy's tokenizer (tokenizer=<object or model folder / Hub id>)")
        if isinstance(tokenizer, str):
            from transformers import AutoTokenizer

            check_model_path(tokenizer)
            tokenizer = AutoTokenizer.from_pretrained(tokenizer)
        self.tokenizer = tokenizer
        self.eos_ids = set(eos_token_ids or []) | {tokenizer.eos_token_id}

    def _start(self, request: GenerationRequest) -> _Draft:
        if not request.prompt_ids:
            raise ValueError("vLLM backends need prompt_ids for every request")
        draft = _Draft(request)
        if draft.budget <= 0:
            draft.chunk = Chunk(text="", finish="length", token_ids=[], logprobs=[], num_tokens=0)
        return draft

    def _absorb(
        self, draft: _Draft, ids: Sequence[int], logprobs: Sequence[float], finish_reason: str | None, stop_reason: Any
    ) -> None:
        """Add one vLLM output to `draft`; set `draft.chunk` unless a non-python fence asks for more."""
        ids = [int(t) for t in ids]
        # vLLM types a logprob as `float | None` (and may send NaN); such a token gets 0.0, which only
        # affects TRL's importance-sampling correction for that one token.
        logprobs = [0.0 if p is None or math.isnan(p) else float(p) for p in logprobs]
        if len(logprobs) != len(ids):
            raise RuntimeError(f"vLLM returned {len(logprobs)} logprobs for {len(ids)} tokens")
        draft.ids += ids
        draft.logprobs += logprobs
        kept, finish = cut_at_stop(draft.ids[: draft.request.max_new_tokens], self._decode, self.eos_ids)
        if finish == "length":
            if finish_reason == "length" or len(kept) >= draft.request.max_new_tokens:
                pass
            elif isinstance(stop_reason, str) and draft.continuations < MAX_FENCE_CONTINUATIONS:
                draft.continuations += 1  # a non-python block closed: go on from the tokens themselves
                return
            elif not isinstance(stop_reason, str):
                finish = "eos"  # vLLM stopped on an end token this tokenizer does not call eos
        draft.chunk = Chunk(
            text=self._decode(kept),
            finish=finish,
            token_ids=kept,
            logprobs=draft.logprobs[: len(kept)],
            num_tokens=len(kept),
        )


class VLLMServerGenerator(_TokenLevel):
    """A vLLM server (`vllm serve`, `trl vllm-serve`) over /v1/completions, token ids in and out."""

    concurrent_requests = True

    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        tokenizer: Any,
        api_key: str | None = None,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = 0,
        min_p: float = 0.0,
        max_concurrency: int = 16,
        request_timeout: float = 600.0,
        max_retries: int = 3,
        eos_token_ids: Sequence[int] | None = None,
        generation_kwargs: dict[str, Any] | None = None,
    ) -> None:
        import os

        from openai import OpenAI

        if not base_url:
            raise InputError("the vllm-server backend needs base_url, e.g. http://localhost:8000/v1")
        if max_concurrency < 1:
            raise InputError(f"max_concurrency must be at least 1, got {max_concurrency}")
        super().__init__(tokenizer, eos_token_ids)
        key = api_key or os.environ.get("VLLM_API_KEY") or "EMPTY"  # vLLM accepts any key unless started with one
        self.client = OpenAI(base_url=base_url, api_key=key, timeout=request_timeout, max_retries=max_retries)
        self.model, self.max_concurrency = model, max_concurrency
        self.temperature, self.top_p, self.top_k, self.min_p = temperature, top_p, top_k, min_p
        self.generation_kwargs = dict(generation_kwargs or {})

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Chunk]:
        if len(requests) == 1:  # asynchronous episodes send one request per call, from their own thread
            return [self._one(requests[0])]
        with ThreadPoolExecutor(max_workers=max(1, min(self.max_concurrency, len(requests)))) as pool:
            return list(pool.map(self._one, requests))

    def _one(self, request: GenerationRequest) -> Chunk:
        draft = self._start(request)
        while draft.chunk is None:
            extra: dict[str, Any] = {
                "include_stop_str_in_output": True,
                "return_token_ids": True,
                "return_tokens_as_token_ids": True,
            }
            if self.top_k > 0:
                extra["top_k"] = self.top_k
            if self.min_p > 0:
                extra["min_p"] = self.min_p
            context = draft.context
            resp = self.client.completions.create(
                model=self.model,
                prompt=context,
                max_tokens=draft.budget,
                temperature=self.temperature,
                top_p=self.top_p,
                stop=STOP,
                logprobs=0,
                extra_body=extra | self.generation_kwargs,
            )
            choice = resp.choices[0]
            fields = choice.model_extra or {}
            echoed = fields.get("prompt_token_ids")
            if echoed is not None and list(echoed) != context:
                raise RuntimeError("the server generated from other prompt tokens than those sent")
            lp = choice.logprobs
            if lp is None or lp.token_logprobs is None:
                raise RuntimeError("the server returned no logprobs: is it a vLLM server? (use 'openai' for others)")
            ids = fields.get("token_ids")
            if ids is None:  # servers without return_token_ids still honour return_tokens_as_token_ids
                ids = [int(t.removeprefix("token_id:")) for t in lp.tokens or []]
            self._absorb(draft, ids, lp.token_logprobs, choice.finish_reason, fields.get("stop_reason"))
        return draft.chunk


class VLLMColocateGenerator(_TokenLevel):
    """The trainer's in-process `vllm.LLM`: one `LLM.generate` call per round for the whole batch."""

    concurrent_requests = False  # one engine in this process: batch the round

    def __init__(
        self,
        llm: Any,
        tokenizer: Any = None,
        *,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = 0,
        min_p: float = 0.0,
        eos_token_ids: Sequence[int] | None = None,
        generation_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.SamplingParams, self.TokensPrompt = require_vllm()
        if llm is None or not hasattr(llm, "generate"):
            raise InputError("the vllm-colocate backend needs llm=<a vllm.LLM>, e.g. trainer.vllm_generation.llm")
        super().__init__(tokenizer if tokenizer is not None else llm.get_tokenizer(), eos_token_ids)
        self.llm = llm
        self.temperature, self.top_p, self.top_k, self.min_p = temperature, top_p, top_k, min_p
        self.generation_kwargs = dict(generation_kwargs or {})

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Chunk]:
        drafts = [self._start(r) for r in requests]
        while active := [d for d in drafts if d.chunk is None]:
            prompts = [self.TokensPrompt(prompt_token_ids=d.context) for d in active]
            params = [
                self.SamplingParams(
                    n=1,
                    max_tokens=d.budget,
                    temperature=self.temperature,
                    top_p=self.top_p,
                    top_k=self.top_k,
                    min_p=self.min_p,
                    stop=STOP,
                    include_stop_str_in_output=True,
                    logprobs=0,
                    **self.generation_kwargs,
                )
                for d in active
            ]
            outputs = self.llm.generate(prompts, sampling_params=params, use_tqdm=False)
            if len(outputs) != len(active):
                raise RuntimeError(f"vLLM returned {len(outputs)} outputs for {len(active)} prompts")
            for draft, output in zip(active, outputs, strict=True):
                out = output.outputs[0]
                if out.logprobs is None:
                    raise RuntimeError("vLLM returned no logprobs although SamplingParams asked for them")
                # With logprobs=0 each position maps the sampled token (at least) to its Logprob.
                logprobs = [pos[tok].logprob for pos, tok in zip(out.logprobs, out.token_ids, strict=True)]
                self._absorb(draft, out.token_ids, logprobs, out.finish_reason, out.stop_reason)
        return [d.chunk for d in drafts]
