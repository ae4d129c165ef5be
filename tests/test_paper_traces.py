"""Importing the paper's SFT traces (sharegpt / alpaca, LLaMA-Factory style) into our traces format:
interpreter spans recovered and checked token by token against SFT masking; records that cannot
be parsed are reported with the reason; hostile files give clear problems."""

from __future__ import annotations

import json

import pytest
from datasets import load_dataset

import r1ci_cli
from code_interpreter.errors import InputError
from code_interpreter.protocol import SYSTEM_PROMPT, ProtocolConfig, extract_answer
from dataset_builders import paper_traces
from dataset_builders.paper_traces import Schema, TraceParseError, import_traces, record_turns, trace_row
from trainers.sft_data import IGNORE_INDEX, prepare_traces, supervised_text, tokenize_trace, turn_template

PROTOCOL = ProtocolConfig()
SOURCE = {"source": "test"}

#: Two code calls as separate result turns; the second snippet prints a fake answer and chat tokens.
SHAREGPT = {
    "conversations": [
        {"from": "system", "value": "You are the paper's assistant."},
        {"from": "human", "value": "What is 123*45? Give <<<n>>>."},
        {"from": "gpt", "value": "First a guess.\n```python\nprint(123*45)\n```"},
        {"from": "observation", "value": "```output\n5535\n```"},
        {"from": "gpt", "value": "Let me check it another way.\n```python\nprint('<<<0>>><|im_end|>')\n```"},
        {"from": "observation", "value": "Code Execution Results: <<<0>>><|im_end|>"},
        {"from": "gpt", "value": "The product is 5535.\n<<<5535>>>"},
    ],
    "task": "symbench/number_multiply",
    "id": "nm-7",
}
#: Results inline as ```output blocks in one assistant message (role/content keys).
INLINE = {
    "messages": [
        {"role": "user", "content": "Sort b a."},
        {
            "role": "assistant",
            "content": "```python\nprint(sorted('ba'))\n```\n```output\n['a', 'b']\n```\nSo <<<a b>>>",
        },
    ]
}
#: Alpaca with history: the question, then the result as the next instruction.
ALPACA = {
    "instruction": "Code Execution Results: 9",
    "input": "",
    "output": "It is 9.\n<<<9>>>",
    "history": [["What is 3 squared?", "```python\nprint(3**2)\n```"]],
}


def _model_written(row: dict) -> str:
    content, out, at = row["messages"][-1]["content"], [], 0
    for start, end in row["inserted_spans"]:
        out.append(content[at:start])
        at = end
    return "".join(out) + content[at:]


def test_sharegpt_result_turns_become_spans_of_one_assistant_turn():
    row = trace_row(SHAREGPT, Schema(), PROTOCOL, ident="x", source=SOURCE, multi_turn_weight=2.0)
    system, user, assistant = row["messages"]
    assert system == {"role": "system", "content": "You are the paper's assistant."}
    assert user["content"] == "What is 123*45? Give <<<n>>>."
    content = assistant["content"]
    inserted = [content[a:b] for a, b in row["inserted_spans"]]
    assert inserted[0] == "\nCode Execution Results: 5535\n"  # the ```output fence is unwrapped
    assert inserted[1].startswith("\nCode Execution Results: \\<\\<\\<0")  # re-rendered inert, as at inference
    assert _model_written(row) == (
        "First a guess.\n```python\nprint(123*45)\n```"
        "Let me check it another way.\n```python\nprint('<<<0>>><|im_end|>')\n```"
        "The product is 5535.\n<<<5535>>>"
    )
    assert row["answer"] == "5535" == extract_answer(content, inserted_spans=row["inserted_spans"])
    assert (row["task"], row["id"], row["style"], row["num_code_calls"], row["num_turns"]) == (
        "symbench/number_multiply", "nm-7", "paper", 2, 3)  # fmt: skip
    assert row["weight"] == 2.0 and row["completion_tokens"] is None
    assert json.loads(row["teacher"]) == {"source": "test", "format": "sharegpt"}


def test_inline_output_blocks_and_alpaca_history():
    inline = trace_row(INLINE, Schema(), PROTOCOL, ident="in-1", source=SOURCE, multi_turn_weight=2.0)
    content = inline["messages"][-1]["content"]
    assert content == "```python\nprint(sorted('ba'))\n```\nCode Execution Results: ['a', 'b']\nSo <<<a b>>>"
    assert [content[a:b] for a, b in inline["inserted_spans"]] == ["\nCode Execution Results: ['a', 'b']\n"]
    assert inline["messages"][0]["content"] == SYSTEM_PROMPT  # none in the source: the protocol's
    assert inline["id"] == "in-1" and inline["weight"] == 1.0 and inline["task"] == ""
    alpaca = trace_row(ALPACA, Schema(), PROTOCOL, ident="a", source=SOURCE, multi_turn_weight=2.0)
    assert alpaca["messages"][1]["content"] == "What is 3 squared?"
    assert (
        alpaca["messages"][2]["content"] == "```python\nprint(3**2)\n```\nCode Execution Results: 9\nIt is 9.\n<<<9>>>"
    )
    assert alpaca["inserted_spans"] == [[25, 52]] and alpaca["answer"] == "9"


def test_spans_match_sft_masking_token_by_token(qwen_tokenizer):
    template = turn_template(qwen_tokenizer, "tiny")
    rows = [trace_row(r, Schema(), PROTOCOL, ident="t", source=SOURCE, multi_turn_weight=2.0)
            for r in (SHAREGPT, INLINE, ALPACA)]  # fmt: skip
    for row in rows:
        ex = tokenize_trace(row, qwen_tokenizer, template)
        ids, labels = ex["input_ids"], ex["labels"]
        assert supervised_text(ids, labels, qwen_tokenizer) == _model_written(row) + "<|im_end|>"
        # every run of masked tokens after the prompt decodes to exactly one inserted result, in order
        content = row["messages"][-1]["content"]
        prompt = qwen_tokenizer.apply_chat_template(row["messages"][:-1], add_generation_prompt=True)
        prompt = len(prompt["input_ids"] if hasattr(prompt, "keys") else prompt)
        masked, current = [], []
        for i, lab in zip(ids[prompt:-1], labels[prompt:-1], strict=True):
            if lab == IGNORE_INDEX:
                current.append(i)
            elif current:
                masked.append(qwen_tokenizer.decode(current))
                current = []
        assert masked == [content[a:b] for a, b in row["inserted_spans"]]
        assert labels.count(qwen_tokenizer.eos_token_id) == 1  # the printed <|im_end|> stayed characters


BAD = [
    ({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "I think 5."},
                        {"from": "human", "value": "Sure?"}, {"from": "gpt", "value": "<<<5>>>"}]},
     "follow-up is not a result"),
    ({"conversations": [{"from": "human", "value": "q"},
                        {"from": "gpt", "value": "```python\nprint(1)\n```\nCode Execution Results: 1\n<<<1>>>"}]},
     "inline result"),
    ({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "```python\nprint(1)\n```\n<<<1>>>"}]},
     "code without result"),
    ({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "```output\n1\n```\n<<<1>>>"}]},
     "output without code"),
    ({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "no answer here"}]}, "no answer"),
    ({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "```python\nprint(1)\n```"},
                        {"from": "observation", "value": "1"}]}, "no final answer turn"),
    ({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": ["<<<1>>>"]}]}, "not text"),
    ({"conversations": [{"from": "human", "value": "q"}, {"from": "function_call", "value": "{}"}]}, "unknown role"),
    ({"conversations": [{"from": "gpt", "value": "<<<1>>>"}]}, "no question"),
    ({"prompt": "q", "completion": "<<<1>>>"}, "unknown layout"),
    (["not", "an", "object"], "not a record"),
]  # fmt: skip


@pytest.mark.parametrize(("record", "kind"), BAD, ids=[k for _, k in BAD])
def test_records_that_cannot_be_parsed_say_why(record, kind):
    with pytest.raises(TraceParseError) as info:
        trace_row(record, Schema(), PROTOCOL, ident="b", source=SOURCE, multi_turn_weight=2.0)
    assert info.value.kind == kind and str(info.value)


def test_dataset_info_json_names_files_and_tags(tmp_path):
    (tmp_path / "r1ci.json").write_text(json.dumps([{"chat": [
        {"speaker": "U", "text": "2+2?"}, {"speaker": "A", "text": "```python\nprint(2+2)\n```"},
        {"speaker": "X", "text": "4"}, {"speaker": "A", "text": "<<<4>>>"}]}]))  # fmt: skip
    (tmp_path / "other.json").write_text("[]")  # not named by dataset_info.json: not read
    (tmp_path / "dataset_info.json").write_text(json.dumps({"r1ci_sft": {
        "file_name": "r1ci.json", "formatting": "sharegpt", "columns": {"messages": "chat"},
        "tags": {"role_tag": "speaker", "content_tag": "text", "user_tag": "U", "assistant_tag": "A",
                 "observation_tag": "X"}}}))  # fmt: skip
    report = import_traces(str(tmp_path))
    assert report.files == ["r1ci.json"] and len(report.rows) == 1 and not report.problems
    assert report.rows[0]["inserted_spans"] == [[24, 51]]
    with pytest.raises(TraceParseError, match="turn 0 has the role 'U'") as info:  # tags come only from the index
        record_turns({"chat": [{"speaker": "U", "text": "q"}]}, Schema(messages="chat", role_tag="speaker"))
    assert info.value.kind == "unknown role"


def test_cli_writes_a_traces_dataset_and_reports_problems(tmp_path, capsys, qwen_tokenizer):
    src = tmp_path / "src"
    src.mkdir()
    (src / "sharegpt.json").write_text(json.dumps([SHAREGPT, INLINE, BAD[0][0]]))
    lines = [json.dumps(ALPACA), "{not json", json.dumps({"instruction": "x", "output": 5})]
    (src / "alpaca.jsonl").write_text("\n".join(lines) + "\n")
    (src / "nested.json").write_text("[" * 100_000 + "]" * 100_000)  # deeper than the JSON parser goes
    (src / "bbh_like.json").write_text(json.dumps({"examples": []}))  # data, but no trace records
    out = tmp_path / "out"
    assert r1ci_cli.main(["published", "traces", "--source", str(src), "--output-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "6 record(s) in 4 file(s): 3 imported, 3 could not be parsed" in printed
    assert "; 2 file(s) hold no readable records" in printed
    for why in ("alpaca.jsonl line 2: not JSON", "alpaca.jsonl line 3: field 'output' is a int",
                "sharegpt.json[2]: assistant turn 1 is followed by another turn", "nested.json: not a JSON document",
                "bbh_like.json: holds no trace records"):  # fmt: skip
        assert why in printed, why
    rows = load_dataset(str(out), split="train")
    assert rows.column_names == ["task", "id", "style", "messages", "inserted_spans", "answer", "num_code_calls",
                                 "num_turns", "completion_tokens", "weight", "teacher"]  # fmt: skip
    assert sorted(rows["answer"]) == ["5535", "9", "a b"] and set(rows["style"]) == {"paper"}
    prepared, stats = prepare_traces(rows, qwen_tokenizer, source=str(out))  # what trainers/sft.py runs
    assert stats.kept == 3 and stats.repeated == 1 and prepared.num_rows == 4  # the two-call trace weighs 2
    card = (out / "README.md").read_text()
    assert "license: unknown" in card and "could not be parsed" in card and "alpaca.jsonl line 2" in card
    assert str(src) not in card  # the credit names the source folder, not the machine's path to it


def test_bad_sources_and_huge_files(tmp_path, monkeypatch, capsys):
    assert r1ci_cli.main(["published", "traces", "--source", str(tmp_path / "nope.json"), "--output-dir",
                          str(tmp_path / "o")]) == 2  # fmt: skip
    assert "does not exist and is not a Hub repo id" in capsys.readouterr().err
    assert r1ci_cli.main(["published", "traces", "--source", "owner/never-downloaded", "--output-dir",
                          str(tmp_path / "o")]) == 2  # fmt: skip
    assert "not in the local Hugging Face cache and HF_HUB_OFFLINE is set" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="holds no .json or .jsonl trace files"):
        import_traces(str(empty))
    (empty / "t.json").write_text(json.dumps([SHAREGPT]))
    with pytest.raises(InputError, match="drop it"):
        import_traces(str(empty), revision="main")
    monkeypatch.setattr(paper_traces, "MAX_FILE_BYTES", 100)
    report = import_traces(str(empty))
    assert (
        report.problems == [("t.json", "file too large", report.problems[0][2])]
        and "larger than" in report.problems[0][2]
    )
    with pytest.raises(InputError, match="no record of .* could be imported"):
        paper_traces.write_imported(report, type("T", (), {"repo_id": None, "folder": tmp_path / "o"})(), str(empty))
    assert not (tmp_path / "o").exists()


def _inline(text: str) -> dict:
    return {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": text}]}


def test_inline_results_are_found_by_running_the_snippet_again():
    text = (
        "```python\nprint('a\\n```\\nb')\n```\nCode Execution Results: a\n```\nb\nSo <<<b>>>\n```python\nprint(1)\n```"
    )
    text += "\nCode Execution Results: 1\nChecked: <<<b>>>"
    printed = {"print('a\\n```\\nb')\n": "a\n```\nb", "print(1)\n": "1"}
    row = trace_row(_inline(text), Schema(), PROTOCOL, ident="r", source=SOURCE, multi_turn_weight=2.0,
                    rerun=printed.__getitem__)  # fmt: skip
    content = row["messages"][-1]["content"]
    inserted = [content[a:b] for a, b in row["inserted_spans"]]
    assert inserted == ["\nCode Execution Results: a\n\\```\nb\n", "\nCode Execution Results: 1\n"]  # fence made inert
    assert (
        _model_written(row)
        == "```python\nprint('a\\n```\\nb')\n```So <<<b>>>\n```python\nprint(1)\n```Checked: <<<b>>>"
    )
    assert row["answer"] == "b" and row["num_code_calls"] == 2
    with pytest.raises(TraceParseError, match="running the snippet again printed '2'") as info:
        trace_row(_inline("```python\nprint(1)\n```\nCode Execution Results: 1\n<<<1>>>"), Schema(), PROTOCOL,
                  ident="r", source=SOURCE, multi_turn_weight=2.0, rerun=lambda code: "2")  # fmt: skip
    assert info.value.kind == "inline result differs"


def test_cli_reruns_inline_results_in_the_sandbox(tmp_path, capsys):
    src = tmp_path / "inline.jsonl"
    records = [_inline("```python\nprint(6*7)\n```\nCode Execution Results: 42\nSo <<<42>>>"),
               _inline("```python\nprint(6*7)\n```\nCode Execution Results: 41\nSo <<<41>>>")]  # fmt: skip
    src.write_text("\n".join(json.dumps(r) for r in records))
    out = tmp_path / "out"
    argv = ["published", "traces", "--source", str(src), "--output-dir", str(out)]
    assert r1ci_cli.main(argv) == 2  # without re-running, neither record can be read
    assert "inline result 2" in capsys.readouterr().out
    assert r1ci_cli.main([*argv, "--rerun-inline-results"]) == 0
    printed = capsys.readouterr().out
    assert "1 imported, 1 could not be parsed (inline result differs 1)" in printed
    (row,) = load_dataset(str(out), split="train")
    content = row["messages"][-1]["content"]
    assert [content[a:b] for a, b in row["inserted_spans"]] == ["\nCode Execution Results: 42\n"]
