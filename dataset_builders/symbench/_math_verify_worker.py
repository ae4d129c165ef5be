"""math-verify comparison, importable anywhere and runnable as a stand-alone worker process.

`math_data` imports `compare` from here. Run as a script (by file path, so no package import and
no re-run of anybody's `__main__`), it reads JSON lines {"gold": ..., "answer": ...} from stdin and
writes "1" or "0" per line to stdout. It serves callers outside the main thread: in its own main
thread math-verify's SIGALRM timeouts work, and the parent kills it if a call overruns anyway.
"""

from __future__ import annotations

import json
import os
import sys

#: Signal-based timeout (seconds) for each math-verify parse and comparison.
TIMEOUT_S = 3


def to_latex(text: str) -> str:
    """Wrap bare math in $...$ so math-verify's LaTeX extraction sees it."""
    text = text.strip()
    if "$" in text or "\\(" in text or "\\[" in text or "\\boxed" in text:
        return text
    return f"${text}$"


def compare(gold: str, answer: str, timeout: int | None) -> bool:
    """math-verify's verdict on `answer` against `gold`; `timeout` must be None outside the main thread."""
    from math_verify import parse, verify

    gold_parsed = parse(to_latex(gold), parsing_timeout=timeout)
    pred_parsed = parse(to_latex(answer), parsing_timeout=timeout)
    if not gold_parsed or not pred_parsed:
        return False
    return bool(verify(gold_parsed, pred_parsed, timeout_seconds=timeout))


def main() -> None:
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # anything a library prints must not corrupt the protocol
    import math_verify  # noqa: F401  (imported before "ready" so no request pays for it)

    out.write("ready\n")
    for line in sys.stdin:
        try:
            request = json.loads(line)
            verdict = compare(str(request["gold"]), str(request["answer"]), TIMEOUT_S)
        except Exception:  # a failed comparison is a wrong answer, never a dead worker
            verdict = False
        out.write("1\n" if verdict else "0\n")


if __name__ == "__main__":
    main()
