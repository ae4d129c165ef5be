"""vLLM backends against doubles that speak vLLM's APIs: an HTTP server returning vLLM-shaped
/v1/completions responses (token ids and logprobs included), and a stand-in `vllm` module whose
`LLM.generate` takes TokensPrompt/SamplingParams and returns RequestOutput-shaped objects."""

from __future__ import annotations

import sys
import threading
import types
from dataclasses import dataclass, field
from typing import Any, TypedDict

import pytest

from code_interpreter import get_generator
from code_interpreter.episode import EpisodeRunner
from code_interpreter.errors import InputError
from code_interpreter.generation import TransformersGenerator
from code_interpreter.vllm_backends import VLLMColocateGenerator, VLLMServerGenerator
from tests.doubles import EchoSandbox
from tests.json_server import JSONServer
from tests.test_episode import ScriptedLM


def fake_logprob(token_id: int) -> float:
    """A logprob the doubles attach to each sampled token, so tests can check alignment."""
    return -((token_id % 997) + 1) / 1000


class ScriptedEngine:
    """Samples scripted text token by token as vLLM does: stops on a stop string (the token that
    completes it included) or an end token (included in `token_ids`), or at `max_tokens`. A request
    whose prompt ends with what this question's last request produced continues the same script
    piece (after a stop string); otherwise the next piece starts (the rest of the last one was
    never said)."""

    def __init__(self, tokenizer, scripts: dict[str, list[str]]):
        self.tok, self.scripts = tokenizer, {q: list(v) for q, v in scripts.items()}
        self.pending: dict[str, list[int]] = {}
        self.last: dict[str, list[int]] = {}
        self.prompts: list[list[int]] = []
        self.lock = threading.Lock()

    def question(self, prompt_ids: list[int]) -> str:
        text = self.tok.decode(prompt_ids, skip_special_tokens=False)
        return text.split("<|im_start|>user\n", 1)[1].split("<|im_end|>", 1)[0]

    def sample(self, prompt_ids: list[int], max_tokens: int, stop: list[str]) -> tuple[list[int], str, Any]:
        with self.lock:
            self.prompts.append(list(prompt_ids))
            q = self.question(prompt_ids)
            last = self.last.get(q)
            if not (last and prompt_ids[-len(last) :] == last and self.pending.get(q)):
                self.pending[q] = self.tok.encode(self.scripts[q].pop(0), add_special_tokens=False)
            source, out = self.pending[q], []
            finish, reason = "length", None
            while source and len(out) < max_tokens:
                out.append(source.pop(0))
                if out[-1] == self.tok.eos_token_id:
                    finish = "stop"
                    break
                hit = next((s for s in stop if s in self.tok.decode(out)), None)
                if hit is not None:
                    finish, reason = "stop", hit
                    break
            self.last[q] = out
            return out, finish, reason


class VLLMHTTPDouble:
    """/v1/completions as a vLLM server answers it with return_token_ids, logprobs=0 and
    return_tokens_as_token_ids; `token_ids_field=False` plays a server without return_token_ids."""

    def __init__(self, engine: ScriptedEngine, token_ids_field: bool = True, logprobs: bool = True):
        self.engine, self.token_ids_field, self.logprobs = engine, token_ids_field, logprobs
        self.null_logprobs = False  # vLLM types token_logprobs as list[float | None]
        self.bodies: list[dict] = []
        self.http = JSONServer(self._serve)
        self.base_url = self.http.base_url

    def reply(self, body: dict) -> dict:
        self.bodies.append(body)
        prompt = body["prompt"]
        assert isinstance(prompt, list) and all(isinstance(t, int) for t in prompt), "prompt must be token ids"
        ids, finish, reason = self.engine.sample(prompt, body["max_tokens"], body.get("stop") or [])
        tok = self.engine.tok
        text = tok.decode(ids, skip_special_tokens=True)
        if reason and not body.get("include_stop_str_in_output"):
            text = text[: text.index(reason)]
        choice: dict[str, Any] = {"index": 0, "text": text, "finish_reason": finish, "stop_reason": reason}
        if self.logprobs and body.get("logprobs") is not None:
            names = [f"token_id:{t}" if body.get("return_tokens_as_token_ids") else tok.decode([t]) for t in ids]
            choice["logprobs"] = {
                "text_offset": list(range(len(ids))),
                "token_logprobs": [None if self.null_logprobs else fake_logprob(t) for t in ids],
                "tokens": names,
                "top_logprobs": [{n: fake_logprob(t)} for n, t in zip(names, ids, strict=True)],
            }
        else:
            choice["logprobs"] = None
        if self.token_ids_field and body.get("return_token_ids"):
            choice |= {"prompt_token_ids": prompt, "token_ids": ids}
        usage = {"prompt_tokens": len(prompt), "completion_tokens": len(ids), "total_tokens": len(prompt) + len(ids)}
        return {"id": "cmpl-1", "object": "text_completion", "created": 0, "model": body["model"],
                "choices": [choice], "usage": usage}  # fmt: skip

    def _serve(self, path: str, body: dict) -> tuple[int, dict]:
        assert path == "/v1/completions", path
        return 200, self.reply(body)

    def close(self):
        self.http.close()


# --- a stand-in for the vllm package, shaped like vLLM's own classes ----------------------------
class TokensPrompt(TypedDict):
    prompt_token_ids: list[int]


class SamplingParams:
    """vLLM's keyword arguments (a subset); unknown ones fail, as they do in vLLM."""

    def __init__(
        self,
        *,
        n: int = 1,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = 0,
        min_p: float = 0.0,
        seed: int | None = None,
        stop: list[str] | None = None,
        include_stop_str_in_output: bool = False,
        max_tokens: int | None = 16,
        logprobs: int | None = None,
        repetition_penalty: float = 1.0,
    ) -> None:
        assert max_tokens is None or max_tokens >= 1, "vLLM refuses max_tokens < 1"
        self.__dict__.update({k: v for k, v in locals().items() if k != "self"})


@dataclass
class Logprob:
    logprob: float
    rank: int | None = None
    decoded_token: str | None = None


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]
    cumulative_logprob: float | None
    logprobs: list[dict[int, Logprob]] | None
    finish_reason: str | None = None
    stop_reason: int | str | None = None


@dataclass
class RequestOutput:
    request_id: str
    prompt: str | None
    prompt_token_ids: list[int]
    prompt_logprobs: Any
    outputs: list[CompletionOutput]
    finished: bool = True


@dataclass
class FakeLLM:
    engine: ScriptedEngine
    calls: list[int] = field(default_factory=list)

    def get_tokenizer(self):
        return self.engine.tok

    def generate(self, prompts, sampling_params=None, *, use_tqdm=True, lora_request=None):
        params = sampling_params if isinstance(sampling_params, list) else [sampling_params] * len(prompts)
        self.calls.append(len(prompts))
        outputs = []
        for i, (prompt, p) in enumerate(zip(prompts, params, strict=True)):
            ids, finish, reason = self.engine.sample(prompt["prompt_token_ids"], p.max_tokens, p.stop or [])
            lps = None if p.logprobs is None else [{t: Logprob(fake_logprob(t), rank=1)} for t in ids]
            text = self.engine.tok.decode(ids, skip_special_tokens=True)
            out = CompletionOutput(0, text, ids, sum(fake_logprob(t) for t in ids), lps, finish, reason)
            outputs.append(RequestOutput(str(i), None, prompt["prompt_token_ids"], None, [out]))
        return outputs


@pytest.fixture
def fake_vllm(monkeypatch):
    vllm = types.ModuleType("vllm")
    inputs = types.ModuleType("vllm.inputs")
    vllm.SamplingParams, inputs.TokensPrompt, vllm.inputs = SamplingParams, TokensPrompt, inputs
    monkeypatch.setitem(sys.modules, "vllm", vllm)
    monkeypatch.setitem(sys.modules, "vllm.inputs", inputs)
    return vllm


@pytest.fixture
def servers():
    made = []

    def make(engine, **kwargs):
        made.append(VLLMHTTPDouble(engine, **kwargs))
        return made[-1]

    yield make
    for s in made:
        s.close()


def script(tok) -> dict[str, list[str]]:
    return {
        "What is 6*7?": [
            "An example first:\n```text\nnot code\n```\nnow code:\n```python\nprint(6 * 7)\n```\nTRAILING PAST THE FENCE",
            "The result is 42, so <<<42>>>" + tok.eos_token + "ignored",
        ],
        "Name a prime.": ["Easy: <<<7>>>" + tok.eos_token],
    }


def check_token_episode(ep, tok):
    ids, mask, lps = ep.completion_ids, ep.completion_mask, ep.logprobs
    assert len(ids) == len(mask) == len(lps)
    assert tok.decode(ids, skip_special_tokens=True) == ep.completion
    for (a, b), seg in zip(ep.inserted_spans, [s for s in ep.segments if s.role == "interpreter"], strict=True):
        assert ep.completion[a:b] == seg.text
    inserted = [t for t, m in zip(ids, mask, strict=True) if m == 0]
    assert inserted == [t for s in ep.segments if s.role == "interpreter" for t in tok.encode(s.text)]
    assert all(p == 0.0 for p, m in zip(lps, mask, strict=True) if m == 0)
    assert all(p == fake_logprob(t) for t, p, m in zip(ids, lps, mask, strict=True) if m == 1)


def test_server_episode_token_ids_logprobs_and_mask(servers, qwen_tokenizer):
    tok = qwen_tokenizer
    engine = ScriptedEngine(tok, script(tok))
    server = servers(engine)
    gen = VLLMServerGenerator("policy", base_url=server.base_url, tokenizer=tok)
    first, second = EpisodeRunner(gen, EchoSandbox(), max_new_tokens=300).run(list(script(tok)))
    assert (first.answer, first.finish_reason, first.num_code_calls) == ("42", "answer", 1)
    assert "```text\nnot code\n```\n" in first.completion and "TRAILING" not in first.completion
    assert "ignored" not in first.completion and first.completion_ids[-1] == tok.eos_token_id
    assert second.answer == "7" and second.num_code_calls == 0
    for ep in (first, second):
        check_token_episode(ep, tok)
    # Every request sent token ids: the prompt plus exactly the ids the episode held, never re-tokenised.
    ours = [p for p in engine.prompts if p[: len(first.prompt_ids)] == first.prompt_ids]
    assert len(ours) == 3  # text fence (continued), python fence, answer
    assert ours[-1] == first.prompt_ids + first.completion_ids[: len(ours[-1]) - len(first.prompt_ids)]
    assert all(body["logprobs"] == 0 and body["return_token_ids"] for body in server.bodies)


def test_all_backends_make_the_same_tokens(servers, qwen_tokenizer, fake_vllm):
    """The same sampled tokens through transformers, a vLLM server and colocated vLLM give the same
    episode ids and mask: inserted text is tokenised one way everywhere."""
    tok = qwen_tokenizer
    question = "What is 6*7?"
    lm = ScriptedLM(tok, script(tok)[question][:])
    via_hf = EpisodeRunner(TransformersGenerator(lm, tok), EchoSandbox(), max_new_tokens=300).run([question])[0]
    server = servers(ScriptedEngine(tok, script(tok)))
    server_gen = VLLMServerGenerator("policy", base_url=server.base_url, tokenizer=tok)
    via_server = EpisodeRunner(server_gen, EchoSandbox(), max_new_tokens=300).run([question])[0]
    llm = FakeLLM(ScriptedEngine(tok, script(tok)))
    via_colocate = EpisodeRunner(VLLMColocateGenerator(llm), EchoSandbox(), max_new_tokens=300).run([question])[0]
    for other in (via_server, via_colocate):
        assert other.completion == via_hf.completion
        assert other.completion_ids == via_hf.completion_ids and other.completion_mask == via_hf.completion_mask
    assert via_hf.prompt_ids == via_server.prompt_ids == via_colocate.prompt_ids


def test_colocate_batches_each_round(qwen_tokenizer, fake_vllm):
    tok = qwen_tokenizer
    llm = FakeLLM(ScriptedEngine(tok, script(tok)))
    gen = get_generator("vllm-colocate", llm=llm, temperature=0.0)
    runner = EpisodeRunner(gen, EchoSandbox(), max_new_tokens=300)
    assert not runner.asynchronous
    first, second = runner.run(list(script(tok)))
    assert (first.answer, second.answer) == ("42", "7")
    assert llm.calls == [2, 1, 1]  # round 1 (both), the text-fence continuation, round 2
    check_token_episode(first, tok)


def test_budget_and_async_equals_rounds(servers, qwen_tokenizer):
    tok = qwen_tokenizer
    runs = []
    for mode in ("rounds", "async"):
        server = servers(ScriptedEngine(tok, script(tok)))
        gen = VLLMServerGenerator("policy", base_url=server.base_url, tokenizer=tok, temperature=0.0)
        runs.append(EpisodeRunner(gen, EchoSandbox(), max_new_tokens=300, mode=mode).run(list(script(tok))))
    assert [e.to_dict() for e in runs[0]] == [e.to_dict() for e in runs[1]]
    server = servers(ScriptedEngine(tok, script(tok)))
    gen = VLLMServerGenerator("policy", base_url=server.base_url, tokenizer=tok)
    (ep,) = EpisodeRunner(gen, EchoSandbox(), max_new_tokens=5).run(["What is 6*7?"])
    assert ep.finish_reason == "length" and len(ep.completion_ids) == 5 and ep.logprobs[0] != 0.0


def test_server_without_token_ids_field_falls_back_to_token_strings(servers, qwen_tokenizer):
    tok = qwen_tokenizer
    server = servers(ScriptedEngine(tok, script(tok)), token_ids_field=False)
    gen = VLLMServerGenerator("policy", base_url=server.base_url, tokenizer=tok)
    first, _ = EpisodeRunner(gen, EchoSandbox(), max_new_tokens=300).run(list(script(tok)))
    assert first.answer == "42"
    check_token_episode(first, tok)


def test_failures_are_episode_results_and_bad_setup_is_one_sentence(servers, qwen_tokenizer, monkeypatch):
    tok = qwen_tokenizer
    server = servers(ScriptedEngine(tok, script(tok)), logprobs=False)
    gen = VLLMServerGenerator("policy", base_url=server.base_url, tokenizer=tok)
    (ep,) = EpisodeRunner(gen, EchoSandbox()).run(["Name a prime."])
    assert ep.finish_reason == "generator_error" and "no logprobs" in ep.error
    down = VLLMServerGenerator("p", base_url="http://127.0.0.1:9/v1", tokenizer=tok, max_retries=0, request_timeout=2)
    (ep,) = EpisodeRunner(down, EchoSandbox()).run(["q"])
    assert ep.finish_reason == "generator_error" and "Connection" in ep.error
    with pytest.raises(InputError, match="tokenizer"):
        get_generator("vllm-server", model="p", base_url="http://127.0.0.1:9/v1", tokenizer=None)
    with pytest.raises(InputError, match="base_url"):
        VLLMServerGenerator("p", base_url="", tokenizer=tok)
    monkeypatch.setitem(sys.modules, "vllm", None)  # vllm absent: importing it raises ImportError
    with pytest.raises(InputError, match=r"pip install 'r1ci\[vllm\]' .*CUDA|CUDA.*pip install 'r1ci\[vllm\]'"):
        get_generator("vllm-colocate", llm=object())


def test_colocate_needs_an_llm(fake_vllm, qwen_tokenizer):
    with pytest.raises(InputError, match="trainer.vllm_generation.llm"):
        VLLMColocateGenerator(None, qwen_tokenizer)


def test_endless_non_python_fences_are_cut_off(servers, qwen_tokenizer):
    # A policy that keeps closing text blocks costs one request per fence: at most 1 + 8 of them.
    tok = qwen_tokenizer
    engine = ScriptedEngine(tok, {"q": ["```text\nx\n```\n" * 20 + "<<<1>>>" + tok.eos_token]})
    server = servers(engine)
    gen = VLLMServerGenerator("policy", base_url=server.base_url, tokenizer=tok)
    (ep,) = EpisodeRunner(gen, EchoSandbox(), max_new_tokens=2000).run(["q"])
    assert ep.finish_reason == "length" and ep.answer is None and len(server.bodies) == 9
    assert ep.completion.count("```text") == 9
    check_token_episode(ep, tok)


def test_null_logprobs_become_zero(servers, qwen_tokenizer):
    tok = qwen_tokenizer
    server = servers(ScriptedEngine(tok, script(tok)))
    server.null_logprobs = True
    gen = VLLMServerGenerator("policy", base_url=server.base_url, tokenizer=tok)
    (ep,) = EpisodeRunner(gen, EchoSandbox()).run(["Name a prime."])
    assert ep.answer == "7" and ep.logprobs == [0.0] * len(ep.completion_ids)


def test_grpo_rollouts_through_trl_vllm_modes(servers, qwen_tokenizer, fake_vllm):
    """GRPOConfig(use_vllm=True) picks our vLLM backends; a rollout batch from TRL's vLLM server (its
    client's base_url and served model) and from its colocated LLM gives the same ids and masks."""
    from types import SimpleNamespace

    from code_interpreter.protocol import ProtocolConfig
    from trainers.grpo_rollouts import (
        generator_factory_for,
        make_rollout_func,
        training_model_generator,
        vllm_colocate_generator,
        vllm_server_generator,
    )

    tok = qwen_tokenizer
    assert generator_factory_for(SimpleNamespace(use_vllm=False)) is training_model_generator
    assert generator_factory_for(SimpleNamespace(use_vllm=True, vllm_mode="server")) is vllm_server_generator
    assert generator_factory_for(SimpleNamespace(use_vllm=True, vllm_mode="colocate")) is vllm_colocate_generator
    server = servers(ScriptedEngine(tok, script(tok)))
    args = SimpleNamespace(temperature=1.0, top_p=1.0, top_k=None, generation_kwargs=None)
    client = SimpleNamespace(base_url=server.base_url.removesuffix("/v1"), model="policy")
    llm = FakeLLM(ScriptedEngine(tok, script(tok)))
    trainer = SimpleNamespace(
        args=args, processing_class=tok, vllm_generation=SimpleNamespace(vllm_client=client, llm=llm)
    )
    prompts = [[{"role": "user", "content": q}] for q in script(tok)]
    batches = []
    for factory in (vllm_server_generator, vllm_colocate_generator):
        rollout = make_rollout_func(
            sandbox=EchoSandbox(), protocol=ProtocolConfig(), max_completion_length=300, generator_factory=factory
        )
        batches.append(rollout(prompts, trainer))
    via_server, via_colocate = batches
    for key in ("prompt_ids", "completion_ids", "env_mask"):
        assert via_server[key] == via_colocate[key], key
    assert 0 in via_server["env_mask"][0] and all(
        lp == 0.0 for lp, m in zip(via_server["logprobs"][0], via_server["env_mask"][0], strict=True) if m == 0
    )
    assert server.bodies and all(body["model"] == "policy" for body in server.bodies)
