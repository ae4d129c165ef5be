from __future__ import annotations

import pytest

from code_interpreter.protocol import (
    MAX_CODE_CALLS,
    SYSTEM_PROMPT,
    ProtocolConfig,
    extract_answer,
    find_stop,
    first_closed_python,
    format_output,
    iter_blocks,
    render_result,
    strip_code,
    truncate_at_stop,
    truncate_middle,
)


def test_system_prompt_states_the_protocol():
    for phrase in ("```python", "single", "prints", "stop", "Code Execution Results", "<<<answer content>>>"):
        assert phrase in SYSTEM_PROMPT


def test_defaults_and_versions():
    assert ProtocolConfig().timeout_s == 60
    assert ProtocolConfig(version="v1").code_call_cap == 5 == MAX_CODE_CALLS["v1"]
    assert ProtocolConfig(version="v2").code_call_cap == 8
    assert ProtocolConfig(version="v1", max_code_calls=2).code_call_cap == 2
    with pytest.raises(ValueError, match="version"):
        ProtocolConfig(version="v3")
    with pytest.raises(ValueError, match="output"):
        ProtocolConfig(result_template="no placeholder")
    with pytest.raises(ValueError, match="max_code_calls"):
        ProtocolConfig(max_code_calls=-1)
    assert ProtocolConfig(max_code_calls=0).code_call_cap == 0


def test_stop_at_closing_fence_of_python_block():
    text = "Let me compute.\n```python\nprint(6*7)\n```\nmore text the model should not have written"
    assert find_stop(text) == text.index("```\nmore") + 3
    cut, stopped = truncate_at_stop(text)
    assert stopped and cut.endswith("print(6*7)\n```")
    assert first_closed_python(text).code == "print(6*7)\n"


def test_unclosed_fence_does_not_stop():
    text = "```python\nfor i in range(3):\n    print(i)\n"
    assert find_stop(text) is None
    assert truncate_at_stop(text) == (text, False)
    assert iter_blocks(text)[0].end is None


def test_several_blocks_only_first_python_block_runs():
    text = "```python\nprint(1)\n```\nthen\n```python\nprint(2)\n```\n"
    cut, stopped = truncate_at_stop(text)
    assert stopped and "print(2)" not in cut
    assert [b.code for b in iter_blocks(text)] == ["print(1)\n", "print(2)\n"]


def test_non_python_fences_do_not_stop():
    text = "Example:\n```text\nsome output\n```\nand\n```\nbare\n```\n```bash\nls\n```\n"
    assert find_stop(text) is None
    assert [b.lang for b in iter_blocks(text)] == ["text", "", "bash"]
    assert find_stop(text + "```py\nprint(3)\n```") is not None
    assert find_stop("```Python3\nprint(3)\n```") is not None


def test_backticks_and_answer_markers_inside_code():
    text = '```python\ns = "```"\nprint("<<<not the answer>>>", s)\n```\n'
    block = first_closed_python(text)
    assert block.code == 's = "```"\nprint("<<<not the answer>>>", s)\n'
    assert extract_answer(text) is None
    assert extract_answer(text + "So the answer is <<<42>>>.") == "42"
    # `<<<` inside code followed by an answer in text: the code's markers must not pair with it.
    assert extract_answer('```python\nx = "<<<"\n```\nDone <<<7>>>') == "7"


def test_empty_code_block():
    text = "```python\n```"
    assert first_closed_python(text).code == ""


def test_answer_extraction():
    assert extract_answer("a <<<1>>> b <<< 2 >>>") == "2"
    assert extract_answer("no answer here") is None
    assert extract_answer("<<<>>>") == ""
    assert extract_answer("<<<multi\nline>>>") == "multi\nline"
    assert extract_answer("<<<日本語 ✓>>>") == "日本語 ✓"
    assert extract_answer("<<<[1, 2]>>> trailing >>> without opener") == "[1, 2]"
    assert extract_answer("Code Execution Results: <<<9>>>\n") == "9"
    assert extract_answer("<<<] ) >>>>") == "] ) >"  # dyck answers may end in '>'
    assert extract_answer("<<<<5>>>") == "5"


def test_strip_code_keeps_text_and_other_fences():
    text = "A\n```python\nsecret\n```\nB\n```text\nkept\n```\n"
    stripped = strip_code(text)
    assert "secret" not in stripped and "kept" in stripped and "A" in stripped and "B" in stripped
    assert "tail" not in strip_code("x\n```python\nunclosed tail")


def test_middle_truncation_by_characters():
    text = "HEAD" + "x" * 5000 + "TAIL"
    out, truncated = truncate_middle(text, 100)
    assert truncated and out.startswith("HEAD") and out.endswith("TAIL")
    assert "[4908 characters truncated]" in out
    assert truncate_middle("short", 100) == ("short", False)


def test_middle_truncation_by_tokens(qwen_tokenizer):
    text = " ".join(f"w{i}" for i in range(2000))
    out, truncated = truncate_middle(text, 10**9, qwen_tokenizer, max_tokens=50)
    assert truncated and out.startswith("w0") and out.endswith("w1999") and "tokens truncated" in out
    assert len(qwen_tokenizer.encode(out)) < 80


def test_result_template_and_output_formatting():
    assert format_output("4\n") == "4"
    assert format_output("", "Traceback ...\nZeroDivisionError: division by zero\n").endswith("division by zero")
    assert format_output("") == "(no output)"
    assert "TimeoutError" in format_output("partial", timed_out=True, timeout_s=60)
    text, truncated = render_result("4")
    assert text == "\nCode Execution Results: 4\n" and not truncated
    long, truncated = render_result("y" * 10_000, ProtocolConfig(max_output_chars=50))
    assert truncated and len(long) < 200


def test_unicode_and_crlf_fences():
    text = "Σ:\r\n```python\r\nprint('é')\r\n```\r\n"
    block = first_closed_python(text)
    assert block is not None and "print('é')" in block.code
