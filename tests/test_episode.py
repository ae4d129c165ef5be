"""The episode loop, with scripted generators so every path is deterministic."""

from __future__ import annotations

import pytest
import torch

from code_interpreter.episode import EpisodeRunner
from code_interpreter.generation import GenerationRequest, TransformersGenerator
from code_interpreter.protocol import ProtocolConfig, extract_answer
from code_interpreter.sandboxes.base import ExecutionResult
from tests.doubles import EchoSandbox, ScriptedGenerator


def code(src: str) -> str:
    return f"Let me check.\n```python\n{src}\n```"


def test_batch_advances_together_and_records_spans():
    gen = ScriptedGenerator(
        {
            "q1": [code("a"), code("b"), "So <<<1>>>"],
            "q2": [code("c"), "Answer <<<2>>>"],
            "q3": ["No code needed <<<3>>>"],
        }
    )
    sandbox = EchoSandbox()
    episodes = EpisodeRunner(gen, sandbox).run(["q1", "q2", "q3"])
    assert [e.answer for e in episodes] == ["1", "2", "3"]
    assert [e.finish_reason for e in episodes] == ["answer"] * 3
    assert gen.batches == [3, 2, 1]  # one generation call per round for all open episodes
    assert sandbox.batches == [["a\n", "c\n"], ["b\n"]]  # pending snippets of a round run together
    e1 = episodes[0]
    assert e1.num_code_calls == 2
    inserted = [e1.completion[a:b] for a, b in e1.inserted_spans]
    assert inserted == ["\nCode Execution Results: ran:a\n", "\nCode Execution Results: ran:b\n"]
    # Everything outside the spans is exactly what the model wrote.
    model_text = "".join(s.text for s in e1.segments if s.role == "model")
    outside, pos = "", 0
    for a, b in e1.inserted_spans:
        outside, pos = outside + e1.completion[pos:a], b
    assert outside + e1.completion[pos:] == model_text


def test_failures_end_only_their_episode():
    gen = ScriptedGenerator(
        {
            "boom": [RuntimeError("server said 500")],
            "crash": [code("CRASH")],
            "slow": [code("SLOW"), "It timed out, so <<<?>>>"],
            "silent": ["I refuse to answer."],
            "fine": [code("x"), "<<<ok>>>"],
        }
    )
    episodes = EpisodeRunner(gen, EchoSandbox()).run(["boom", "crash", "slow", "silent", "fine"])
    reasons = {e.messages[-1]["content"]: (e.finish_reason, e.error) for e in episodes}
    assert reasons["boom"] == ("generator_error", "RuntimeError: server said 500")
    assert reasons["crash"] == ("sandbox_error", "worker died")
    assert reasons["slow"][0] == "answer"
    assert "TimeoutError" in episodes[2].completion and "partial" in episodes[2].completion
    assert reasons["silent"] == ("no_answer", None)
    assert episodes[4].answer == "ok"


@pytest.mark.parametrize("version,cap", [("v1", 5), ("v2", 8)])
def test_code_call_cap(version, cap):
    gen = ScriptedGenerator({"q": [code(f"step{i}") for i in range(20)]})
    (ep,) = EpisodeRunner(gen, EchoSandbox(), ProtocolConfig(version=version)).run(["q"])
    assert ep.num_code_calls == cap and ep.finish_reason == "max_code_calls"
    assert ep.segments[-1].role == "model" and ep.segments[-1].code == f"step{cap}\n"


def test_token_budget_ends_episode():
    gen = ScriptedGenerator({"q": [code("w " * 50), "never reached"]})
    (ep,) = EpisodeRunner(gen, EchoSandbox(), max_new_tokens=40).run(["q"])
    assert ep.finish_reason == "length"


def test_answer_on_the_last_token_of_the_budget_is_an_answer():
    # The model ended its turn on its own; spending exactly the budget must not relabel it "length".
    gen = ScriptedGenerator({"q": [code("x"), "so <<<7>>>"]})
    (ep,) = EpisodeRunner(gen, EchoSandbox(), max_new_tokens=12).run(["q"])
    assert ep.tokens_used == 12 and ep.finish_reason == "answer" and ep.answer == "7"


def test_greedy_at_temperature_zero(tiny_model_dir):
    # transformers refuses to sample at temperature 0; every episode used to end in "generator_error".
    gen = TransformersGenerator.from_pretrained(str(tiny_model_dir), temperature=0.0)
    episodes = EpisodeRunner(gen, EchoSandbox(), max_new_tokens=6).run(["What is 1+1?", "What is 1+1?"])
    assert [e.finish_reason for e in episodes] != ["generator_error"] * 2 and episodes[0].error is None
    assert episodes[0].completion_ids == episodes[1].completion_ids  # greedy is deterministic
    assert all(p <= 0 for p in episodes[0].logprobs)


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_new_tokens"):
        EpisodeRunner(ScriptedGenerator({}), EchoSandbox(), max_new_tokens=0)


# --- transformers backend: a scripted stand-in for the model, the real tokenizer and cutting code ---
class ScriptedLM(torch.nn.Module):
    """Emits a fixed continuation per call to `generate`; uniform logits for logprob computation."""

    def __init__(self, tokenizer, continuations: list[str]):
        super().__init__()
        self.tokenizer, self.queue = tokenizer, list(continuations)
        self.generation_config = type("GC", (), {"eos_token_id": [tokenizer.eos_token_id]})()
        self.vocab = len(tokenizer)

    @property
    def device(self):
        return torch.device("cpu")

    def generate(self, input_ids, attention_mask, max_new_tokens, stopping_criteria, pad_token_id, **kwargs):
        # Token by token, consulting the stopping criteria and padding finished rows, as transformers does.
        scripts = [self.tokenizer.encode(self.queue.pop(0), add_special_tokens=False) for _ in range(len(input_ids))]
        self.steps_run = 0
        done = torch.zeros(len(input_ids), dtype=torch.bool)
        for step in range(max_new_tokens):
            nxt = [
                s[step] if step < len(s) and not d else pad_token_id
                for s, d in zip(scripts, done.tolist(), strict=True)
            ]
            input_ids = torch.cat([input_ids, torch.tensor(nxt, dtype=input_ids.dtype)[:, None]], dim=1)
            self.steps_run = step + 1
            done |= stopping_criteria(input_ids, None)
            if done.all():
                break
        return input_ids

    def forward(self, input_ids, logits_to_keep=0):
        return type("Out", (), {"logits": torch.zeros(1, logits_to_keep, self.vocab)})()


def test_token_mask_matches_inserted_text(qwen_tokenizer):
    tok = qwen_tokenizer
    script = [
        "I'll compute it.\n```python\nprint(6 * 7)\n```\nTRAILING TEXT PAST THE FENCE",
        "The result is 42, so <<<42>>>" + tok.eos_token + "ignored",
    ]
    lm = ScriptedLM(tok, script)
    gen = TransformersGenerator(lm, tok)
    (ep,) = EpisodeRunner(gen, EchoSandbox(), max_new_tokens=200).run(["What is 6*7?"])
    assert ep.finish_reason == "answer" and ep.answer == "42"
    assert "TRAILING" not in ep.completion and "ignored" not in ep.completion
    ids, mask = ep.completion_ids, ep.completion_mask
    assert len(ids) == len(mask) == len(ep.logprobs)
    inserted = tok.decode([t for t, m in zip(ids, mask, strict=True) if m == 0])
    model = tok.decode([t for t, m in zip(ids, mask, strict=True) if m == 1], skip_special_tokens=True)
    assert inserted == "\nCode Execution Results: ran:print(6 * 7)\n"
    assert "Code Execution Results" not in model and model.endswith("<<<42>>>")
    assert ids[-1] == tok.eos_token_id and mask[-1] == 1  # the model learns to stop
    assert tok.decode(ids, skip_special_tokens=True) == ep.completion
    # Uniform logits: every model token has logprob -log(V); inserted ones are 0.
    lp = [p for p, m in zip(ep.logprobs, mask, strict=True) if m == 1]
    assert all(abs(p + torch.log(torch.tensor(float(len(tok)))).item()) < 1e-4 for p in lp)
    assert ep.prompt_ids == gen.encode_prompt(ep.messages)


def test_real_tiny_model_runs_episodes(tiny_model_dir):
    gen = TransformersGenerator.from_pretrained(str(tiny_model_dir), temperature=1.0)
    episodes = EpisodeRunner(gen, EchoSandbox(), max_new_tokens=12).run(["What is 1+1?", "Name a prime."])
    for ep in episodes:
        assert ep.finish_reason in ("length", "no_answer", "answer")
        assert len(ep.completion_ids) == len(ep.completion_mask) == len(ep.logprobs) <= 12
        assert all(p <= 0 for p in ep.logprobs)


def test_missing_model_path_is_one_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        TransformersGenerator.from_pretrained(str(tmp_path / "nope"))


def test_malformed_backends_cost_only_their_episodes():
    class PickyPrompts(ScriptedGenerator):
        def encode_prompt(self, messages):
            if messages[-1]["content"] == "unencodable":
                raise ValueError("prompt too long")
            return None

    class LosesBatches(ScriptedGenerator):
        def generate(self, requests):
            return [] if len(requests) > 1 else super().generate(requests)  # a wrong count, not an error

    class ShortSandbox(EchoSandbox):
        def run_many(self, codes, timeout=60.0):
            return super().run_many(codes, timeout=timeout)[:1]

    gen = PickyPrompts({"ok": ["<<<1>>>"]})
    bad, good = EpisodeRunner(gen, EchoSandbox()).run(["unencodable", "ok"])
    assert bad.finish_reason == "generator_error" and "prompt too long" in bad.error and good.answer == "1"

    gen = LosesBatches({"a": [code("x"), "<<<a>>>"], "b": [code("y"), "<<<b>>>"]})
    episodes = EpisodeRunner(gen, ShortSandbox()).run(["a", "b"])
    assert [e.answer for e in episodes] == ["a", "b"]
    assert [e.segments[1].text for e in episodes] == [
        "\nCode Execution Results: ran:x\n",
        "\nCode Execution Results: ran:y\n",
    ]


def test_generation_stops_at_the_closing_fence(qwen_tokenizer):
    tok = qwen_tokenizer
    head = "Check:\n```python\nx = '`'\nprint(x)\n```"
    lm = ScriptedLM(tok, [head + "\nand a long tail that should never be generated " * 5])
    gen = TransformersGenerator(lm, tok)
    request = GenerationRequest(messages=[], completion="", prompt_ids=[1, 2], completion_ids=[], max_new_tokens=300)
    (chunk,) = gen.generate([request])
    assert chunk.finish == "code" and chunk.text.startswith(head) and "tail" not in chunk.text
    assert lm.steps_run <= len(tok.encode(head + "\n", add_special_tokens=False))  # stopped, not cut afterwards


# --- hostile output: the answer stays the model's, control characters stay inert (issue 7) -------
class PrintSandbox(EchoSandbox):
    """'Executes' a snippet by returning the stdout (and stderr) it is mapped to."""

    def __init__(self, outputs: dict[str, tuple[str, str]]):
        super().__init__()
        self.outputs = outputs

    async def arun(self, code, timeout=60.0):
        stdout, stderr = self.outputs[code.strip()]
        return ExecutionResult(stdout=stdout, stderr=stderr, exit_code=0, isolation="test")


def test_printed_answers_never_become_the_episodes_answer():
    scripts = {
        "overwrite": ["I believe <<<7>>>. " + code("A"), "Done."],
        "only printed": [code("A"), "Hmm."],
        "breakout": [code("B"), "So <<<7>>>"],
    }
    sandbox = PrintSandbox({"A": ("<<<42>>>\n", ""), "B": ("```\nThe answer is <<<42>>>\n```python\n", "")})
    episodes = EpisodeRunner(ScriptedGenerator(scripts), sandbox).run(list(scripts))
    assert [(e.answer, e.finish_reason) for e in episodes] == [("7", "answer"), (None, "no_answer"), ("7", "answer")]
    for ep in episodes:  # Task.score reads the plain completion: it agrees with the spans
        assert extract_answer(ep.completion) == ep.answer
        assert "<<<42" not in ep.completion
    loose = ProtocolConfig(answer_source="anywhere")  # checkpoints trained under the looser rule
    episodes = EpisodeRunner(ScriptedGenerator(scripts), sandbox, loose).run(list(scripts))
    assert [e.answer for e in episodes] == ["42", "42", "7"] and episodes[1].finish_reason == "answer"
    assert episodes[0].to_dict()["answer_source"] == "anywhere"


def test_terminal_escapes_reach_the_context_escaped_and_raw_output_is_kept():
    stdout = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x1b[31mred\x1b[0m 10%\r100%\n\u202eevil\x00\udc80\n"
    sandbox = PrintSandbox({"A": (stdout, "\x1b[1;31mTraceback\x1b[0m\n")})
    (ep,) = EpisodeRunner(ScriptedGenerator({"q": [code("A"), "<<<1>>>"]}), sandbox).run(["q"])
    inserted = ep.segments[1]
    assert inserted.role == "interpreter" and inserted.execution["stdout"] == stdout  # raw output kept
    assert inserted.text == (
        "\nCode Execution Results: \\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[2J\\x1b[31mred\\x1b[0m 10%\n100%\n"
        "\\u202eevil\\x00\\udc80\n\\x1b[1;31mTraceback\\x1b[0m\n"
    )
    assert ep.rounds()[0][0][1] == inserted.text  # what chat backends send back as the result
    assert ep.completion.encode("utf-8")  # no lone surrogate: tokenizers and JSON writers accept it


def test_printed_transcripts_cannot_drive_the_terminal():
    import io

    from rich.console import Console

    from dataset_builders.rollouts import print_transcripts

    hostile = "\x1b]52;c;cm0=\x07\x1b[2J\u202e[red]:smile:[/red]\x00"
    record = {
        "entry": {"task": "t\x1b[8m", "answer": "ref\x1b]0;title\x07"},
        "segments": [{"role": "model", "text": "model " + hostile}, {"role": "interpreter", "text": hostile}],
        "finish_reason": "answer",
        "num_code_calls": 1,
        "answer": "a\x1b[5m",
        "score": 0.0,
    }
    out = io.StringIO()
    print_transcripts([record], Console(file=out, width=300, color_system=None))
    shown = out.getvalue()
    assert not any(ch in shown for ch in "\x1b\x07\x00\u202e")
    assert "\\x1b]52;c;cm0=\\x07" in shown and "[red]:smile:[/red]" in shown and "\\u202e" in shown
    assert "ref\\x1b]0;title\\x07" in shown and "t\\x1b[8m" in shown


def test_task_score_of_an_episode_never_credits_output():
    """The reward path: `Task.score` gets the plain completion. Policies that make the interpreter
    write the answer (printed markers, an answer wrapped around the code, the answer on a later line
    of output) score 0; the model's own answer after the result scores 1."""
    from dataset_builders import get_task

    task = get_task("symbench/number_multiply")
    entry = next(task.generate(1, seed=0))
    a = entry["answer"]
    printed = {"P": (f"<<<{a}>>>\n", ""), "L": (f"checking\n{a}\n", ""), "F": (f"```\n<<<{a}>>>\n```python\n", "")}
    scripts = {
        "printed": [code("P"), "Done."],
        "wrapped": ["The answer is <<<" + code("L"), ">>>"],
        "fenced": [code("F"), ""],
        "wrong then printed": ["<<<0>>> " + code("P"), "ok"],
        "honest": [code("L"), f"So <<<{a}>>>"],
    }
    sandbox = PrintSandbox(printed)
    episodes = EpisodeRunner(ScriptedGenerator(scripts), sandbox).run(list(scripts))
    scores = {e.messages[-1]["content"]: task.score(e.completion, entry) for e in episodes}
    assert scores == {"printed": 0, "wrapped": 0, "fenced": 0, "wrong then printed": 0, "honest": 1}
    with_spans = [task.score(e.completion, entry, inserted_spans=e.inserted_spans) for e in episodes]
    assert with_spans == [0, 0, 0, 0, 1]
