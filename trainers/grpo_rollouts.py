"""GRPO rollouts that run code: TRL's `rollout_func` driving our episode loop.

TRL (1.16) calls `rollout_func(prompts, trainer)` with prompts the sampler has already repeated
`num_generations` times, so each prompt gets exactly one episode, in order. An episode generates
until a python block closes, runs the block in the sandbox, appends the rendered result and goes on,
up to the code-call cap (`code_interpreter.episode.EpisodeRunner`). The returned
`completion_ids` interleave model tokens and inserted tokens; `env_mask` (TRL's tool mask, multiplied
into the loss mask) is 0 on every inserted token, and so is its logprob.

The generator is pluggable: `rollout_func` asks a `GeneratorFactory` for a generator for this batch
(a context manager, so a backend can hold gathered weights or a server connection for the batch).
`training_model_generator` is the transformers backend on the trainer's own model; a vLLM backend
only needs to be another factory.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from code_interpreter.episode import Episode, EpisodeRunner
from code_interpreter.generation import Generator, TransformersGenerator
from code_interpreter.protocol import ProtocolConfig
from code_interpreter.sandboxes.base import Sandbox

#: (trainer) -> context manager yielding a `Generator` for one rollout batch.
GeneratorFactory = Callable[[Any], contextlib.AbstractContextManager[Generator]]

#: Episode endings that are the model's own doing; anything else is infrastructure.
_MODEL_ENDINGS = ("answer", "no_answer", "length", "max_code_calls")


@contextlib.contextmanager
def training_model_generator(trainer: Any) -> Iterator[TransformersGenerator]:
    """The trainer's model as a transformers generator, unwrapped for generation (DDP, ZeRO-3 gathered,
    FSDP full parameters) for the whole batch, sampling at GRPOConfig's temperature, top_p and top_k.

    Tokens and logprobs come from the same tokenizer and model TRL trains on, so the completion ids
    are the ones scored in the loss (no re-tokenisation of model text).
    """
    import torch
    from trl.models import unwrap_model_for_generation

    args = trainer.args
    summon = getattr(getattr(trainer, "_dist", None), "summon_full_params", None)
    with (
        unwrap_model_for_generation(
            trainer.model_wrapped,
            trainer.accelerator,
            gather_deepspeed3_params=args.ds3_gather_for_generation,
            gradient_checkpointing_kwargs=args.gradient_checkpointing_kwargs,
        ) as model,
        torch.no_grad(),
        summon(trainer.model_wrapped, recurse=False) if summon else contextlib.nullcontext(),
    ):
        yield TransformersGenerator(
            model,
            trainer.processing_class,
            temperature=args.temperature,
            top_p=args.top_p,
            top_k=args.top_k or 0,
        )


@contextlib.contextmanager
def vllm_server_generator(trainer: Any) -> Iterator[Generator]:
    """TRL's vLLM server (`trl vllm-serve`, weights pushed before each rollout) through its completions
    API: prompts go out as token ids and token ids plus logprobs come back, so nothing is re-tokenised;
    episodes advance asynchronously (`EpisodeRunner` mode "auto")."""
    from code_interpreter import get_generator

    client, args = trainer.vllm_generation.vllm_client, trainer.args
    yield get_generator(
        "vllm-server",
        model=client.model,  # what the server serves (its /v1/models)
        base_url=f"{client.base_url}/v1",
        tokenizer=trainer.processing_class,
        temperature=args.temperature,
        top_p=args.top_p,
        top_k=args.top_k or 0,
        max_concurrency=64,
        generation_kwargs=args.generation_kwargs or {},
    )


@contextlib.contextmanager
def vllm_colocate_generator(trainer: Any) -> Iterator[Generator]:
    """TRL's in-process `vllm.LLM` (colocate mode; TRL loads the weights into it before each rollout)."""
    from code_interpreter import get_generator

    args = trainer.args
    yield get_generator(
        "vllm-colocate",
        llm=trainer.vllm_generation.llm,
        tokenizer=trainer.processing_class,
        temperature=args.temperature,
        top_p=args.top_p,
        top_k=args.top_k or 0,
        generation_kwargs=args.generation_kwargs or {},
    )


def generator_factory_for(args: Any) -> GeneratorFactory:
    """The rollout backend GRPOConfig asks for: the training model, or TRL's vLLM in its two modes."""
    if not args.use_vllm:
        return training_model_generator
    return vllm_server_generator if args.vllm_mode == "server" else vllm_colocate_generator


def make_rollout_func(
    *,
    sandbox: Sandbox,
    protocol: ProtocolConfig,
    max_completion_length: int,
    generator_factory: GeneratorFactory = training_model_generator,
) -> Callable[[list, Any], dict[str, list]]:
    """The `rollout_func` for GRPOTrainer: one executed episode per prompt (a list of chat messages)."""

    def rollout_func(prompts: list, trainer: Any) -> dict[str, list]:
        with generator_factory(trainer) as generator:
            runner = EpisodeRunner(generator, sandbox, protocol, max_new_tokens=max_completion_length)
            episodes = runner.run(prompts)
        return rollout_batch(episodes, max_completion_length)

    return rollout_func


def rollout_batch(episodes: list[Episode], max_completion_length: int) -> dict[str, list]:
    """TRL's rollout dict for finished episodes: ids, logprobs, `env_mask`, and one `episode` summary
    per row for the reward functions.

    The episode loop lets an inserted result overshoot the token budget (it appends the whole result,
    then stops), so ids are cut to `max_completion_length` here; only inserted tokens can lie past the
    budget, so the model's text and answer are unaffected. An episode that did not end on the
    end-of-turn token (budget, code-call cap, sandbox failure) ends on another token, which TRL counts
    as clipped.
    """
    out: dict[str, list] = {"prompt_ids": [], "completion_ids": [], "logprobs": [], "env_mask": [], "episode": []}
    for i, ep in enumerate(episodes):
        if ep.finish_reason == "generator_error" or ep.completion_ids is None or ep.prompt_ids is None:
            # The policy itself failed to generate: a bug or a broken setup, never something to train on.
            raise RuntimeError(f"rollout {i} could not be generated: {ep.error or 'the backend returned no token ids'}")
        ids = ep.completion_ids[:max_completion_length]
        mask = ep.completion_mask[: len(ids)]
        logprobs = [lp if m else 0.0 for lp, m in zip(ep.logprobs[: len(ids)], mask, strict=True)]
        if not ids:
            raise RuntimeError(f"rollout {i} produced no tokens")
        out["prompt_ids"].append(list(ep.prompt_ids))
        out["completion_ids"].append(ids)
        out["logprobs"].append(logprobs)
        out["env_mask"].append(mask)
        out["episode"].append(episode_summary(ep, model_tokens=sum(mask), interpreter_tokens=len(mask) - sum(mask)))
    return out


def episode_summary(ep: Episode, *, model_tokens: int, interpreter_tokens: int) -> dict[str, Any]:
    """What reward functions and logs need from an episode (JSON-friendly)."""
    executions = [s.execution or {} for s in ep.segments if s.role == "interpreter"]
    return {
        "completion": ep.completion,
        "inserted_spans": [list(span) for span in ep.inserted_spans],
        "finish_reason": ep.finish_reason,
        "num_code_calls": ep.num_code_calls,
        "turns": sum(1 for s in ep.segments if s.role == "model"),
        "exec_failures": sum(1 for e in executions if e.get("exit_code") not in (0, None) and not e.get("timed_out")),
        "exec_timeouts": sum(1 for e in executions if e.get("timed_out")),
        "answered": ep.answer is not None,
        "model_tokens": model_tokens,
        "interpreter_tokens": interpreter_tokens,
        "infrastructure_error": ep.finish_reason not in _MODEL_ENDINGS,
        "error": ep.error,
    }
