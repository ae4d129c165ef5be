"""The SFT loss computed only at supervised positions, on every device where TRL scores them all.

TRL 1.16 patches the model with a fused LM head (`add_fused_lm_head`) whose Triton kernel projects
only the positions with a label on CUDA/XPU; elsewhere (CPU, MPS, ...) it projects every position
through the whole vocabulary, so with Qwen's 152k-token vocabulary the output layer dominates the
step, although system prompt, question and interpreter output are all masked.

`add_supervised_positions_head` wraps that forward: off Triton devices it runs the model's own
forward with `logits_to_keep` set to a boolean (batch, seq) mask of the positions whose next token
is supervised (transformers then applies the LM head to those hidden states only, flattened), and
returns the same `FusedCausalLMOutput` fields TRL's `compute_loss` reads (log_probs, entropy,
is_top1, label_mask; zero elsewhere). The loss is the same sum of negative log-likelihoods divided
by `num_items_in_batch`, so `SFTTrainer.compute_loss`, its metrics, gradient accumulation and
padding-free / packed batches work unchanged. On CUDA/XPU, under sequence parallelism
(`shift_labels`) and for MoE router losses the TRL forward runs as is.

The kept logits are materialised in float32 (supervised tokens x vocabulary): fine for the CPU runs
this path serves; GPU runs use TRL's chunked kernel.
"""

from __future__ import annotations

import functools
import math
import types
from typing import Any

import torch
from transformers import TrainerCallback
from trl import SFTTrainer
from trl.kernels.chunked_logprob import _use_triton
from trl.trainer.utils import FusedCausalLMOutput

IGNORE_INDEX = -100


def supervised_positions_loss(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-token log-probs (with grad), entropy and top-1 hits (without) of flattened kept logits."""
    log_probs_all = torch.log_softmax(logits.float(), dim=-1)
    log_probs = log_probs_all.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    with torch.no_grad():
        detached = log_probs_all.detach()
        entropy = -(detached.exp() * detached).sum(-1)
        is_top1 = (detached.argmax(-1) == targets).to(log_probs.dtype)
    return {"log_probs": log_probs, "entropy": entropy, "is_top1": is_top1}


def sampled_softmax_logits(
    hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, negatives: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits over the batch's target tokens plus `negatives` uniformly sampled others, and the targets'
    indices among those columns.

    Sampled softmax with a uniform proposal (Jean et al., 2015): `negatives` ids are drawn from the
    whole vocabulary and each sampled column's logit is raised by log(vocab / negatives), the inverse
    of its expected count, so the sampled terms are an unbiased estimate of the other tokens' share of
    the partition function; a sampled id that is also a target is dropped (the targets' own columns
    are exact). With at least as many negatives as other tokens, every other token is taken once:
    the exact softmax, cheaper than sampling.
    """
    vocab = weight.size(0)
    positives, target_index = torch.unique(targets, return_inverse=True)
    if negatives >= vocab - positives.numel():
        others = torch.ones(vocab, dtype=torch.bool, device=weight.device)
        others[positives] = False
        sampled, correction = others.nonzero().squeeze(-1), 0.0
    else:
        sampled = torch.randint(0, vocab, (negatives,), device=weight.device)
        # log(vocab / negatives), not log(others / negatives): dropped draws that hit a target are
        # part of the proposal, so scaling by the smaller count would underestimate the rest when
        # the targets cover much of the vocabulary
        sampled, correction = sampled[~torch.isin(sampled, positives)], math.log(vocab / negatives)
    logits = torch.cat([hidden @ weight[positives].T, hidden @ weight[sampled].T + correction], dim=-1)
    return logits, target_index


def add_supervised_positions_head(model: Any, sampled_negatives: int | None = None) -> None:
    """Wrap `model.forward` (already patched by TRL) so `fused_lm_head=True` scores supervised positions only.

    With `sampled_negatives`, the full-vocabulary softmax is approximated by `sampled_softmax_logits`:
    a CPU speed-up for models whose step is dominated by a large output layer (the tiny model's 152k rows).
    """
    fused_forward = model.forward
    text_config = model.config.get_text_config()

    @functools.wraps(type(model).forward)
    def _forward(self, *args, fused_lm_head=False, labels=None, shift_labels=None, num_items_in_batch=None, **kwargs):
        device = self.get_output_embeddings().weight.device
        if (
            not fused_lm_head
            or labels is None
            or shift_labels is not None
            or _use_triton(device)
            or getattr(text_config, "output_router_logits", False)
            or kwargs.get("output_router_logits")
        ):
            return fused_forward(
                *args,
                fused_lm_head=fused_lm_head,
                labels=labels,
                shift_labels=shift_labels,
                num_items_in_batch=num_items_in_batch,
                **kwargs,
            )
        kwargs["use_cache"] = False
        labels = labels.to(device)
        shifted = labels[:, 1:]
        mask = shifted != IGNORE_INDEX
        # Position t predicts token t+1: keep the hidden state of t when t+1 is supervised.
        keep = torch.zeros_like(labels, dtype=torch.bool)
        keep[:, :-1] = mask
        targets = shifted[mask]
        if sampled_negatives:
            hidden = self.get_decoder()(*args, **kwargs).last_hidden_state[keep]
            logits, targets = sampled_softmax_logits(
                hidden, self.get_output_embeddings().weight, targets, sampled_negatives
            )
        else:
            logits = fused_forward(*args, logits_to_keep=keep, **kwargs).logits
            logits = logits.reshape(-1, logits.size(-1))
        fields = supervised_positions_loss(logits, targets)
        # masked_scatter keeps an all-masked micro-batch connected to the graph (a differentiable zero).
        per_token = {k: v.new_zeros(mask.shape).masked_scatter(mask, v) for k, v in fields.items()}
        denominator = mask.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
        loss = -per_token["log_probs"].sum() / denominator
        return FusedCausalLMOutput(loss=loss, label_mask=mask, **per_token)

    model.forward = types.MethodType(_forward, model)


class _ContinueTokenCount(TrainerCallback):
    """TRL counts `num_tokens` from 0 in every `train()` call; after a resume, go on from the checkpoint's
    last logged count so the logged curve continues (it is the one in the card)."""

    def __init__(self, trainer: SFTTrainer) -> None:
        self.trainer = trainer

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        seen = [h["num_tokens"] for h in state.log_history if "num_tokens" in h]
        if seen and not self.trainer._total_train_tokens:
            self.trainer._total_train_tokens = int(seen[-1])


class SupervisedPositionsSFTTrainer(SFTTrainer):
    """`SFTTrainer` whose loss projects only supervised positions through the LM head on every device,
    and whose token count continues across a resume."""

    def __init__(
        self, *args: Any, supervised_positions_only: bool = True, sampled_negatives: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if supervised_positions_only:
            model = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
            add_supervised_positions_head(model, sampled_negatives)
        self.add_callback(_ContinueTokenCount(self))
