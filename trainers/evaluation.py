"""Evaluate a model over the R1-CI tasks (`r1ci eval`; `accelerate launch trainers/eval.py` on several GPUs).

A model (local folder or Hub id with transformers, or an OpenAI-compatible endpoint such as a vLLM
server) answers N questions per task: the 37 test tasks by default (`split: train` or `all` for the
107 train tasks too), generated with a seed or read from the paper's published instances
(`published: <path>`, through `load_published`). Two modes:

- "code": R1-CI episodes; python blocks run in the sandbox and their output is fed back.
- "text": the baseline without a code interpreter. The system prompt asks for text reasoning only
  and no code is ever executed: a python block the model writes anyway ends its episode
  (finish reason "max_code_calls"), and the answer it wrote before the block, if any, is scored.

Verdicts come from `Task.score` on the episode's model-written text (interpreter output never
supplies the answer). Output folder:

- `run.json`: the settings, the model's fingerprint and a digest of each task's questions. A second
  run in the same folder must match them (else one sentence): it then resumes, skipping every
  finished sample. (A few Reasoning-Gym generators depend on the hash seed: set PYTHONHASHSEED.)
- `samples-<rank>.jsonl`: one line per finished sample, appended and flushed as each episode
  ends, so a killed run loses only the episodes in flight. A torn last line is dropped.
- `results.json`: accuracy per task / source / overall (mean over tasks) and statistics per mode.
- `details/`: the per-sample details as a dataset folder in the Hub layout (one config per mode),
  pushable next to the model with `--push-details <org>/<name>`.

Same settings, same numbers: questions come from the seed; decoding is greedy by default
(`temperature: 0`); with sampling, each batch reseeds from the seed and its first sample id.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from code_interpreter.errors import InputError, MissingInput
from trainers.eval_results import MODES, RESULTS_FILE, aggregate, model_fingerprint

TEXT_SYSTEM_PROMPT = """\
You are a helpful assistant that solves problems by reasoning step by step in text. You have no \
code interpreter: do not write code, reason it through yourself.

At the end of your response, give the final answer in the format <<<answer content>>>."""

#: "vllm-server": a `vllm serve` / `trl vllm-serve` server fed token ids (exact chat template; needs
#: the model's tokenizer, from `model` or `tokenizer`); "openai": any OpenAI-compatible endpoint.
BACKENDS = ("transformers", "openai", "vllm-server")
SPLITS = ("test", "train", "all")
#: Settings that must match for a run to resume in an existing output folder.
RUN_KEYS = (
    "model",
    "model_fingerprint",
    "seed",
    "num_questions",
    "published",
    "protocol_version",
    "timeout_s",
    "max_new_tokens",
    "temperature",
    "answer_source",
    "skip_flawed_references",
)


@dataclass
class EvalConfig:
    model: str = field(
        metadata={"help": "Local model folder, Hub model id, or the served model name (backend openai)."}
    )
    tasks: list[str] = field(default_factory=list, metadata={"help": "Task names (default: every task of `split`)."})
    split: str = field(default="test", metadata={"help": "'test' (37 tasks), 'train' (107) or 'all'."})
    num_questions: int = field(default=20, metadata={"help": "Questions per task (published: the first N)."})
    published: str | None = field(default=None, metadata={"help": "Folder of the paper's published instances."})
    modes: list[str] = field(default_factory=lambda: list(MODES), metadata={"help": "'code' and/or 'text'."})
    seed: int = field(default=0, metadata={"help": "Seed for generated questions and sampling."})
    complexity: str | None = field(
        default=None,
        metadata={"help": "Generated questions from these difficulty levels only: '2' or '1-3' (default: all)."},
    )
    exclude_questions: list[str] = field(
        default_factory=list,
        metadata={"help": "Datasets (tasks or traces) whose questions are left out, so generated ones are unseen."},
    )
    backend: str = field(
        default="transformers", metadata={"help": "'transformers' or 'openai' (any OpenAI-compatible endpoint)."}
    )
    base_url: str | None = field(default=None, metadata={"help": "Endpoint URL (backend openai)."})
    tokenizer: str | None = field(default=None, metadata={"help": "Tokenizer for vllm-server (default: model)."})
    openai_mode: str = field(default="chat", metadata={"help": "'chat' or 'completions' (backend openai)."})
    sandbox: str = field(default="local", metadata={"help": "Sandbox: 'local' or 'e2b'."})
    protocol_version: str | None = field(
        default=None,
        metadata={
            "help": "'v1' (5 code calls) or 'v2' (8); default: v1 for the paper's released checkpoints, else v2."
        },
    )
    timeout_s: float = field(default=60.0, metadata={"help": "Per-call execution timeout in seconds."})
    max_new_tokens: int = field(default=2048, metadata={"help": "Token budget of a whole assistant turn."})
    temperature: float = field(default=0.0, metadata={"help": "Sampling temperature (0: greedy)."})
    batch_size: int = field(default=8, metadata={"help": "Episodes advanced together (transformers)."})
    answer_source: str | None = field(
        default=None,
        metadata={
            "help": "'model' or 'anywhere' (the paper's looser rule); default: anywhere for the paper's released "
            "checkpoints, else model."
        },
    )
    output_dir: str = field(default="outputs/eval", metadata={"help": "Where results and details go."})
    push_details: str | None = field(default=None, metadata={"help": "Dataset repo for the per-sample details."})
    skip_flawed_references: bool = field(
        default=False,
        metadata={"help": "Leave out published instances whose stored reference breaks the question's rules."},
    )
    retry_errors: bool = field(
        default=False, metadata={"help": "On resume, run again the samples that ended in a generator or sandbox error."}
    )

    def __post_init__(self) -> None:
        # The paper's released checkpoints were published with its first protocol and answer rule
        # (hub_tools.checkpoints.RELEASED); settings not given explicitly follow them.
        from hub_tools.checkpoints import released_checkpoint

        released = released_checkpoint(self.model or "")
        defaults = dict(released.protocol) if released else {"protocol_version": "v2", "answer_source": "model"}
        self.protocol_defaults = f"released checkpoint {released.repo_id}" if released else "r1ci"
        for key, value in defaults.items():
            if getattr(self, key) is None:
                setattr(self, key, value)
        if self.backend not in BACKENDS:
            raise InputError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.split not in SPLITS:
            raise InputError(f"split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        bad = [m for m in self.modes if m not in MODES] or ([] if self.modes else ["(none)"])
        if bad:
            raise InputError(f"modes must be some of {', '.join(MODES)}, got {', '.join(map(str, bad))}")
        for name in ("num_questions", "max_new_tokens", "batch_size"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.temperature < 0 or self.timeout_s <= 0:
            raise InputError("temperature must be at least 0 and timeout_s positive")
        if self.answer_source not in ("model", "anywhere"):
            raise InputError(f"answer_source must be 'model' or 'anywhere', got {self.answer_source!r}")
        if self.backend != "transformers" and not self.base_url:
            raise InputError(f"backend {self.backend} needs base_url (the endpoint, e.g. http://localhost:8000/v1)")


# -- questions -------------------------------------------------------------------------------------
def select_tasks(config: EvalConfig) -> list[Any]:
    from dataset_builders import get_task, list_tasks

    if config.tasks:
        return [get_task(name) for name in dict.fromkeys(config.tasks)]
    return list_tasks(split=None if config.split == "all" else config.split)


def training_questions(path: str) -> set[str]:
    """Every question of a dataset (local folder or Hub id): its `question` column, or the user turns of
    its `messages` (a traces dataset), over all splits of its default config."""
    from datasets import load_dataset

    try:
        data = load_dataset(path)
    except Exception as exc:  # a missing folder or repo, or files datasets cannot read
        raise MissingInput(f"--exclude-questions {path} could not be loaded as a dataset: {exc}") from exc
    questions: set[str] = set()
    for split in data.values():
        column = next((c for c in ("question", "messages") if c in split.column_names), None)
        if column is None:
            raise InputError(f"--exclude-questions {path} has neither a question nor a messages column")
        # in batches: a traces dataset's messages hold whole episodes, too many to hold as Python objects at once
        for batch in split.select_columns([column]).iter(batch_size=1024):
            for value in batch[column]:
                texts = [value] if column == "question" else _user_turns(value)
                if texts is None or not all(isinstance(t, str) or t is None for t in texts):
                    kind = "texts" if column == "question" else "chat messages (lists of {role, content})"
                    raise InputError(f"--exclude-questions {path}: its {column} column does not hold {kind}")
                questions.update(t for t in texts if t is not None)
    return questions


def _user_turns(messages: Any) -> list[Any] | None:
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return None
    turns = [m.get("content") for m in messages if m.get("role") == "user"]
    return turns or None  # a chat without a user turn holds no question: excluding nothing would be silent


def question_key(question: str) -> str:
    """A question up to whitespace: one that differs from a training question only in spacing or line
    breaks is the same question to the model, so it does not count as unseen."""
    return " ".join(question.split())


def unseen_entries(task: Any, n: int, seed: int, complexity: str | None, seen: set[str]) -> list[dict]:
    """The first `n` generated entries whose question is not in `seen`, up to whitespace (fewer if the
    task runs out)."""
    from dataset_builders.task import generate_entries

    seen = {question_key(q) for q in seen}
    size = n
    while True:
        entries = list(generate_entries(task, size, seed, complexity))
        kept = [e for e in entries if question_key(e["question"]) not in seen]
        if len(kept) >= n or len(entries) < size or size >= 64 * max(n, 1):
            return kept[:n]
        size *= 2


def load_entries(config: EvalConfig, tasks: list[Any]) -> dict[str, list[dict]]:
    """Entries per task: generated from the seed (leaving out questions seen in training), or the first N
    published instances."""
    if config.published is None:
        paths = [config.exclude_questions] if isinstance(config.exclude_questions, str) else config.exclude_questions
        seen = set().union(*(training_questions(path) for path in paths))
        out = {}
        for t in tasks:
            try:
                out[t.name] = unseen_entries(t, config.num_questions, config.seed, config.complexity, seen)
            except InputError:
                raise
            except Exception as exc:  # a generator bug is named with its task, not a deep traceback
                raise InputError(f"{t.name} could not generate questions: {type(exc).__name__}: {exc}") from exc
        return out
    from dataset_builders import load_published

    if not Path(config.published).exists():
        raise MissingInput(f"published data folder {config.published} does not exist")
    found: dict[str, list[dict]] = {t.name: [] for t in tasks}
    flagged: dict[str, int] = dict.fromkeys(found, 0)
    for e in load_published(config.published, on_error="skip", tasks=tasks):
        if config.skip_flawed_references and flagged_reference(e):
            flagged[e["task"]] += 1
            continue
        found[e["task"]].append(e)
    emptied = [n for n, es in found.items() if not es and flagged[n]]
    if emptied:
        raise InputError(
            f"every published instance of {', '.join(emptied[:5])} has a flagged reference; leave the task out "
            "(--tasks) or keep flagged instances (no --skip-flawed-references)"
        )
    missing = [n for n, es in found.items() if not es]
    if missing:
        raise MissingInput(f"{config.published} holds no published instances of {', '.join(missing[:5])}")
    return {n: es[: config.num_questions] for n, es in found.items()}


# -- records ---------------------------------------------------------------------------------------
def sample_key(mode: str, task: str, sample_id: Any) -> str:
    return f"{mode}\0{task}\0{sample_id}"


def flagged_reference(entry: dict) -> bool:
    """Whether a published entry's stored reference breaks its own question's rules (see dataset_builders.task)."""
    from dataset_builders.task import FLAWED_REFERENCE

    metadata = entry.get("metadata")
    return isinstance(metadata, dict) and bool(metadata.get(FLAWED_REFERENCE))


def sample_record(mode: str, task: Any, entry: dict, episode: Any, verdict: float) -> dict[str, Any]:
    """One line of the details: the question, the whole transcript and what was concluded from it."""
    executions = [s.execution or {} for s in episode.segments if s.role == "interpreter"]
    return {
        "mode": mode,
        "task": task.name,
        "source": task.source,
        "split": task.split,
        "id": str(entry["id"]),
        "question": entry["question"],
        "reference": str(entry.get("answer", "")),
        "transcript": episode.completion,
        "segments": json.dumps([asdict(s) for s in episode.segments]),
        "extracted_answer": episode.answer,
        "verdict": float(verdict),
        "correct": verdict >= 1.0,
        "finish_reason": episode.finish_reason,
        "error": episode.error or "",
        "flagged_reference": flagged_reference(entry),
        "num_code_calls": episode.num_code_calls,
        "turns": sum(1 for s in episode.segments if s.role == "model"),
        "tokens": episode.tokens_used,
        "execution_errors": sum(
            1 for x in executions if x.get("exit_code") not in (0, None) and not x.get("timed_out")
        ),
        "timeouts": sum(1 for x in executions if x.get("timed_out")),
    }


def read_records(output_dir: Path) -> list[dict]:
    """Every finished sample in `output_dir` (all ranks), the latest line per sample (a retried error
    is replaced by its new run); a torn last line of a killed run is ignored."""
    records: dict[str, dict] = {}
    for path in sorted(output_dir.glob("samples-*.jsonl")):
        for line in path.read_text("utf-8", errors="replace").splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue  # only a kill mid-write leaves a partial line; that sample is redone
            records.pop(key := sample_key(r["mode"], r["task"], r["id"]), None)
            records[key] = r
    return list(records.values())


class SampleLog:
    """Append-only JSONL of finished samples, flushed per sample; drops a torn tail on open."""

    def __init__(self, path: Path) -> None:
        if path.exists():
            data = path.read_bytes()
            keep = data[: data.rfind(b"\n") + 1]
            if keep != data:
                path.write_bytes(keep)
        self.fh = path.open("a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self.fh.write(json.dumps(record) + "\n")
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def close(self) -> None:
        self.fh.close()


# -- the run ---------------------------------------------------------------------------------------
def run_settings(config: EvalConfig, entries: dict[str, list[dict]]) -> dict[str, Any]:
    """What run.json holds: the settings that fix the numbers, the model's fingerprint, and a digest
    of each task's questions (some generators depend on the hash seed: a resume must see the same)."""
    settings = {k: getattr(config, k) for k in RUN_KEYS if k != "model_fingerprint"}
    settings["model_fingerprint"] = model_fingerprint(config.model, config.backend)
    settings["protocol_defaults"] = config.protocol_defaults
    settings["questions"] = {
        task: hashlib.sha256(json.dumps([[str(e["id"]), e["question"]] for e in es]).encode()).hexdigest()[:16]
        for task, es in entries.items()
    }
    return settings


def prepare_run(config: EvalConfig) -> tuple[list[Any], dict[str, list[dict]]]:
    """Tasks and questions of a run, after checking the model and the output folder's run.json."""
    tasks = select_tasks(config)  # unknown names fail before any model loads
    check_model(config)  # before run.json: a run that cannot start leaves no folder behind
    if config.backend == "transformers":
        from hub_tools.checkpoints import resolve_checkpoint

        resolve_checkpoint(config.model)  # download (and convert a DeepSpeed dump) once, before every rank loads it
    entries = load_entries(config, tasks)
    check_resume(Path(config.output_dir), run_settings(config, entries))
    return tasks, entries


def check_resume(output_dir: Path, settings: dict[str, Any]) -> None:
    """Write run.json, or check that an earlier run in this folder used the same model and settings."""
    path = output_dir / "run.json"
    if path.exists():
        try:
            before = json.loads(path.read_text())
        except ValueError:
            raise InputError(f"{path} is not a run file of `r1ci eval`; choose another --output-dir") from None
        if before.get("model_fingerprint") != settings["model_fingerprint"]:
            raise InputError(
                f"{output_dir} holds results of model {before.get('model')!r}, not {settings['model']!r}; "
                "choose another --output-dir"
            )
        changed = [k for k in RUN_KEYS if before.get(k) != settings[k]]
        moved = [t for t, d in settings["questions"].items() if before.get("questions", {}).get(t, d) != d]
        if moved and not changed:
            raise InputError(
                f"the questions of {', '.join(moved[:3])} differ from those of the run in {output_dir}: their "
                "generator depends on the hash seed, so set the same PYTHONHASHSEED (e.g. 0) for every run and process"
            )
        if changed:
            raise InputError(
                f"{output_dir} holds a run with other settings ({', '.join(changed)}); resume with the same "
                "settings or choose another --output-dir"
            )
        return
    output_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2))


def check_model(config: EvalConfig) -> None:
    """One sentence, before any question is built, if the model or endpoint cannot be reached."""
    if config.backend != "transformers":
        check_endpoint(config.base_url or "")
        return
    from code_interpreter.generation import check_model_path

    check_model_path(config.model)
    if Path(config.model).is_dir():
        if not (Path(config.model) / "config.json").is_file():
            raise MissingInput(f"{config.model} is a folder without config.json: not a model folder")
        return
    if _offline():
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(config.model, "config.json"), str):
            raise MissingInput(f"model {config.model!r} is neither a local folder nor in the Hub cache (offline)")
        return
    from huggingface_hub import HfApi

    try:
        exists = HfApi().repo_exists(config.model)
    except Exception as exc:  # no network, rate limit: say so instead of failing deep in transformers
        raise InputError(f"could not reach the Hub to find model {config.model!r} ({type(exc).__name__})") from exc
    if not exists:
        raise MissingInput(f"model {config.model!r} is neither a local folder nor a model on the Hub")


def make_generator(config: EvalConfig) -> Any:
    """The generator, through the rollout job's factory."""
    from dataset_builders.rollouts import RolloutJobConfig
    from dataset_builders.rollouts import make_generator as rollout_generator

    check_model(config)
    if config.backend == "transformers":
        # Any layout the paper's checkpoints come in (fp32 weights load in bf16, DeepSpeed dumps convert once).
        from code_interpreter.generation import TransformersGenerator
        from hub_tools.checkpoints import load_model_and_tokenizer

        model, tokenizer = load_model_and_tokenizer(config.model)
        return TransformersGenerator(model, tokenizer, temperature=config.temperature)
    if config.backend == "vllm-server":
        from transformers import AutoTokenizer

        from code_interpreter import get_generator

        try:
            tokenizer = AutoTokenizer.from_pretrained(config.tokenizer or config.model)
        except OSError as exc:
            raise MissingInput(
                f"backend vllm-server needs the model's tokenizer: {config.tokenizer or config.model!r} could not be "
                "loaded; pass --tokenizer <folder or Hub id>"
            ) from exc
        return get_generator(
            "vllm-server",
            model=config.model,
            base_url=config.base_url,
            tokenizer=tokenizer,
            temperature=config.temperature,
        )
    return rollout_generator(
        RolloutJobConfig(
            model=config.model,
            backend=config.backend,
            base_url=config.base_url,
            openai_mode=config.openai_mode,
            temperature=config.temperature,
        )
    )


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def check_endpoint(base_url: str, timeout: float = 10.0) -> None:
    """One sentence if the endpoint does not answer (instead of every episode failing after retries)."""
    import urllib.error
    import urllib.request

    url = base_url.rstrip("/") + "/models"
    try:
        urllib.request.urlopen(url, timeout=timeout).close()
    except urllib.error.HTTPError:
        return  # it answered (e.g. 401 without a key): it is up
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InputError(
            f"the endpoint {base_url} does not answer ({reason}); start the server or fix --base-url"
        ) from exc


def protocol_for(mode: str, config: EvalConfig) -> Any:
    from code_interpreter import ProtocolConfig

    if mode == "code":
        return ProtocolConfig(
            version=config.protocol_version, timeout_s=config.timeout_s, answer_source=config.answer_source
        )
    return ProtocolConfig(
        version=config.protocol_version,
        timeout_s=config.timeout_s,
        answer_source=config.answer_source,
        max_code_calls=0,
        system_prompt=TEXT_SYSTEM_PROMPT,
    )


def run_eval(
    config: EvalConfig,
    *,
    rank: int = 0,
    world_size: int = 1,
    generator: Any = None,
    progress: bool = True,
    on_sample: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Run every sample not yet in the output folder (this rank's share); returns this run's new records."""
    import torch
    from tqdm import tqdm

    from code_interpreter import get_sandbox
    from code_interpreter.episode import EpisodeRunner

    output_dir = Path(config.output_dir)
    tasks = select_tasks(config)  # unknown names fail before any model loads
    if generator is None:
        check_model(config)  # before run.json: a run that cannot start leaves no folder behind
    entries = load_entries(config, tasks)
    # Every rank compares with run.json (rank 0 writes it first): a process whose questions differ stops.
    check_resume(output_dir, run_settings(config, entries))
    done = {
        sample_key(r["mode"], r["task"], r["id"])
        for r in (read_records(output_dir) if output_dir.exists() else [])
        if not (config.retry_errors and r["finish_reason"] in ("generator_error", "sandbox_error"))
    }
    todo = {
        (mode, t.name): [
            e
            for i, e in enumerate(entries[t.name])
            if i % world_size == rank and sample_key(mode, t.name, str(e["id"])) not in done
        ]
        for mode in config.modes
        for t in tasks
    }
    if not any(todo.values()):
        return []
    generator = generator or make_generator(config)
    output_dir.mkdir(parents=True, exist_ok=True)
    log = SampleLog(output_dir / f"samples-{rank}.jsonl")
    new: list[dict] = []
    try:
        with get_sandbox(config.sandbox) as sandbox:
            for mode in config.modes:
                runner = EpisodeRunner(
                    generator, sandbox, protocol_for(mode, config), max_new_tokens=config.max_new_tokens
                )
                for task in tasks:
                    pending = todo[(mode, task.name)]
                    total = len(entries[task.name][rank::world_size])
                    bar = tqdm(
                        total=total,
                        initial=total - len(pending),
                        desc=f"{mode} {task.name}",
                        unit="q",
                        disable=not progress,
                        leave=True,
                    )
                    step = len(pending) if runner.asynchronous else config.batch_size
                    for start in range(0, len(pending), max(1, step)):
                        batch = pending[start : start + step]
                        if config.temperature > 0:
                            torch.manual_seed(config.seed + zlib.crc32(str(batch[0]["id"]).encode()))

                        def finished(ep: Any, task: Any = task, mode: str = mode, bar: Any = bar) -> None:
                            entry = ep.metadata["entry"]
                            verdict = task.score(
                                ep.completion,
                                entry,
                                inserted_spans=ep.inserted_spans,
                                answer_source=config.answer_source,
                            )
                            record = sample_record(mode, task, entry, ep, verdict)
                            log.write(record)
                            new.append(record)
                            bar.update(1)
                            if on_sample is not None:
                                on_sample(record)

                        runner.run([e["question"] for e in batch], [{"entry": e} for e in batch], on_done=finished)
                    bar.close()
    finally:
        log.close()
    return new


def write_outputs(config: EvalConfig) -> dict[str, Any]:
    """results.json and the details dataset folder from every record in the output folder."""
    output_dir = Path(config.output_dir)
    records = read_records(output_dir)
    settings = json.loads((output_dir / "run.json").read_text())
    results = aggregate(records, settings)
    tmp = output_dir / (RESULTS_FILE + ".tmp")
    tmp.write_text(json.dumps(results, indent=2))
    tmp.replace(output_dir / RESULTS_FILE)
    write_details(output_dir / "details", records, results)
    return results


def write_details(folder: Path, records: list[dict], results: dict[str, Any]) -> Path:
    """The per-sample details as a dataset folder (config per mode, split per task split)."""
    from datasets import Dataset

    from hub_tools.dataset_folder import write_dataset_folder
    from model_cards.model_card import details_dataset_card

    configs: dict[str, dict[str, Any]] = {}
    for mode in MODES:
        rows = sorted((_utf8_safe(r) for r in records if r["mode"] == mode), key=lambda r: (r["task"], r["id"]))
        for split in ("test", "train"):
            part = [r for r in rows if r["split"] == split]
            if part:
                configs.setdefault(mode, {})[split] = Dataset.from_list(part)
    card = details_dataset_card(results)
    return write_dataset_folder(folder, configs, card, default_config="code" if "code" in configs else None)


def _utf8_safe(record: dict) -> dict:
    """`record` with lone surrogates (which a server's JSON can carry and Arrow refuses) written as escapes."""
    return {
        k: v.encode("utf-8", "backslashreplace").decode("utf-8") if isinstance(v, str) else v for k, v in record.items()
    }


def push_details(config: EvalConfig) -> Any:
    from hub_tools.publish import commit_message, push_folder

    summary, description = commit_message(f"Evaluation details of {config.model}", seed=config.seed)
    return push_folder(
        Path(config.output_dir) / "details",
        config.push_details,
        repo_type="dataset",
        summary=summary,
        description=description,
    )


def summary_lines(results: dict[str, Any]) -> Iterable[str]:
    for mode, r in results["modes"].items():
        s = r["stats"]
        sources = ", ".join(f"{k} {v['accuracy']:.1%}" for k, v in r["per_source"].items())
        yield (
            f"{mode}: overall {r['overall']:.1%} over {s['tasks']} tasks ({sources}); {s['samples']} samples, "
            f"{s['mean_code_calls']:.2f} code calls, {s['mean_turns']:.2f} turns, {s['mean_tokens']:.0f} tokens "
            f"per sample; {s['execution_errors']} execution errors, {s['timeouts']} timeouts, {s['errors']} errored samples"
        )


# -- command line ----------------------------------------------------------------------------------
def make_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("eval", help="evaluate a model over the R1-CI tasks, with and without code execution")
    p.add_argument("--config", help="YAML file with the fields of trainers.evaluation.EvalConfig")
    p.add_argument("--model", help="local folder, Hub id or served model name")
    p.add_argument("--tasks", nargs="+", help="task names (default: every task of --split)")
    p.add_argument("--split", choices=SPLITS)
    p.add_argument("--num-questions", type=int)
    p.add_argument("--published", help="folder of the paper's published instances")
    p.add_argument("--modes", nargs="+", choices=MODES)
    p.add_argument("--seed", type=int)
    p.add_argument("--complexity", help="generated questions from these levels only: a level (2) or a range (1-3)")
    p.add_argument(
        "--exclude-questions", nargs="+", help="datasets (folders or Hub ids) whose questions are left out (held-out)"
    )
    p.add_argument("--backend", choices=BACKENDS)
    p.add_argument("--base-url")
    p.add_argument("--openai-mode", choices=("chat", "completions"))
    p.add_argument("--tokenizer", help="tokenizer folder or Hub id (backend vllm-server; default: --model)")
    p.add_argument("--sandbox")
    p.add_argument("--max-new-tokens", type=int)
    p.add_argument("--temperature", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--timeout-s", type=float)
    p.add_argument("--protocol-version", choices=("v1", "v2"), help="default: v1 for the released checkpoints, else v2")
    p.add_argument(
        "--answer-source",
        choices=("model", "anywhere"),
        help="where the final <<<answer>>> may come from; default: anywhere (the paper's rule) for the released "
        "checkpoints, else model (interpreter output never supplies it)",
    )
    p.add_argument("--output-dir")
    p.add_argument("--push-details", help="dataset repo id for the per-sample details")
    p.add_argument(
        "--retry-errors",
        action="store_true",
        default=None,
        help="redo samples that ended in a generator or sandbox error",
    )
    p.add_argument(
        "--skip-flawed-references",
        action="store_true",
        default=None,
        help="leave out published instances whose stored reference breaks the question's rules",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=main)


def config_from_args(args: argparse.Namespace) -> EvalConfig:
    from dataset_builders.rollouts import config_from_dict

    data: dict[str, Any] = {}
    if args.config:
        import yaml

        path = Path(args.config)
        if not path.is_file():
            raise MissingInput(f"config file {path} does not exist")
        data = yaml.safe_load(path.read_text()) or {}
        if not isinstance(data, dict):
            raise InputError(f"config file {path} must be a mapping of keys to values")
    for key in (f.name for f in EvalConfig.__dataclass_fields__.values()):
        value = getattr(args, key, None)
        if value is not None:
            data[key] = value
    if "model" not in data:
        raise InputError("say which model to evaluate: --model <folder, Hub id or served name>")
    return config_from_dict(EvalConfig, data, source=args.config or "the command line")


def main(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    run_eval(config, progress=not args.no_progress)
    results = write_outputs(config)
    for line in summary_lines(results):
        print(line)
    print(f"results: {Path(config.output_dir) / RESULTS_FILE}; details: {Path(config.output_dir) / 'details'}")
    if config.push_details:
        pushed = push_details(config)
        print(f"details pushed to {pushed.url} ({pushed.commit[:12]})")
    return 0
