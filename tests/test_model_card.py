"""Model cards with evaluation results (model_cards/model_card.py), the chart, and the `evaluate` metric."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from huggingface_hub import ModelCard
from huggingface_hub.repocard_data import eval_results_to_model_index, model_index_to_eval_results

from model_cards.model_card import (
    PAPER_REFERENCE,
    accuracy_chart_png,
    details_dataset_card,
    eval_results,
    evaluation_section,
    model_card,
)
from trainers.eval_results import aggregate

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _record(mode, task, i, verdict, **kw):
    source = task.split("/")[0]
    return {
        "mode": mode,
        "task": task,
        "source": source,
        "split": "test",
        "id": str(i),
        "verdict": verdict,
        "error": kw.get("error", ""),
        "num_code_calls": kw.get("calls", 0),
        "turns": 1,
        "tokens": 10,
        "execution_errors": 0,
        "timeouts": 0,
        "finish_reason": "answer",
    }


@pytest.fixture
def results():
    verdicts = {  # per task: code mode, text mode (4 samples each)
        "symbench/pooling": ([1, 1, 1, 0], [1, 0, 0, 0]),
        "symbench/reversi": ([1, 0, 0, 0], [0, 0, 0, 0]),
        "bbh/navigate": ([1, 1, 0, 0], [1, 1, 1, 0]),
    }
    records = [
        _record(mode, task, i, v, calls=1 if mode == "code" else 0)
        for task, modes in verdicts.items()
        for mode, vs in zip(("code", "text"), modes, strict=True)
        for i, v in enumerate(vs)
    ]
    run = {"model": "org/R1-CI-7B", "model_fingerprint": "hub:x", "seed": 0, "num_questions": 4}
    run |= {"published": None, "temperature": 0.0, "max_new_tokens": 2048, "protocol_version": "v2"}
    return aggregate(records, run)


def test_overall_is_the_mean_over_tasks(results):
    code = results["modes"]["code"]
    assert code["overall"] == pytest.approx((3 / 4 + 1 / 4 + 2 / 4) / 3)
    assert code["micro_accuracy"] == pytest.approx(6 / 12)
    assert code["per_source"]["symbench"]["accuracy"] == pytest.approx(0.5)
    assert results["modes"]["text"]["per_source"]["bbh"]["accuracy"] == pytest.approx(0.75)


def test_card_parses_back_with_a_valid_model_index(tmp_path, results):
    text = model_card(
        model_name="R1-CI-7B",
        base_model="Qwen/Qwen2.5-7B-Instruct",
        results=results,
        datasets=["org/R1-CI-SFT-traces"],
        repo_id="org/R1-CI-7B",
    )
    (tmp_path / "README.md").write_text(text)
    card = ModelCard.load(tmp_path / "README.md")
    assert card.data.base_model == "Qwen/Qwen2.5-7B-Instruct" and card.data.datasets == ["org/R1-CI-SFT-traces"]
    parsed = card.data.eval_results
    assert len(parsed) == 2 * (1 + 2)  # two modes x (overall + two sources)
    values = {(r.dataset_config, r.metric_config): r.metric_value for r in parsed}
    assert values[("all", "code")] == round(100 * results["modes"]["code"]["overall"], 2) == 50.0
    assert values[("symbench", "text")] == 12.5 and values[("bbh", "code")] == 50.0
    # The model-index round-trips through huggingface_hub's own converters and holds the fields the Hub requires.
    model_index = card.data.to_dict()["model-index"]
    name, again = model_index_to_eval_results(model_index)
    assert name == "R1-CI-7B" and eval_results_to_model_index(name, again) == model_index
    for entry in model_index[0]["results"]:
        assert entry["task"]["type"] and entry["dataset"]["type"] and entry["dataset"]["name"]
        assert all(isinstance(m["value"], float) and m["type"] == "accuracy" for m in entry["metrics"])
    body = card.text
    assert "# R1-CI-7B" in body and "| **overall (mean over tasks)** | 50.0% | 33.3% |" in body
    assert "| symbench/pooling | 4 | 75.0% | 25.0% |" in body
    assert "![accuracy per task](images/accuracy_per_task.png)" in body
    assert 'get_generator("transformers", model="org/R1-CI-7B"' in body
    assert "<<<answer content>>>" in body  # the system prompt is documented


def test_paper_figures_are_labelled_as_reported(results):
    section = evaluation_section(results)
    ref = section[section.index("### Reference figures reported by the paper") :]
    for name, value in PAPER_REFERENCE:
        assert f"| {name} | {value:.1f}% |" in ref
    assert dict(PAPER_REFERENCE) == {
        "GPT-4o, text only": 58.6,
        "GPT-4o + Code Interpreter": 70.9,
        "R1-CI-14B": 72.4,
    }
    assert "as reported by the paper" in ref and "not measured here" in ref
    # Only the abstract's figures are given; the 3B/7B accuracies are pointed to, never made up.
    assert "arxiv.org/abs/2505.21668v2" in ref and "abstract" in ref
    assert "R1-CI-3B and R1-CI-7B accuracies are in the paper's result tables" in ref
    assert "from 44.1% to 72.4%" in ref and "+3.4 to +9.3 points" in ref


def test_chart_is_a_deterministic_png(results):
    import matplotlib.image

    png = accuracy_chart_png(results)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png == accuracy_chart_png(results)
    height, width, _ = matplotlib.image.imread(io.BytesIO(png)).shape
    assert 600 < width <= 800 and height > 150


def test_sft_card_takes_the_same_results(tmp_path, results):
    from model_cards.sft_card import sft_model_card

    text = sft_model_card(
        model_name="R1-CI-7B-SFT",
        base_model="Qwen/Qwen2.5-7B-Instruct",
        dataset="org/R1-CI-SFT-traces",
        hyperparameters={"learning_rate": 1e-5},
        data_summary="10 traces",
        overlong="drop",
        max_trace_length=4096,
        extra_sections=evaluation_section(results),
        eval_results=eval_results(results),
    )
    (tmp_path / "README.md").write_text(text)
    card = ModelCard.load(tmp_path / "README.md")
    assert len(card.data.eval_results) == 6 and "### Reference figures reported by the paper" in card.text
    assert "\n# R1-CI-7B-SFT\n" in card.text


def test_eval_results_files_parse_back(results):
    import yaml
    from huggingface_hub import parse_eval_result_entries

    from model_cards.model_card import eval_results_yaml

    entries = parse_eval_result_entries(yaml.safe_load(eval_results_yaml(results, "org/R1-CI-tasks")))
    values = {(e.task_id, e.notes): e.value for e in entries}
    assert {e.dataset_id for e in entries} == {"org/R1-CI-tasks"}
    assert values[("overall", "tools")] == 50.0 and values[("bbh", "no-tools")] == 75.0
    assert len(entries) == 6


def test_details_card_renders(results):
    card = details_dataset_card(results)
    assert "# Evaluation details: org/R1-CI-7B" in card and "24 rows" in card


def test_metric_module_loads_offline_from_its_path(monkeypatch):
    import evaluate

    from dataset_builders import get_task

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    monkeypatch.chdir(PROJECT_ROOT.parent)  # a relative path that does not exist here would go to the Hub
    metric = evaluate.load(str(PROJECT_ROOT / "model_cards" / "metric"))
    entries = list(get_task("symbench/pooling").generate(3, seed=0))
    entries += list(get_task("symbench/string_splitting").generate(1, seed=0))
    predictions = [
        f"<<<{entries[0]['answer']}>>>",
        "<<<1,2>>>",
        # Interpreter output never supplies the answer.
        f"```python\nprint(1)\n```\nCode Execution Results: <<<{entries[2]['answer']}>>>\n",
        f"done <<<{entries[3]['answer']}>>>",
    ]
    out = metric.compute(predictions=predictions, references=entries)
    assert out["per_task"] == {"symbench/pooling": pytest.approx(1 / 3), "symbench/string_splitting": 1.0}
    assert out["accuracy"] == pytest.approx((1 / 3 + 1) / 2) and out["num_samples"] == 4
    assert out["micro_accuracy"] == pytest.approx(2 / 4)
    as_rows = metric.compute(predictions=predictions, references=[json.dumps(e) for e in entries])
    assert as_rows == out  # rows of the tasks dataset (JSON) score the same
