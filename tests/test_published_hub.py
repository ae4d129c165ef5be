"""The paper's published data from the Hub: a repo in the published layout (built from shared/external)
served by tests/hub_server.py, read by the real `snapshot_download` path (only the needed folders),
converted to a datasets repo, loaded back and scored; bad input and a hostile repo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from datasets import load_dataset

from dataset_builders.published_hub import MAX_DOWNLOAD_BYTES, is_safe_repo_path, plan_download
from dataset_builders.registry import get_task
from hub_tools.errors import HubInputError
from tests.conftest import EXTERNAL
from tests.hub_server import HubServer
from tests.test_hub_tools import PROJECT_ROOT, _client_env

REPO = "paper/R1-CI-Data"
ONLY = ["symbench/game24", "symbench/standard_sudoku", "symbench/blocksworld", "bbh/navigate"]
#: The repo folders (or files) those tasks read; nothing else may be downloaded.
NEEDED = ("symbench/game24_dataset/", "symbench/standard_sudoku/", "symbench/Blocksworld_dataset/",
          "BIG-Bench-Hard/navigate.json", "README.md")  # fmt: skip
CARD = "---\nlicense: apache-2.0\nlicense_link: https://example.org/LICENSE\n---\n# The paper's data\n"

needs_external = pytest.mark.skipif(not (EXTERNAL / "symbench").is_dir(), reason="shared/external is absent")


def _published_files() -> dict[str, bytes]:
    """The paper's repo layout: SymBench folders under symbench/, BBH files, images and a RG CSV beside them."""
    files = {f"symbench/{p.relative_to(EXTERNAL / 'symbench').as_posix()}": p.read_bytes()
             for p in (EXTERNAL / "symbench").rglob("*") if p.is_file()}  # fmt: skip
    files |= {f"BIG-Bench-Hard/{p.name}": p.read_bytes() for p in (EXTERNAL / "bbh").glob("*.json")}
    files |= {"README.md": CARD.encode(), "Open-images/example.png": b"\x89PNG\r\n",
              "reasoning_gym/leg_counting.csv": b"question,answer\nHow many legs?,4\n"}  # fmt: skip
    return files


def _hostile_files() -> dict[str, bytes]:
    sudoku = EXTERNAL / "symbench" / "standard_sudoku" / "sample_0"
    return {
        "game24_dataset/../../escaped.csv": b"Rank,Puzzles,Solutions\n1,1 2 3 4,x\n",  # path traversal
        "standard_sudoku/sample_0/question.txt": (sudoku / "question.txt").read_bytes(),
        "standard_sudoku/sample_0/solution.json": (sudoku / "solution.json").read_bytes(),
        "standard_sudoku/sample_1/question.txt": (sudoku / "question.txt").read_bytes(),
        "standard_sudoku/sample_1/solution.json": b'{"answer": [[1, 2',  # malformed JSON
        "game24_dataset/24_4_number.csv": b'Rank,"Puzzles\n1,"1 2\x00 3',  # malformed CSV
        "big/navigate.json": b" " * 300_000,  # over the (lowered) download bound
    }


_CLIENT = r"""
import json, sys, traceback
from pathlib import Path
from datasets import load_dataset
from dataset_builders import published_hub
from dataset_builders.published import read_published
from dataset_builders.published_convert import convert_published
from dataset_builders.paper_traces import import_traces
from hub_tools.errors import HubInputError
from hub_tools.publish import resolve_target
args = json.loads(sys.argv[1])
out = {}

def attempt(key, fn):
    try:
        out[key] = fn()
    except HubInputError as exc:
        out[key] = f"HubInputError: {exc}"

if args["mode"] == "online":
    read = read_published(args["repo"], only=args["only"])
    out["entries"] = read.entries
    out["errors"] = [str(e) for e in read.errors]
    out["read_paths"], out["commit"], out["card"] = read.read_paths, read.commit, read.card
    again = read_published(args["repo"], only=args["only"])
    out["again"] = [len(again.entries), again.commit]
    target = resolve_target(args["out"], "tester/R1-CI-Data-datasets")
    conv = convert_published(args["repo"], target, only=args["only"])
    out["push"] = [conv.push.commit, conv.push.new_commit, conv.push.tag]
    out["hub_rows"] = load_dataset("tester/R1-CI-Data-datasets", "symbench.game24", split="train").num_rows
    again = convert_published(args["repo"], target, only=args["only"])
    out["push_again"] = [again.push.commit, again.push.new_commit]
    attempt("missing_repo", lambda: read_published("paper/no-such-data"))
    attempt("missing_revision", lambda: read_published(args["repo"], revision="no-such-branch"))
    attempt("bare_revision", lambda: read_published(args["repo"], revision="bare"))
    published_hub.MAX_DOWNLOAD_BYTES = 100_000
    hostile = read_published("paper/hostile")
    out["hostile"] = [len(hostile.entries), [str(e) for e in hostile.errors], str(hostile.folder)]
    from dataset_builders import paper_traces
    paper_traces.MAX_FILE_BYTES = 10_000
    traces = import_traces("paper/traces")
    out["traces"] = [len(traces.rows), traces.commit, traces.files, traces.rows[0]["inserted_spans"], traces.problems]
else:
    read = read_published(args["repo"], only=args["only"])
    out["offline"] = [len(read.entries), read.commit, sorted(str(e) for e in read.errors)]
    attempt("offline_uncached_task", lambda: read_published(args["repo"], only=["symbench/2048"]))
    attempt("offline_unknown_repo", lambda: read_published("paper/never-downloaded"))
print(json.dumps(out))
"""


def _run(hub: HubServer, home: Path, args: dict, offline: bool = False) -> dict:
    env = _client_env(hub, home)
    if offline:
        env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    proc = subprocess.run(
        [sys.executable, "-c", _CLIENT, json.dumps(args)],
        env=env, capture_output=True, text=True, timeout=240, cwd=PROJECT_ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def hub_run(tmp_path_factory):
    """One online client run and one offline run against a seeded Hub; the server's request log."""
    tmp = tmp_path_factory.mktemp("published-hub")
    traces = [{"conversations": [{"from": "human", "value": "2+2?"},
                                 {"from": "gpt", "value": "```python\nprint(2+2)\n```"},
                                 {"from": "observation", "value": "4"},
                                 {"from": "gpt", "value": "<<<4>>>"}]}]  # fmt: skip
    with HubServer() as hub:
        hub.state.put_files("dataset", REPO, _published_files())
        repo = hub.state.repos[("dataset", REPO)]
        repo.branches["bare"] = next(c.oid for c in repo.commits.values() if c.parent is None)
        hub.state.put_files("dataset", "paper/hostile", _hostile_files())
        hub.state.put_files("dataset", "paper/traces", {"sft/traces.json": json.dumps(traces).encode(),
                                                        "sft/notes.png": b"x", "README.md": b"# no license\n",
                                                        "sft/../../up.json": b"[]", "sft/huge.jsonl": b" " * 20_000})  # fmt: skip
        args = {"mode": "online", "repo": REPO, "only": ONLY, "out": str(tmp / "converted")}
        online = _run(hub, tmp / "home", args)
        requests = list(hub.state.requests)
        offline = _run(hub, tmp / "home", {**args, "mode": "offline"}, offline=True)
        offline_requests = hub.state.requests[len(requests) :]
    return {"online": online, "offline": offline, "requests": requests, "offline_requests": offline_requests,
            "tmp": tmp}  # fmt: skip


@needs_external
def test_reads_only_the_needed_folders_and_entries_verify(hub_run):
    out = hub_run["online"]
    assert sorted({e["task"] for e in out["entries"]}) == sorted(ONLY)
    assert out["read_paths"] == sorted(p.rstrip("/") for p in NEEDED if p != "README.md")
    for entry in out["entries"]:  # every published reference passes its task's own verifier
        assert get_task(entry["task"]).score(f"<<<{entry['answer']}>>>", entry) == 1.0, entry["id"]
    prefix = f"/datasets/{REPO}/resolve/"
    downloads = [
        p[len(prefix) :].split("/", 1)[1] for m, p in hub_run["requests"] if m == "GET" and p.startswith(prefix)
    ]
    assert downloads and all(d.startswith(NEEDED) for d in downloads), sorted(set(downloads) - set(NEEDED))[:5]
    assert not any("sample_" in d and "standard_sudoku" not in d for d in downloads)  # other SymBench folders stay
    # the second read of the same revision found everything in the cache
    resolved = [d for d in downloads if d.startswith("symbench/game24_dataset/")]
    assert out["again"] == [len(out["entries"]), out["commit"]] and len(set(resolved)) == len(resolved)


@needs_external
def test_what_no_task_reads_is_reported_with_the_reason(hub_run):
    errors = hub_run["online"]["errors"]
    assert len(errors) == 2, errors
    images, rg = sorted(errors)
    assert "Open-images" in images and "no data files (only .png)" in images
    assert "reasoning_gym/leg_counting" in rg and "generators" in rg


@needs_external
def test_conversion_loads_back_per_task_and_pushes_once(hub_run):
    out, folder = hub_run["online"], hub_run["tmp"] / "converted"
    counts = {}
    for name in ONLY:
        task = get_task(name)
        rows = load_dataset(str(folder), name.replace("/", "."), split=task.split)
        assert set(rows.column_names) == {"task", "source", "split", "id", "question", "answer", "metadata"}
        for row in rows:
            assert task.score(f"<<<{row['answer']}>>>", row) == 1.0, row["id"]
        counts[name] = rows.num_rows
    assert counts == {n: sum(e["task"] == n for e in out["entries"]) for n in ONLY}
    assert out["hub_rows"] == counts["symbench/game24"]
    assert out["push"][1] is True and out["push"][2].startswith("published-")
    assert out["push_again"] == [out["push"][0], False]  # same source, same bytes: no new commit
    card = (folder / "README.md").read_text()
    assert "license: apache-2.0" in card and "license_link: https://example.org/LICENSE" in card
    assert f"/datasets/{REPO})" in card and out["commit"][:12] in card and "source_datasets:" in card
    assert "Open-images" in card and "reasoning_gym/leg_counting" in card  # what was not converted, and why


@needs_external
def test_bad_repo_and_revisions_are_one_sentence(hub_run):
    out = hub_run["online"]
    assert out["missing_repo"].startswith("HubInputError: no local path 'paper/no-such-data' and no dataset repo")
    assert "expected a folder or a Hub dataset repo in the paper's published layout" in out["missing_repo"]
    assert "revision 'no-such-branch' of dataset repo paper/R1-CI-Data does not exist" in out["missing_revision"]
    assert "expected a branch, tag or commit" in out["missing_revision"]
    bare = out["bare_revision"]
    assert f"dataset repo {REPO} at revision 'bare'" in bare and "holds none of the expected folders" in bare
    assert "expected task folders of the paper's published layout (2048_dataset" in bare and "\n" not in bare


@needs_external
def test_hostile_repo_gives_clear_problems_and_writes_nothing_outside(hub_run):
    entries, errors, folder = hub_run["online"]["hostile"]
    assert entries == 1  # the one good sudoku sample
    text = "\n".join(errors)
    assert "'game24_dataset/../../escaped.csv': unsafe file name" in text
    assert "big/navigate.json: 300000 bytes, larger than" in text
    assert "sample_1/solution.json: malformed JSON" in text
    assert "24_4_number.csv" in text  # the malformed CSV is a problem of its own, not a crash
    tmp = hub_run["tmp"]
    assert not list(tmp.rglob("escaped.csv")) and not list(Path(folder).parents[3].rglob("escaped.csv"))
    assert not any("escaped" in p for _, p in hub_run["requests"])  # never even requested


@needs_external
def test_offline_reads_the_cache_and_says_what_is_missing(hub_run):
    online, offline = hub_run["online"], hub_run["offline"]
    assert offline["offline"][:2] == [len(online["entries"]), online["commit"]]
    assert offline["offline"][2] == sorted(online["errors"])  # the cached listing still reports what was left out
    assert hub_run["offline_requests"] == []
    assert "only partly in the local cache and HF_HUB_OFFLINE is set" in offline["offline_uncached_task"]
    assert "2048_dataset" in offline["offline_uncached_task"]
    assert "not in the local Hugging Face cache and HF_HUB_OFFLINE is set" in offline["offline_unknown_repo"]


@needs_external
def test_traces_from_a_hub_repo(hub_run):
    rows, commit, files, spans, problems = hub_run["online"]["traces"]
    assert rows == 1 and files == ["sft/traces.json"] and len(commit) == 40
    assert sorted(kind for _, kind, _ in problems) == ["file too large", "unsafe file name"]
    assert not any("up.json" in p or "huge" in p for _, p in hub_run["requests"] if "/resolve/" in p)
    assert spans == [[24, 51]]  # "```python\nprint(2+2)\n```" then "\nCode Execution Results: 4\n"


# --- the download plan on its own (no server) --------------------------------------------------------


def test_plan_maps_folders_reports_the_rest_and_refuses_unsafe_names():
    tasks = [get_task(n) for n in ("symbench/game24", "bbh/navigate", "symbench/standard_sudoku")]
    files = [
        ("data/game24_dataset/24.csv", 10), ("data/game24_dataset/sub/more.csv", 10), ("bbh/navigate.json", 5),
        ("data/NOTICE", 1), ("README.md", 1), (".gitattributes", 1), ("data/__MACOSX/x.json", 1),
        ("standard_sudoku/sample_0/q.txt", MAX_DOWNLOAD_BYTES + 1), ("standard_sudoku/sample_1/q.txt", 3),
        ("data/game24_dataset/../x", 1), ("/etc/passwd", 1), ("a\\b.json", 1), ("mystery/x.json", 1),
        ("weird[1]/standard_sudoku/s/q.txt", 1),
    ]  # fmt: skip
    plan = plan_download(files, tasks)
    assert plan.folders == {"data/game24_dataset", "standard_sudoku", "weird[1]/standard_sudoku"}
    assert plan.files == {"bbh/navigate.json"}
    assert "weird[[]1[]]/standard_sudoku/*" in plan.allow_patterns  # glob characters match only themselves
    assert plan.skip == {"standard_sudoku/sample_0/q.txt", "data/game24_dataset/../x", "/etc/passwd", "a\\b.json"}
    reasons = "\n".join(str(e) for e in plan.unmapped)
    assert reasons.count("unsafe file name") == 3 and "larger than" in reasons
    assert "'mystery'" in reasons and "NOTICE" not in reasons  # a non-data file beside task folders is no data
    only = plan_download(files, tasks, only={"bbh/navigate"})
    assert only.task_paths == ["bbh/navigate.json"] and "larger than" not in "".join(map(str, only.unmapped))


@pytest.mark.parametrize("bad", ["../x", "a/../b", "/abs", "a//b", "C:/x", "a\\b", "a\x00b", "a\nb", "", "."])
def test_unsafe_repo_paths(bad):
    assert not is_safe_repo_path(bad)
    assert is_safe_repo_path("symbench/game24_dataset/24_4_number.csv")


# --- r1ci published convert on a local folder ------------------------------------------------------


@needs_external
def test_cli_converts_a_local_folder(tmp_path, capsys, external_task_data):
    import r1ci_cli

    out = tmp_path / "out"
    argv = ["published", "convert", "--source", str(EXTERNAL), "--tasks", "symbench/game24,bbh/navigate"]
    assert r1ci_cli.main([*argv, "--output-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "rows of 2 tasks written to" in printed and "problem" not in printed
    configs = {"symbench.game24": "train", "bbh.navigate": "test", "train": "train", "test": "test"}
    for config, split in configs.items():
        rows = load_dataset(str(out), config, split=split)
        assert rows.num_rows and all(get_task(r["task"]).score(f"<<<{r['answer']}>>>", r) == 1.0 for r in rows)
    card = (out / "README.md").read_text()
    assert "license: unknown" in card and "**unknown**" in card and str(EXTERNAL) not in card


def _published_copy(root: Path) -> Path:
    """A small folder in the published layout: the game24 CSV and two sudoku samples, copied."""
    import shutil

    shutil.copytree(EXTERNAL / "symbench" / "game24_dataset", root / "game24_dataset")
    for i in (0, 1):
        shutil.copytree(
            EXTERNAL / "symbench" / "standard_sudoku" / f"sample_{i}", root / "standard_sudoku" / f"sample_{i}"
        )
    return root


@needs_external
def test_cli_bad_input_is_one_sentence(tmp_path, capsys):
    import r1ci_cli

    src = _published_copy(tmp_path / "src")
    cases = [
        (["--source", "owner/never-downloaded"], "not in the local Hugging Face cache and HF_HUB_OFFLINE is set"),
        (["--source", str(tmp_path / "missing" / "folder")], "does not exist (and it is not a Hub repo id"),
        (["--source", str(src), "--revision", "v1"], "applies to a Hub repo, but"),
        (["--source", str(src), "--tasks", "symbench/game42"], "unknown task 'symbench/game42'"),
    ]
    for args, message in cases:
        assert r1ci_cli.main(["published", "convert", *args, "--output-dir", str(tmp_path / "o")]) == 2, args
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")  # an output folder holding something else: refused first
    assert r1ci_cli.main(["published", "convert", "--source", str(src), "--output-dir", str(tmp_path / "mine")]) == 2
    assert "not part of a dataset layout" in capsys.readouterr().err and (tmp_path / "mine" / "notes.txt").exists()
    assert not (tmp_path / "o").exists()


@needs_external
def test_hostile_local_folder_is_reported_not_read(tmp_path, monkeypatch):
    from dataset_builders import published
    from dataset_builders.published import read_published
    from dataset_builders.published_convert import convert_published
    from hub_tools.publish import resolve_target

    src = _published_copy(tmp_path / "src")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "question.txt").write_text("the machine's secret")
    (secret / "solution.json").write_text("[]")
    (src / "standard_sudoku" / "sample_2").symlink_to(secret)  # a sample folder that leads out
    (src / "standard_sudoku" / "sample_1" / "question.txt").unlink()
    (src / "standard_sudoku" / "sample_1" / "question.txt").symlink_to(secret / "question.txt")
    (src / "game24_dataset" / "24_4_number.csv").write_bytes(b"x" * 2048)  # "huge" under a lowered bound
    monkeypatch.setattr(published, "MAX_READ_BYTES", 1024)
    only = ["symbench/game24", "symbench/standard_sudoku"]
    read = read_published(str(src), only=only)
    assert read.entries == []
    text = "\n".join(str(e) for e in read.errors)
    assert "a link that leads out of the published folder" in text and "larger than 1024 bytes" in text
    assert all("secret" not in e["question"] for e in read.entries)
    with pytest.raises(HubInputError, match="no entry could be converted"):
        convert_published(str(src), resolve_target(tmp_path / "out", None), only=only)
    assert not (tmp_path / "out").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["secret", "src"]


@pytest.mark.parametrize(
    ("card", "expected"),
    [
        (None, {"license": "unknown"}),
        ("# no front matter", {"license": "unknown"}),
        ("---\nlicense: [unclosed\n---\n", {"license": "unknown"}),  # malformed YAML
        ("---\n- a list\n---\n", {"license": "unknown"}),
        ("---\nlicense:\n- MIT\n---\n", {"license": "mit"}),
        ("---\nlicense: 'apache-2.0\n\n## injected heading'\n---\n", {"license": "unknown"}),
        (
            "---\nlicense: other\nlicense_name: paper-license\nlicense_link: javascript:alert(1)\n---\n",
            {"license": "other", "license_name": "paper-license"},
        ),  # fmt: skip
    ],
)
def test_source_license_is_carried_over_only_when_well_formed(card, expected):
    from model_cards.published_card import source_license

    assert source_license(card).metadata() == expected


@needs_external
def test_an_existing_local_path_wins_over_a_repo_id_of_the_same_spelling(tmp_path, monkeypatch):
    from dataset_builders.published import read_published

    _published_copy(tmp_path / "paper" / "R1-CI-Data")
    monkeypatch.chdir(tmp_path)
    read = read_published("paper/R1-CI-Data", only=["symbench/game24"])  # offline: a Hub read would fail
    assert read.repo_id is None and read.entries and not read.errors
    assert read.read_paths == ["game24_dataset"]
