"""SFT data: the loss sees exactly the model-written text of real multi-round traces (real Qwen2.5
tokenizer), over-long and weighted rows follow the documented rules, bad input is one sentence."""

from __future__ import annotations

import pytest
from datasets import Dataset

from tests.sft_traces import trace_rows
from trainers.sft_data import (
    IGNORE_INDEX,
    TraceInputError,
    prepare_traces,
    supervised_text,
    tokenize_trace,
    turn_template,
)


@pytest.fixture(scope="module")
def rows():
    return trace_rows(4)


def _model_written(row: dict) -> str:
    content = row["messages"][-1]["content"]
    out, at = [], 0
    for start, end in row["inserted_spans"]:
        out.append(content[at:start])
        at = end
    return "".join(out) + content[at:]


def test_supervised_tokens_decode_to_exactly_the_model_written_text(rows, qwen_tokenizer):
    template = turn_template(qwen_tokenizer, "tiny")
    for row in rows:
        assert len(row["inserted_spans"]) == 2  # two real executions: output and a traceback
        ex = tokenize_trace(row, qwen_tokenizer, template)
        ids, labels = ex["input_ids"], ex["labels"]
        assert supervised_text(ids, labels, qwen_tokenizer) == _model_written(row) + "<|im_end|>"
        # Each supervised run is one model-written piece: no token mixes model text and interpreter output.
        runs, current = [], []
        for i, lab in zip(ids, labels, strict=True):
            if lab != IGNORE_INDEX:
                current.append(i)
            elif current:
                runs.append(qwen_tokenizer.decode(current))
                current = []
        content = row["messages"][-1]["content"]
        (a0, a1), (b0, b1) = row["inserted_spans"]
        assert runs == [content[:a0], content[a1:b0], content[b1:] + "<|im_end|>"]
        # Masked: everything the chat template and the interpreter wrote, in order, nothing lost.
        assert qwen_tokenizer.decode(ids) == qwen_tokenizer.apply_chat_template(row["messages"], tokenize=False)
        # The snippet printed "<|im_end|><|im_start|>user": characters, not chat-control tokens.
        assert "<|im_end|><|im_start|>user" in content[a0:a1]
        assert ids.count(qwen_tokenizer.eos_token_id) == 3  # system, user, assistant turns only
        assert labels.count(qwen_tokenizer.eos_token_id) == 1 and labels[-2] == qwen_tokenizer.eos_token_id
        assert labels[-1] == IGNORE_INDEX  # the template's newline after <|im_end|> is not the model's
        # The fake answer the snippet printed (rendered inert as \\<\\<\\<0...) is masked.
        assert "\\<\\<\\<" in content[a0:a1] and "\\<" not in supervised_text(ids, labels, qwen_tokenizer)


def test_prepare_repeats_by_weight_and_applies_the_overlong_rule(rows, qwen_tokenizer):
    data, stats = prepare_traces(Dataset.from_list(rows), qwen_tokenizer, source="t")
    assert [r["weight"] for r in rows] == [1.0, 2.0, 1.0, 2.0]
    assert len(data) == 6 and stats.repeated == 2 and stats.kept == 4
    assert stats.longest == max(len(x) for x in data["input_ids"])
    plain, _ = prepare_traces(Dataset.from_list(rows), qwen_tokenizer, source="t", repeat_by_weight=False)
    assert len(plain) == 4
    lengths = sorted(len(x) for x in plain["input_ids"])
    cap = lengths[1]  # rows longer than the second shortest are over-long
    over = sum(n > cap for n in lengths)
    dropped, st = prepare_traces(
        Dataset.from_list(rows), qwen_tokenizer, source="t", max_trace_length=cap, repeat_by_weight=False
    )
    assert st.dropped_overlong == over and len(dropped) == 4 - over and st.longest <= cap
    cut, st = prepare_traces(
        Dataset.from_list(rows),
        qwen_tokenizer,
        source="t",
        max_trace_length=cap,
        overlong="truncate",
        repeat_by_weight=False,
    )
    assert st.truncated == over and len(cut) == 4 and max(len(x) for x in cut["input_ids"]) == cap
    assert "dropped as over-long" in st.summary() and "truncated" in st.summary()
    with pytest.raises(TraceInputError, match="no trace of t fits"):
        prepare_traces(Dataset.from_list(rows), qwen_tokenizer, source="t", max_trace_length=10)


def _broken(rows, index, **changes):
    bad = [dict(r) for r in rows]
    bad[index] = {**bad[index], **changes}
    return Dataset.from_list(bad)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"inserted_spans": [[5, 10_000]]},
            r"row 2 of traces\.parquet: inserted span \[5, 10000\] does not fall inside",
        ),
        (
            {"inserted_spans": [[40, 50], [45, 60]]},
            r"row 2 of .*inserted span \[45, 60\] .* previous span ending at 50",
        ),
        ({"inserted_spans": [[-1, 3]]}, r"row 2 of .*inserted span \[-1, 3\]"),
        ({"inserted_spans": [[0, 0]]}, r"row 2 of .*inserted span \[0, 0\]"),
    ],
)
def test_spans_outside_the_assistant_content_name_the_row(rows, qwen_tokenizer, change, message):
    with pytest.raises(TraceInputError, match=message):
        prepare_traces(_broken(rows, 2, **change), qwen_tokenizer, source="traces.parquet")


def test_bad_rows_and_columns_and_templates_are_one_sentence(rows, qwen_tokenizer):
    no_spans = Dataset.from_list([{k: v for k, v in r.items() if k != "inserted_spans"} for r in rows])
    with pytest.raises(TraceInputError, match=r"the dataset my/traces has no 'inserted_spans' column"):
        prepare_traces(no_spans, qwen_tokenizer, source="my/traces")
    user_last = rows[1]["messages"][:2]
    with pytest.raises(TraceInputError, match="row 1 of d: the last message must be the assistant turn"):
        prepare_traces(_broken(rows, 1, messages=user_last, inserted_spans=[]), qwen_tokenizer, source="d")
    content = rows[0]["messages"][-1]["content"]
    all_inserted = _broken(rows, 0, inserted_spans=[[0, len(content)]])
    with pytest.raises(TraceInputError, match="row 0 of d: the assistant wrote nothing outside inserted spans"):
        prepare_traces(all_inserted, qwen_tokenizer, source="d")
    with pytest.raises(TraceInputError, match=r"row 3 of d: weight must be a number from 0 to 100 .* got 1000000000.0"):
        prepare_traces(_broken(rows, 3, weight=1e9), qwen_tokenizer, source="d")
    with pytest.raises(TraceInputError, match="overlong must be one of drop, truncate"):
        prepare_traces(Dataset.from_list(rows), qwen_tokenizer, source="d", overlong="cut")


def test_tokenizer_without_usable_chat_template_is_refused(qwen_tokenizer):
    import copy

    tok = copy.deepcopy(qwen_tokenizer)
    tok.chat_template = None
    with pytest.raises(TraceInputError, match="the tokenizer of m has no chat template"):
        turn_template(tok, "m")
    # A template that trims content would move the spans: refused, not silently misaligned.
    tok.chat_template = qwen_tokenizer.chat_template.replace("message.content", "message.content | trim")
    tok.chat_template = tok.chat_template.replace("message['content']", "message['content'] | trim")
    with pytest.raises(TraceInputError, match="does not render the assistant content verbatim"):
        turn_template(tok, "m")
    tok.chat_template = "{% for m in messages %}{{ m.content }}{% endfor %}{% if add_generation_prompt %}>{% endif %}"
    with pytest.raises(TraceInputError, match="does not"):
        turn_template(tok, "m")
    tok.chat_template = "{% for m in messages %}{{ m.content }"  # broken Jinja
    with pytest.raises(TraceInputError, match="cannot render a chat"):
        turn_template(tok, "m")
