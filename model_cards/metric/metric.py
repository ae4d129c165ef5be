"""R1-CI accuracy as an `evaluate` metric: `evaluate.load("<path to model_cards/metric>")`, offline.

Predictions are model completions (the whole assistant turn); references are the task entries they
answer (`task`, `id`, `question`, `answer`, `metadata`), as dicts or JSON strings (a row of the
tasks dataset). Each completion is scored by its task's rule-based verifier (`Task.score`: the last
<<<...>>> the model wrote; interpreter output never supplies it), and the metric returns the
accuracy per task, per source and overall (the mean over tasks, as the R1-CI paper reports it).

This file is loaded by `evaluate` as a standalone script, which scans its imports: keep one
import per line (the scanner misreads `import a, b`).
"""

import json
from collections import defaultdict

import datasets
import evaluate

_DESCRIPTION = __doc__
_KWARGS_DESCRIPTION = """
Args:
    predictions: list of str, model completions.
    references: list of task entries (dict or JSON string) with at least `task` and `answer`.
    answer_source: "model" (default) or "anywhere" (older checkpoints; see the protocol).
Returns:
    accuracy: mean over tasks of per-task accuracy.
    micro_accuracy: mean over samples.
    per_task: {task: accuracy}; per_source: {source: mean over its tasks}; num_samples.
Examples:
    >>> metric = evaluate.load("model_cards/metric")
    >>> metric.compute(predictions=["... <<<42>>>"], references=[entry])["accuracy"]
"""
_CITATION = """\
@article{chen2025r1codeinterpreter,
  title={R1-Code-Interpreter: Training LLMs to Reason with Code via Supervised and Reinforcement Learning},
  author={Chen, Yongchao and Liu, Yueying and Zhou, Junwei and Hao, Yilun and Wang, Jingquan and Zhang, Yang and Fan, Chuchu},
  journal={arXiv preprint arXiv:2505.21668},
  year={2025}
}
"""


def _entry(reference):
    if isinstance(reference, str):
        try:
            reference = json.loads(reference)
        except ValueError as exc:
            raise ValueError(f"a reference must be a task entry or its JSON, got {reference[:60]!r}") from exc
    if not isinstance(reference, dict) or "task" not in reference or "answer" not in reference:
        raise ValueError("a reference must be a task entry with at least 'task' and 'answer'")
    return reference


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class R1CIAccuracy(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
            reference_urls=["https://arxiv.org/abs/2505.21668"],
        )

    def compute(self, *, predictions=None, references=None, **kwargs):
        """Accuracy of `predictions` against task entries (see the module docstring)."""
        # Entries hold nested, task-specific metadata that no fixed feature type fits: carry them as JSON.
        if references is not None:
            references = [r if isinstance(r, str) else json.dumps(r, default=str) for r in references]
        return super().compute(predictions=predictions, references=references, **kwargs)

    def _compute(self, predictions, references, answer_source="model"):
        from dataset_builders import get_task

        per_task = defaultdict(list)
        for completion, reference in zip(predictions, references, strict=True):
            entry = _entry(reference)
            task = get_task(entry["task"])
            per_task[task.name].append(task.score(completion or "", entry, answer_source=answer_source))
        accuracy = {name: sum(v) / len(v) for name, v in sorted(per_task.items())}
        by_source = defaultdict(list)
        for name, value in accuracy.items():
            by_source[name.split("/", 1)[0]].append(value)
        samples = [s for v in per_task.values() for s in v]
        return {
            "accuracy": sum(accuracy.values()) / len(accuracy) if accuracy else 0.0,
            "micro_accuracy": sum(samples) / len(samples) if samples else 0.0,
            "per_task": accuracy,
            "per_source": {s: sum(v) / len(v) for s, v in sorted(by_source.items())},
            "num_samples": len(samples),
        }
