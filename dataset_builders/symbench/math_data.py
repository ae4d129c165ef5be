"""SymBench's dataset-backed math tasks: GSM-hard and two MATH subsets, verified with math-verify.

Tasks:
- symbench/gsm_hard: GSM8K questions with large numbers (GSM-hard). Reference: the dataset's
  numeric `target`.
- symbench/math_counting_and_probability, symbench/math_geometry: MATH problems of one subset.
  Reference: the content of the last \\boxed{} of the solution.

Where the data comes from (first that applies):
1. the `path` constructor argument;
2. an environment variable: R1CI_GSM_HARD_PATH (a GSM-hard `.jsonl` file such as gsmhardv2.jsonl,
   or a folder holding one), R1CI_MATH_PATH (a MATH folder with `<split>/<subset>/<n>.json`, or
   its parent);
3. the Hub via `datasets.load_dataset`: `hub_id` (default "reasoning-machines/gsm-hard", and
   "EleutherAI/hendrycks_math" with the subset as config for MATH).
When none works, `generate` raises `TaskDataUnavailable` saying what to set. Nothing is loaded
at import time or when the task object is built.

`generate(n, seed)` samples without replacement from a seeded shuffle of the loaded items (a new
shuffle per pass when n exceeds the data), so entry i depends only on (seed, i).

Verification: GSM-hard answers must be one number ("$1,234", "-9867630.0", "\\frac{7}{3}", "x = 5",
"12 dollars"); integer targets need the exact integer, fractional ones accept a decimal rounded to
>= 2 places (`number_answers.numbers_match`). Arithmetic is never evaluated there ("41+1" scores 0:
the question asks for the number), and a label or unit around the number must be neutral words
("12 dollars" yes, "12 is wrong" no). A MATH answer must be one value in simplest form, written as
the reference is (no relations, second values, unevaluated arithmetic, words or look-alike letters;
the rule is in `_math_verify_worker.py`), and equal the reference by math-verify. Every MATH
comparison runs in a reusable worker process from a small pool (`_IsolatedVerifier`) that is killed when a call
overruns `MATH_DEADLINE_S`, in the main thread or not: sympy can spend minutes in C (10**999999)
where no signal-based timeout reaches; a small pool of workers serves threads side by side. Answers are bounded first (length, nesting, power towers,
large exponents and factorials) so known bombs are refused without a round trip.

Published data (`load_published`): `gsmhardv2.jsonl` (one JSON object per line with `input` and
`target`) and the `MATH` folder (`train/<subset>/<n>.json` with `problem` and `solution`; each
MATH task reads only its own subset). A bad line or file, or a record whose stored reference does
not score 1 under the task's own verifier, is yielded as a `PublishedDataError` naming the file and
what was expected; reading goes on with the rest. A missing file or folder, or a MATH folder
without a single problem file of the subset, raises. See `published_layout`.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dataset_builders.answer_parsing import AnswerParseError, check_nesting
from dataset_builders.symbench.number_answers import format_number, numbers_match, read_number, target_from_float
from dataset_builders.symbench.published_layout import checked_entry, require_file, require_folder
from dataset_builders.task import DatasetTask, Entry, PublishedDataError, TaskDataUnavailable

#: Hard deadline (seconds) of one MATH comparison in the worker process; past it the answer scores 0.
MATH_DEADLINE_S = 1.0
#: Share of the deadline after which the worker gives up on a comparison itself (and stays alive).
SOFT_DEADLINE_SHARE = 0.6
_MAX_MATH_ANSWER = 400


def last_boxed(text: str) -> str | None:
    """The content of the last \\boxed{...} (or \\fbox{...}) in `text`, braces matched; None if absent."""
    boxed, fbox = text.rfind("\\boxed"), text.rfind("\\fbox")
    if boxed < 0 and fbox < 0:
        return None
    rest = text[boxed + 6 :] if boxed >= fbox else text[fbox + 5 :]
    if not rest.lstrip().startswith("{"):  # the "\boxed 5" spelling
        m = re.match(r"\s+([^\s$]+)", rest)
        return m.group(1) if m else None
    rest = rest.lstrip()
    depth = 0
    for i, ch in enumerate(rest):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return rest[1:i]
    return None


_OPENING = {")": "(", "}": "{", "]": "["}


def _base(head: str) -> str:
    """The base of a power whose '^' follows `head`: a bracketed group (with a command before it, as
    in \\sqrt{2}) or the last character."""
    head = head.rstrip()
    if not head or head[-1] not in _OPENING:
        return head[-1:]
    close, depth = head[-1], 0
    for i in range(len(head) - 1, -1, -1):
        depth += head[i] == close
        depth -= head[i] == _OPENING[close]
        if depth == 0:
            command = re.search(r"\\[A-Za-z]+\s*$", head[:i])
            return head[command.start() if command else i :]
    return head


def _powers(text: str) -> Iterator[tuple[str, str]]:
    """(base, exponent text) for each '^'; the exponent is a braced group or the next token."""
    for m in re.finditer(r"\^", text):
        before = _base(text[: m.start()])
        rest = text[m.end() :].lstrip()
        if rest.startswith("{"):
            depth = 0
            for i, ch in enumerate(rest):
                depth += ch == "{"
                depth -= ch == "}"
                if depth == 0:
                    yield before, rest[1:i]
                    break
            else:
                yield before, rest
        else:
            tok = re.match(r"\(?-?[\w.]*", rest)
            yield before, tok.group(0) if tok else ""


#: Largest exponent on a bracketed expression that is not a plain number (see `_guard`).
_GROUP_POWER_LIMIT = 6


def _guard(answer: str) -> None:
    """Refuse answers that could keep sympy busy for long when no timeout can interrupt it.

    Bounds: length, bracket nesting, at most 6 powers and no power towers; exponents up to 10000 on
    a plain number, up to 6 on a bracketed sum, radical or other expression (expanding
    (\\sqrt{2}+\\sqrt{3}+\\sqrt{5}+\\sqrt{7})^{12} overran the worker's deadline) and up to 20
    on anything else (a letter, \\pi); factorials
    only of literals up to 999; no gamma/factorial functions; binomials of numbers up to 4 digits;
    integers up to 20 digits.
    """
    if len(answer) > _MAX_MATH_ANSWER:
        raise AnswerParseError("answer too long")
    check_nesting(answer, 12)
    text = answer.replace("**", "^").replace("\\!", "")  # "\!" is LaTeX spacing, not a factorial
    if text.count("^") > 6:
        raise AnswerParseError("too many powers")
    if re.search(r"\^\s*(\{[^{}]*\}|[\w.]+)\s*\^", text):
        raise AnswerParseError("power tower")
    for before, exponent in _powers(text):
        if "^" in exponent or "!" in exponent:
            raise AnswerParseError("power tower")
        number = re.fullmatch(r"[({\[]?\s*\d+\s*[)}\]]?", before)
        limit = 10_000 if number else _GROUP_POWER_LIMIT if before[-1:] in _OPENING else 20
        for digits in re.findall(r"\d+", exponent):
            if len(digits) > 5 or int(digits) > limit:
                raise AnswerParseError("exponent too large")
    for m in re.finditer(r"!", text):
        literal = re.search(r"(\d*)\s*$", text[: m.start()]).group(1)
        if not literal or len(literal) > 3:
            raise AnswerParseError("factorial of something other than a small literal")
    if re.search(r"gamma|factorial|binomial", text, re.I) or re.search(r"binom\s*\{?\s*\d{5,}", text):
        raise AnswerParseError("gamma, factorial or large binomial")
    if re.search(r"\d{21}", text.replace(",", "")):
        raise AnswerParseError("number with too many digits")


class _Worker:
    """One worker process (`_math_verify_worker.py`, run by file path so neither this package nor the
    caller's `__main__` is re-imported); it says "ready" once its imports are done."""

    def __init__(self) -> None:
        worker = Path(__file__).with_name("_math_verify_worker.py")
        self.proc = subprocess.Popen(
            [sys.executable, "-u", str(worker)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self.ready = False

    def readline(self, timeout: float) -> str | None:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline() if ready else None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(5)


class _IsolatedVerifier:
    """The MATH answer rule in a small pool of worker processes, each call with a hard deadline.

    math-verify's own timeouts use SIGALRM, which only the main thread may set and which cannot stop
    work inside C (a huge integer); a pathological expression can keep sympy busy for minutes. The
    worker stops a comparison itself at `SOFT_DEADLINE_SHARE` of the deadline (a timer in its own main
    thread, which interrupts Python-level sympy work and keeps the worker alive); only work stuck in
    C reaches the hard deadline. A call
    takes an idle worker (starting one while fewer than `size` exist, else waiting for one), so
    threads do not queue behind one another's slow answers; a worker that overruns `deadline_s` is
    killed, the answer counts as wrong, and its replacement starts at once in the background (a warm
    standby: the next call waits only for what is left of its start-up, not for a kill plus a start).
    """

    def __init__(self, deadline_s: float, size: int = 4, startup_s: float = 120.0):
        self.deadline_s, self.size, self.startup_s = deadline_s, size, startup_s
        self._idle: list[_Worker] = []
        self._count = 0
        self._cond = threading.Condition()

    def _acquire(self) -> _Worker:
        with self._cond:
            while not self._idle and self._count >= self.size:
                self._cond.wait()
            if self._idle:
                return self._idle.pop()
            self._count += 1
        try:
            return _Worker()
        except OSError:
            self._forget()
            raise

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            self._idle.append(worker)
            self._cond.notify()

    def _forget(self) -> None:
        with self._cond:
            self._count -= 1
            self._cond.notify()

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        try:
            self._release(_Worker())
        except OSError:
            self._forget()

    def close(self) -> None:
        """Kill the idle workers (a call in progress keeps its worker until it returns)."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            worker.kill()

    def __call__(self, gold: str, answer: str) -> bool:
        worker = self._acquire()
        if not worker.ready:
            if not worker.alive() or worker.readline(self.startup_s) != "ready\n":
                worker.kill()
                self._forget()
                raise RuntimeError("the math-verify worker process did not start")
            worker.ready = True
        assert worker.proc.stdin is not None
        try:
            request = {"gold": gold, "answer": answer, "soft_deadline_s": self.deadline_s * SOFT_DEADLINE_SHARE}
            worker.proc.stdin.write(json.dumps(request) + "\n")
            worker.proc.stdin.flush()
            line = worker.readline(self.deadline_s)
        except OSError:
            line = None
        if line in ("1\n", "0\n"):
            self._release(worker)
            return line == "1\n"
        self._replace(worker)  # overran or died: a fresh worker serves a later call
        return False


_ISOLATED = _IsolatedVerifier(deadline_s=MATH_DEADLINE_S)


def math_equal(gold: str, answer: str) -> bool:
    """Whether `answer` is the reference `gold` as one value in simplest form (`_math_verify_worker.compare`).

    Always decided in the worker process, which is killed past `MATH_DEADLINE_S` (then False), from
    any thread. `_guard` first rejects the known expression bombs without a round trip.
    """
    _guard(answer)
    return _ISOLATED(gold, answer)


# -- GSM-hard -----------------------------------------------------------------------------------

_GSM_FORMAT = "Return your final answer as a single number in the format <<<number>>>, for example <<<42>>>."


class GsmHard(DatasetTask):
    name = "symbench/gsm_hard"
    description = "Grade-school math word problems with large, unusual numbers (GSM-hard)."
    published_folders = ("gsmhardv2.jsonl",)
    path_env = "R1CI_GSM_HARD_PATH"
    default_hub_id = "reasoning-machines/gsm-hard"
    max_answer_chars = _MAX_MATH_ANSWER

    def data_hint(self) -> str:
        return (
            f"set {self.path_env} to a GSM-hard .jsonl file (records with 'input' and 'target', e.g. gsmhardv2.jsonl) "
            f"or pass path=..., or make the Hub dataset {self.hub_id or self.default_hub_id!r} reachable"
        )

    def read_local(self, path: Path) -> list[dict[str, Any]]:
        if path.is_dir():
            files = sorted(path.glob("*.jsonl"))
            if not files:
                raise TaskDataUnavailable(f"{self.name}: {path} holds no .jsonl file; {self.data_hint()}")
            path = files[0]
        if not path.is_file():
            raise TaskDataUnavailable(f"{self.name}: {path} does not exist; {self.data_hint()}")
        items = []
        for record in self._records(path):
            if isinstance(record, dict):
                items.append(record)
        return items

    def read_hub(self, hub_id: str) -> list[dict[str, Any]]:
        from datasets import load_dataset

        ds = load_dataset(hub_id, split=self.hub_split)
        return [{**row, "index": i} for i, row in enumerate(ds)]

    @staticmethod
    def _records(path: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            yield PublishedDataError(
                f"{path}: expected a GSM-hard .jsonl file, could not read it ({exc.__class__.__name__})"
            )
            return
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield PublishedDataError(
                    f"{path}, line {i + 1}: expected a JSON object, got malformed JSON ({exc.msg})"
                )
                continue
            if (
                not isinstance(record, dict)
                or not isinstance(record.get("input"), str)
                or not _is_number(record.get("target"))
            ):
                yield PublishedDataError(
                    f"{path}, line {i + 1}: expected a JSON object with string 'input' and numeric 'target'"
                )
                continue
            yield {**record, "index": i}

    def build(self, item: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
        if not isinstance(item.get("input"), str) or not _is_number(item.get("target")):
            return None
        target = float(item["target"])
        answer = format_number(target_from_float(target))
        question = f"{item['input'].strip()}\n{_GSM_FORMAT}"
        return question, answer, {"target": repr(target), "source_index": int(item.get("index", -1))}

    def verify(self, answer: str, entry: Entry) -> float:
        target = target_from_float(float(entry["metadata"]["target"]))
        value, decimals = read_number(gsm_number_text(answer, str(entry.get("question", ""))))
        return float(numbers_match(value, decimals, target))

    def corruptions(self, entry: Entry) -> list[str]:
        target = target_from_float(float(entry["metadata"]["target"]))
        wrong = [
            format_number(target + 1),
            format_number(-target) if target else "1",
            format_number(target * 10),
            "\\frac{1}{7}",
        ]
        return [w for w in dict.fromkeys(wrong) if w != entry["answer"]]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        path = require_file(folder, "the GSM-hard file gsmhardv2.jsonl")
        for record in self._records(path):
            if isinstance(record, PublishedDataError):
                yield record
                continue
            built = self.build(record)
            if built is not None:
                yield checked_entry(self, str(record["index"]), built, f"{path}, line {record['index'] + 1}")


_PERCENT = re.compile(r"%|\bpercent", re.IGNORECASE)
#: What may stand around GSM-hard's single number: a label ("x = ", "Total: ", "The answer is"), "$...$",
#: a unit ("dollars", "\\text{ apples}") and, when the question speaks of percentages, a percent sign
#: or the word "percent" (otherwise "1%" claims 0.01, so it is not a unit). Label and unit words must be neutral: from
#: `_GSM_NEUTRAL_WORDS` or the question's own words, and never a word that changes what is claimed
#: (`_GSM_CLAIM_WORDS`: "322886700 is wrong" scored 1 when any three trailing words were dropped).
_GSM_LABEL = re.compile(r"^([A-Za-z][A-Za-z ]{0,40}?)\s*(?:=|:|\bis\b)\s*")
_GSM_UNIT = re.compile(
    r"(?:\s*\\(?:text|mathrm|mbox)\{\s*([A-Za-z][A-Za-z .]{0,30})\}|\s+([A-Za-z]{1,20}(?: [A-Za-z]{1,20}){0,2})\.?|\s*\\?%)$"
)
_GSM_NEUTRAL_WORDS = frozenset(
    "the final answer total result solution so thus therefore it is x y n a an in of per each "
    "dollars dollar usd cents cent hours hour minutes minute seconds second days day weeks week "
    "months month years year miles mile km meters meter feet foot inches inch pounds pound kg grams gram "
    "liters liter gallons gallon people items units pieces".split()
)
_GSM_CLAIM_WORDS = frozenset(
    "not no never wrong incorrect false untrue maybe perhaps possibly probably approximately about around "
    "roughly nearly almost over under least most more less than or and but except minus plus times "
    "divided wait either neither nor unless if guess unsure sure isnt".split()
)


def _neutral(words: str, question: str) -> bool:
    question_words = set(re.findall(r"[a-z]+", question.casefold()))
    for word in re.findall(r"[a-z']+", words.casefold()):
        word = word.replace("'", "")
        if word in _GSM_CLAIM_WORDS:
            return False
        if word == "percent":
            if _PERCENT.search(question):
                continue
            return False
        if (
            question_words
            and word not in _GSM_NEUTRAL_WORDS
            and not {word, word + "s", word.removesuffix("s")} & question_words
        ):
            return False
    return True


def gsm_number_text(answer: str, question: str = "") -> str:
    """The number text of a GSM-hard answer, without a leading label, '$' math delimiters or a trailing unit.

    The question asks for a single number, so nothing is evaluated: "21459060+1" or "3 = 42" stays
    as written and `read_number` refuses it (math-verify would accept either, letting a policy hand
    its arithmetic to the verifier or hide a wrong number before the right one). A label or unit is
    removed only when its words are neutral (see `_GSM_NEUTRAL_WORDS`; `question` supplies the
    question's own nouns such as "eggs", and without it any word but a claim word is), so
    "322886700 is wrong" or "not 5" stays and is refused.
    """
    text = answer.strip()
    if len(text) >= 2 and text[0] == text[-1] == "$":
        text = text.strip("$").strip()
    label = _GSM_LABEL.match(text)
    if label and _neutral(label.group(1), question):
        text = text[label.end() :]
    for _ in range(2):  # "12 \\text{ dollars}%" at most
        unit = _GSM_UNIT.search(text)
        if unit and unit.group(0).strip().endswith("%") and not _PERCENT.search(question):
            break  # "1%" claims 0.01 unless the question asks for a percentage
        if unit and _neutral(unit.group(1) or unit.group(2) or "", question):
            text = text[: unit.start()].strip()
    return text


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value == value
        and abs(value) != float("inf")
    )


# -- MATH ---------------------------------------------------------------------------------------

_MATH_FORMAT = (
    "Give the final answer in simplest form (LaTeX is fine, without \\boxed) in the format <<<answer>>>, "
    "for example <<<\\frac{3}{4}>>>."
)


class _MathSubset(DatasetTask):
    subset: str = ""
    path_env = "R1CI_MATH_PATH"
    default_hub_id = "EleutherAI/hendrycks_math"
    published_folders = ("MATH",)
    max_answer_chars = _MAX_MATH_ANSWER
    complexity_levels = 5  # MATH's own "Level 1".."Level 5", recorded per entry

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        hub_id: str | None = None,
        hub_split: str = "train",
        levels: tuple[int, ...] | None = None,
    ):
        super().__init__(path, hub_id, hub_split)
        #: Difficulty knob: keep only these MATH levels (1-5); None keeps all.
        self.levels = levels

    def data_hint(self) -> str:
        return (
            f"set {self.path_env} to a MATH folder holding {self.hub_split}/{self.subset}/<n>.json (or pass path=...), "
            f"or make the Hub dataset {self.hub_id or self.default_hub_id!r} (config {self.subset!r}) reachable"
        )

    def level_description(self, level: int) -> str:
        return f"MATH {self.subset} problems of Level {level}"

    def _subset_dir(self, root: Path, split: str) -> Path:
        for candidate in (root / split / self.subset, root / "MATH" / split / self.subset):
            if candidate.is_dir():
                return candidate
        return root / split / self.subset

    def read_local(self, path: Path) -> list[dict[str, Any]]:
        folder = self._subset_dir(path, self.hub_split)
        if not folder.is_dir():
            raise TaskDataUnavailable(f"{self.name}: {folder} does not exist; {self.data_hint()}")
        return [r for r in self._records(folder, self.hub_split) if isinstance(r, dict)]

    def read_hub(self, hub_id: str) -> list[dict[str, Any]]:
        from datasets import load_dataset

        ds = load_dataset(hub_id, self.subset, split=self.hub_split)
        return [{**row, "index": str(i)} for i, row in enumerate(ds)]

    @staticmethod
    def _records(folder: Path, split: str) -> Iterator[dict[str, Any] | PublishedDataError]:
        files = sorted(folder.glob("*.json"), key=lambda p: (int(p.stem) if p.stem.isdigit() else 10**9, p.name))
        if not files:
            yield PublishedDataError(f"{folder}: expected MATH problem files <n>.json, found none")
        for file in files:
            try:
                record = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                yield PublishedDataError(
                    f"{file}: expected a JSON object with 'problem' and 'solution' ({exc.__class__.__name__})"
                )
                continue
            if (
                not isinstance(record, dict)
                or not isinstance(record.get("problem"), str)
                or not isinstance(record.get("solution"), str)
            ):
                yield PublishedDataError(f"{file}: expected a JSON object with string 'problem' and 'solution'")
                continue
            if last_boxed(record["solution"]) is None:
                yield PublishedDataError(f"{file}: expected a solution with a final \\boxed{{...}} answer")
                continue
            yield {**record, "index": f"{split}-{file.stem}"}

    def _level(self, item: dict[str, Any]) -> int | None:
        m = re.search(r"\d", str(item.get("level", "")))
        return int(m.group(0)) if m else None

    def build(self, item: dict[str, Any], any_level: bool = False) -> tuple[str, str, dict[str, Any]] | None:
        problem, solution = item.get("problem"), item.get("solution")
        if not isinstance(problem, str) or not isinstance(solution, str):
            return None
        answer = last_boxed(solution)
        if not answer or (not any_level and self.levels is not None and self._level(item) not in self.levels):
            return None
        meta = {
            "solution": answer,
            "level": str(item.get("level", "")),
            "source_index": str(item.get("index", "")),
            "complexity": self._level(item) or 0,
        }
        return f"{problem.strip()}\n\n{_MATH_FORMAT}", answer, meta

    def verify(self, answer: str, entry: Entry) -> float:
        return float(math_equal(entry["metadata"]["solution"], answer))

    def corruptions(self, entry: Entry) -> list[str]:
        gold = entry["metadata"]["solution"]
        wrong = [f"{gold}+1", f"2\\left({gold}\\right)", "-17", "\\frac{1}{1000}"]
        return [w for w in wrong if w != gold]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        root = require_folder(folder)
        splits = sorted(p.name for p in root.iterdir() if p.is_dir())
        dirs = [root / s / self.subset for s in splits if any((root / s / self.subset).glob("*.json"))]
        if not dirs:
            raise PublishedDataError(f"{root}: expected <split>/{self.subset}/<n>.json files of MATH, found none")
        for folder_ in dirs:
            for record in self._records(folder_, folder_.parent.name):
                if isinstance(record, PublishedDataError):
                    yield record
                    continue
                built = self.build(record, any_level=True)
                if built is not None:
                    where = folder_ / f"{record['index'].removeprefix(folder_.parent.name + '-')}.json"
                    yield checked_entry(self, record["index"], built, where)


class MathCountingAndProbability(_MathSubset):
    name = "symbench/math_counting_and_probability"
    description = "MATH competition problems in counting and probability."
    subset = "counting_and_probability"


class MathGeometry(_MathSubset):
    name = "symbench/math_geometry"
    description = "MATH competition problems in geometry."
    subset = "geometry"


TASKS = [GsmHard(), MathCountingAndProbability(), MathGeometry()]
