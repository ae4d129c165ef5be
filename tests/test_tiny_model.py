from __future__ import annotations

import tiktoken
from tiktoken.load import load_tiktoken_bpe
from transformers import AutoModelForCausalLM, AutoTokenizer

from trainers.tiny_model import ADDED_TOKENS, QWEN_PATTERN, SPECIAL_TOKENS, qwen_bpe_path

SAMPLES = [
    "Hello, world!",
    "def f(x):\n    return x ** 2  # 12345\n\n",
    "```python\nprint(sum(range(10)))\n```\nCode Execution Results: 45\n<<<45>>>",
    "Unicode: café, naïve, 日本語, emoji 🙂, Ω≈ç√",
    "   leading spaces\t\ttabs\r\nwindows newlines",
]


def test_ids_match_tiktoken(qwen_tokenizer):
    enc = tiktoken.Encoding(
        "qwen", pat_str=QWEN_PATTERN, mergeable_ranks=load_tiktoken_bpe(str(qwen_bpe_path())), special_tokens={}
    )
    for text in SAMPLES:
        assert qwen_tokenizer.encode(text, add_special_tokens=False) == enc.encode(text), text
    assert qwen_tokenizer.encode("Hello, world!", add_special_tokens=False) == [9707, 11, 1879, 0]


def test_vocabulary_and_special_tokens(qwen_tokenizer):
    assert len(qwen_tokenizer) == 151_643 + len(SPECIAL_TOKENS) + len(ADDED_TOKENS) == 151_665
    assert qwen_tokenizer.convert_tokens_to_ids("<|im_end|>") == 151_645 == qwen_tokenizer.eos_token_id
    assert qwen_tokenizer.convert_tokens_to_ids("<|file_sep|>") == 151_664
    assert qwen_tokenizer.encode("<|im_start|>user", add_special_tokens=False) == [151_644, 872]


def test_chat_template_round_trips(qwen_tokenizer):
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "```python\nprint(2+2)\n```\nCode Execution Results: 4\n<<<4>>>"},
    ]
    text = qwen_tokenizer.apply_chat_template(messages, tokenize=False)
    assert text == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
        "<|im_start|>assistant\n```python\nprint(2+2)\n```\nCode Execution Results: 4\n<<<4>>><|im_end|>\n"
    )
    ids = qwen_tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"]
    assert qwen_tokenizer.decode(ids) == text
    prompt = qwen_tokenizer.apply_chat_template(messages[:2], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|im_start|>assistant\n")


def test_model_reloads_offline_and_generates(tiny_model_dir):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert model.config.model_type == "qwen2"
    out = model.generate(**tok("Hi", return_tensors="pt"), max_new_tokens=3, do_sample=False)
    assert out.shape[1] == len(tok("Hi").input_ids) + 3 or tok.eos_token_id in out[0].tolist()


def test_same_seed_same_weights(tmp_path):
    from safetensors.torch import load_file

    from trainers.tiny_model import build_tiny_model

    a = load_file(
        build_tiny_model(tmp_path / "a", hidden_size=16, num_layers=1, num_heads=2, seed=3) / "model.safetensors"
    )
    b = load_file(
        build_tiny_model(tmp_path / "b", hidden_size=16, num_layers=1, num_heads=2, seed=3) / "model.safetensors"
    )
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)
