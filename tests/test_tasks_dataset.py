"""`r1ci tasks build`: the tasks dataset in a local folder with the Hub's layout, its card, and a push."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from datasets import load_dataset

from dataset_builders import get_task
from dataset_builders.tasks_dataset import build_tasks_dataset, folder_digest
from hub_tools.dataset_folder import split_front_matter
from hub_tools.publish import resolve_target
from r1ci_cli import main
from tests.hub_server import HubServer
from tests.test_hub_tools import PROJECT_ROOT, _client_env

TASKS = ["symbench/number_multiply", "reasoning_gym/leg_counting", "bbh/navigate", "symbench/game24"]


@pytest.fixture()
def no_gsm_data(monkeypatch):
    monkeypatch.delenv("R1CI_GSM_HARD_PATH", raising=False)


def test_build_to_folder_loads_scores_and_reproduces(tmp_path, external_task_data, no_gsm_data):
    names = [*TASKS, "symbench/gsm_hard"]  # gsm_hard's data is absent here: skipped and listed
    build = build_tasks_dataset(resolve_target(tmp_path / "ds", None), task_names=names, num_per_task=4, seed=3)
    assert build.built == TASKS and [name for name, _ in build.absent] == ["symbench/gsm_hard"]
    assert "R1CI_GSM_HARD_PATH" in build.absent[0][1]

    train = load_dataset(str(tmp_path / "ds"), "train", split="train")
    assert train.num_rows == 4 * sum(get_task(n).split == "train" for n in TASKS)
    assert set(train.column_names) == {"task", "source", "split", "id", "question", "answer", "metadata"}
    for row in list(train) + list(load_dataset(str(tmp_path / "ds"), "test", split="test")):
        assert isinstance(row["metadata"], str)  # as stored; score reads it as it is
        assert get_task(row["task"]).score(f"<<<{row['answer']}>>>", row) == 1.0, row["id"]
    one = load_dataset(str(tmp_path / "ds"), "symbench.game24")
    assert list(one) == [get_task("symbench/game24").split] and one[get_task("symbench/game24").split].num_rows == 4

    meta, body = split_front_matter((tmp_path / "ds" / "README.md").read_text())
    assert meta["license"] == "apache-2.0" and meta["size_categories"] == ["n<1K"] and meta["pretty_name"]
    assert {c["config_name"] for c in meta["configs"]} >= {"train", "test", "symbench.game24", "bbh.navigate"}
    assert "| `symbench/number_multiply` | symbench | train | 4 |" in body

    assert "`symbench/gsm_hard`: " in body and "2505.21668" in body and "score(" in body

    digest = folder_digest(tmp_path / "ds")
    build_tasks_dataset(resolve_target(tmp_path / "ds", None), task_names=names, num_per_task=4, seed=3)
    assert folder_digest(tmp_path / "ds") == digest  # same seed, same bytes


def test_cli_build_and_bad_input(tmp_path, capsys, no_gsm_data):
    out = tmp_path / "ds"
    assert (
        main(["tasks", "build", "--tasks", "symbench/number_multiply", "--num-per-task", "2", "--output-dir", str(out)])
        == 0
    )
    assert "2 rows of 1 tasks written to" in capsys.readouterr().out
    twice = ["tasks", "build", "--tasks", "symbench/number_multiply,symbench/number_multiply", "--num-per-task", "2"]
    assert main([*twice, "--output-dir", str(out)]) == 0
    assert "2 rows of 1 tasks written to" in capsys.readouterr().out  # not the same rows twice
    assert main(["tasks", "build", "--tasks", "symbench/game42", "--output-dir", str(out)]) == 2
    assert "did you mean symbench/game24" in capsys.readouterr().err
    assert main(["tasks", "build", "--tasks", "symbench/game24"]) == 2
    assert "--output-dir DIR, --push-to-hub REPO" in capsys.readouterr().err
    assert main(["tasks", "build", "--tasks", "symbench/game24", "--push-to-hub", "not a repo"]) == 2
    assert "is not a Hub repo id" in capsys.readouterr().err
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    assert main(["tasks", "build", "--tasks", "symbench/game24", "--output-dir", str(tmp_path / "mine")]) == 2
    assert "holds thesis.tex" in capsys.readouterr().err and (tmp_path / "mine" / "thesis.tex").exists()
    assert main(["tasks", "build", "--tasks", "symbench/gsm_hard", "--output-dir", str(tmp_path / "x")]) == 2
    assert "no task could be built here" in capsys.readouterr().err


def test_push_to_local_hub_is_idempotent(tmp_path):
    script = r"""
import json, sys
from dataset_builders.tasks_dataset import build_tasks_dataset
from hub_tools.publish import resolve_target
from datasets import load_dataset
a = json.loads(sys.argv[1])
out = []
for n in (3, 3, 2, 3):  # the same build twice, another one, then the first again
    b = build_tasks_dataset(resolve_target(a["dir"], "org/R1-CI-tasks"), task_names=["symbench/number_multiply"], num_per_task=n)
    out.append([b.push.commit, b.push.new_commit, b.push.tag])
rows = load_dataset("org/R1-CI-tasks", "symbench.number_multiply", revision=out[0][2])
same = all(  # the folder and the repo it was pushed to load the same rows, config by config
    load_dataset("org/R1-CI-tasks", c)[s].to_list() == load_dataset(a["dir"], c)[s].to_list()
    for c, s in (("train", "train"), ("symbench.number_multiply", "train"))
)
print(json.dumps({"pushes": out, "rows": rows[list(rows)[0]].num_rows, "same": same}))
"""
    with HubServer() as hub:
        env = _client_env(hub, tmp_path / "home")
        proc = subprocess.run(
            [sys.executable, "-c", script, json.dumps({"dir": str(tmp_path / "ds")})],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            cwd=PROJECT_ROOT,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        commits = hub.state.repos[("dataset", "org/R1-CI-tasks")].commits
        tags = hub.state.repos[("dataset", "org/R1-CI-tasks")].tags
    (first, new1, tag1), (second, new2, tag2), (other, new3, tag3), (back, new4, tag4) = result["pushes"]
    assert new1 and not new2 and first == second and tag1 == tag2 and tag1.startswith("tasks-")
    assert new3 and tag3 != tag1 and new4 and back not in (first, other)  # back to the first build's content
    assert tag4 == tag1 and tags == {tag1: first, tag3: other}  # its tag already named those bytes: kept
    assert result["rows"] == 3 and len(commits) == 4 and result["same"]
    assert any("seed: 0" in c.message for c in commits.values())
    assert os.environ.get("HF_HUB_OFFLINE") == "1"  # the test process itself stayed offline


def test_same_bytes_whatever_the_hash_seed(tmp_path):
    # isomorphic_strings picks from sets of strings: without a fixed hash seed every run differed,
    # so every re-push made a new commit and a new tag. Here (a random hash seed) it is generated in a
    # child at hash seed 0, which must give what a process started at hash seed 0 generates itself.
    name = "reasoning_gym/isomorphic_strings"
    build_tasks_dataset(resolve_target(tmp_path / "here", None), task_names=[name], num_per_task=5)
    script = (
        "import sys\nfrom dataset_builders.tasks_dataset import build_tasks_dataset\n"
        "from hub_tools.publish import resolve_target\n"
        f"build_tasks_dataset(resolve_target(sys.argv[1], None), task_names=[{name!r}], num_per_task=5)\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "there")], env=env, capture_output=True, text=True, timeout=240
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for shard in (
        "train/train-00000-of-00001.parquet",
        "reasoning_gym.isomorphic_strings/train-00000-of-00001.parquet",
    ):
        assert (tmp_path / "here" / shard).read_bytes() == (tmp_path / "there" / shard).read_bytes()


def test_card_says_when_a_task_repeats_its_source_rows(tmp_path, monkeypatch):
    # an offline copy with 2 GSM-hard rows: 5 entries repeat them, and the card must not claim 5 questions
    rows = [{"input": f"Tom has {n} apples and buys 3 more. How many?", "target": n + 3} for n in (4, 9)]
    data = tmp_path / "gsm.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setenv("R1CI_GSM_HARD_PATH", str(data))
    build_tasks_dataset(resolve_target(tmp_path / "ds", None), task_names=["symbench/gsm_hard"], num_per_task=5)
    assert "| `symbench/gsm_hard` | symbench | " in (body := (tmp_path / "ds" / "README.md").read_text())
    assert "| 5 (2 distinct) |" in body
