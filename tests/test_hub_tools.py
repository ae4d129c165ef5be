"""hub_tools: repo ids, the local dataset layout, and round trips through the real huggingface_hub and
datasets clients against the local Hub server in tests/hub_server.py."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from datasets import Dataset, load_dataset

from hub_tools.dataset_folder import split_front_matter, write_dataset_folder
from hub_tools.errors import HubInputError, HubUnavailable
from hub_tools.naming import check_repo_id, default_repo_id
from hub_tools.publish import _retrying, resolve_target
from tests.hub_server import HubServer

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TOKEN = "hf_test_secret_token_do_not_leak_1234567890"


def _configs() -> dict:
    rows = [{"task": "a", "id": f"a-{i}", "question": f"q{i}", "answer": str(i), "metadata": "{}"} for i in range(5)]
    return {
        "alpha": {"train": Dataset.from_list(rows)},
        "beta": {"train": Dataset.from_list(rows[:2]), "test": Dataset.from_list(rows[2:])},
    }


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".cache" not in p.parts
    }


@pytest.mark.parametrize("good", ["org/R1-CI-tasks", "user/a", "u_1/x.y-z"])
def test_good_repo_ids(good):
    assert check_repo_id(good) == good


@pytest.mark.parametrize(
    "bad",
    ["noslash", "a/b/c", "org/-x", "org/a--b", "org/a..b", "org/" + "x" * 97, "", "or g/x", "org/name\n", "org/x.git"],
)
def test_bad_repo_ids_say_what_is_expected(bad):
    with pytest.raises(HubInputError, match="expected '<user or org>/<name>'"):
        check_repo_id(bad)


def test_default_repo_ids(monkeypatch):
    monkeypatch.setenv("R1CI_HUB_ORG", "my-org")
    assert default_repo_id("tasks") == "my-org/R1-CI-tasks"
    assert default_repo_id("traces") == "my-org/R1-CI-SFT-traces"
    assert default_repo_id("model", size="7B") == "my-org/R1-CI-7B"
    monkeypatch.delenv("R1CI_HUB_ORG")
    with pytest.raises(HubInputError, match="R1CI_HUB_ORG"):
        default_repo_id("tasks")


def test_target_needs_a_destination(tmp_path):
    with pytest.raises(HubInputError, match="--output-dir"):
        resolve_target(None, None)
    target = resolve_target(None, "org/R1-CI-tasks")
    assert target.folder == Path("outputs/hub/datasets/org/R1-CI-tasks") and target.repo_id == "org/R1-CI-tasks"
    assert not target.pushes  # HF_HUB_OFFLINE=1 in tests: the build stays in the folder


def test_local_folder_layout_loads_like_the_hub_and_is_reproducible(tmp_path):
    folder = write_dataset_folder(
        tmp_path / "ds", _configs(), "---\nlicense: mit\n---\n# Card\n", default_config="alpha"
    )
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "alpha/train-00000-of-00001.parquet",
        "beta/test-00000-of-00001.parquet",
        "beta/train-00000-of-00001.parquet",
    ]
    meta, body = split_front_matter((folder / "README.md").read_text())
    assert meta["license"] == "mit" and body.startswith("# Card")
    info = {i["config_name"]: i for i in meta["dataset_info"]}
    assert info["beta"]["splits"] == [
        {"name": "train", "num_bytes": info["beta"]["splits"][0]["num_bytes"], "num_examples": 2},
        {"name": "test", "num_bytes": info["beta"]["splits"][1]["num_bytes"], "num_examples": 3},
    ]
    assert meta["configs"][0].pop("description").startswith("parquet shards sha256 ")
    assert meta["configs"][0] == {
        "config_name": "alpha",
        "default": True,
        "data_files": [{"split": "train", "path": "alpha/train-*"}],
    }
    beta = load_dataset(str(folder), "beta")
    assert list(beta["test"]["id"]) == ["a-2", "a-3", "a-4"] and beta["train"].num_rows == 2
    first = _digest(folder)
    write_dataset_folder(tmp_path / "ds", _configs(), "---\nlicense: mit\n---\n# Card\n", default_config="alpha")
    assert _digest(folder) == first  # same data, same bytes: a re-push makes no commit


def test_rebuilt_or_same_named_folders_never_load_stale_rows(tmp_path):
    def rows(n: int) -> dict:
        return {"default": {"train": Dataset.from_list([{"x": i} for i in range(n)])}}

    write_dataset_folder(tmp_path / "a" / "out", rows(4), "# c\n")
    assert load_dataset(str(tmp_path / "a" / "out"), split="train").num_rows == 4
    write_dataset_folder(tmp_path / "b" / "out", rows(8), "# c\n")  # same name, same card: datasets hashed only these
    assert load_dataset(str(tmp_path / "b" / "out"), split="train").num_rows == 8
    write_dataset_folder(tmp_path / "a" / "out", rows(6), "# c\n")  # rebuilt in place
    assert load_dataset(str(tmp_path / "a" / "out"), split="train").num_rows == 6

    def answers(values: list[str]) -> dict:
        return {"default": {"train": Dataset.from_list([{"answer": v} for v in values])}}

    # same rows and bytes per split: a fixed answer of the same length, then another order
    for values in (["12", "40", "7"], ["13", "40", "7"], ["7", "40", "13"]):
        write_dataset_folder(tmp_path / "a" / "out", answers(values), "# c\n")
        assert list(load_dataset(str(tmp_path / "a" / "out"), split="train")["answer"]) == values


def test_sharding_by_size(tmp_path):
    folder = write_dataset_folder(tmp_path / "ds", _configs(), "# c\n", max_shard_bytes=1)  # one row per shard
    shards = sorted(p.name for p in (folder / "alpha").iterdir())
    assert len(shards) == 5 and shards[0] == "train-00000-of-00005.parquet"
    assert list(load_dataset(str(folder), "alpha", split="train")["id"]) == [f"a-{i}" for i in range(5)]


def test_folder_that_holds_something_else_is_refused_and_kept(tmp_path):
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(HubInputError, match=r"holds notes.txt"):
        write_dataset_folder(folder, _configs(), "# c\n")
    assert (folder / "notes.txt").read_text() == "mine"
    for bad in ("a/b", "alpha\n"):  # '$' would have let a trailing newline through
        with pytest.raises(HubInputError, match="no '/'"):
            write_dataset_folder(tmp_path / "other", {bad: _configs()["alpha"]}, "# c\n")
    with pytest.raises(HubInputError, match="plain file name"):
        write_dataset_folder(tmp_path / "other", _configs(), "# c\n", images={"plot.png\n": b"x"})
    assert not (tmp_path / "other").exists() and not list(tmp_path.glob(".other.*"))  # nothing half-written


# --- round trips against the local Hub server --------------------------------------------------------

_CLIENT = r"""
import json, sys
from pathlib import Path
from datasets import load_dataset
from huggingface_hub import HfApi
from hub_tools.publish import commit_message, push_folder, pull
args = json.loads(sys.argv[1])
out = {}
api = HfApi()
summary, description = commit_message("Build tasks", seed=0)
r1 = push_folder(args["dataset"], "org/R1-CI-tasks", summary=summary, description=description, tag="build-1")
out["first"] = [r1.commit, r1.new_commit]
out["configs"] = {c: list(load_dataset("org/R1-CI-tasks", c)["train"]["id"]) for c in ("alpha", "beta")}
out["tagged"] = list(load_dataset("org/R1-CI-tasks", "beta", revision="build-1")["test"]["id"])
r2 = push_folder(args["dataset"], "org/R1-CI-tasks", summary="Build tasks", tag="build-1")
out["again"] = [r2.commit, r2.new_commit]
out["commits"] = len(api.list_repo_commits("org/R1-CI-tasks", repo_type="dataset"))
m = push_folder(args["model"], "org/R1-CI-7B", repo_type="model", summary="Checkpoint", branch="step-100", tag="v0.1")
out["model"] = [m.commit, m.new_commit]
out["snapshot"] = str(pull("org/R1-CI-7B", repo_type="model", revision="v0.1", local_dir=args["download"]))
try:
    push_folder(args["model"], "org/R1-CI-tasks", summary="other", tag="build-1", branch="other-branch")
except Exception as exc:
    out["moved_tag"] = f"{type(exc).__name__}: {exc}"
push_folder(args["shrunk"], "org/R1-CI-tasks", summary="Rebuild with fewer rows and configs")
out["shrunk_files"] = sorted(api.list_repo_files("org/R1-CI-tasks", repo_type="dataset"))
out["shrunk_rows"] = list(load_dataset("org/R1-CI-tasks", "alpha", split="train")["id"])
try:  # main has moved on from the tagged commit: refused before any upload
    push_folder(args["model"], "org/R1-CI-tasks", summary="other", tag="build-1")
except Exception as exc:
    out["moved_tag_early"] = f"{type(exc).__name__}: {exc}"
out["main_after"] = sorted(api.list_repo_files("org/R1-CI-tasks", repo_type="dataset"))
print(json.dumps(out))
"""


def _client_env(hub: HubServer, home: Path, token: str | None = TOKEN) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(HF_ENDPOINT=hub.url, HF_HUB_DISABLE_XET="1", HF_HOME=str(home), HF_HUB_OFFLINE="0")
    env.update(HF_DATASETS_OFFLINE="0", HF_HUB_DISABLE_TELEMETRY="1", PYTHONPATH=str(PROJECT_ROOT))
    if token:
        env["HF_TOKEN"] = token
    return env


def _run_client(script: str, args: dict, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", script, json.dumps(args)], env=env, capture_output=True, text=True, timeout=240
    )


def test_round_trip_through_the_real_clients(tmp_path):
    dataset = write_dataset_folder(tmp_path / "ds", _configs(), "---\nlicense: mit\n---\n# Tasks\n")
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "qwen2"}')
    (model / "model.safetensors").write_bytes(os.urandom(4096))
    (model / "sub").mkdir()
    (model / "sub" / "notes.md").write_text("hello")
    # a rebuild with fewer shards and configs: the old build's files must not survive on the Hub
    shrunk = write_dataset_folder(
        tmp_path / "shrunk", {"alpha": {"train": _configs()["alpha"]["train"].select([4])}}, "# Tasks\n"
    )
    with HubServer() as hub:
        hub.state.fail_next(2, 503)  # transient errors are retried
        # ... in snapshot_download too, which wraps them in a LocalEntryNotFoundError
        hub.state.fail_next(2, 503, path="/revision/v0.1")
        hub.state.fail_next(1, 429, path="/revision/v0.1")
        proc = _run_client(
            _CLIENT,
            {"dataset": str(dataset), "model": str(model), "download": str(tmp_path / "dl"), "shrunk": str(shrunk)},
            _client_env(hub, tmp_path / "home"),
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert hub.state.failures == []  # every injected failure was met and retried
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        repo = hub.state.repos[("dataset", "org/R1-CI-tasks")]
        stored = b"".join(f.data for c in repo.commits.values() for f in c.files.values())
        messages = " ".join(c.title + c.message for r in hub.state.repos.values() for c in r.commits.values())
    assert out["first"][1] is True and out["configs"]["alpha"] == [f"a-{i}" for i in range(5)]
    assert out["configs"]["beta"] == ["a-0", "a-1"] and out["tagged"] == ["a-2", "a-3", "a-4"]
    assert out["again"] == [out["first"][0], False] and out["commits"] == 2  # initial + one build; re-push: none
    assert repo.tags["build-1"] == out["first"][0]
    assert "tags are never moved" in out["moved_tag"] and "but not tagged" in out["moved_tag"]
    assert "nothing was pushed" in out["moved_tag_early"] and out["main_after"] == out["shrunk_files"]
    assert out["shrunk_files"] == [".gitattributes", "README.md", "alpha/train-00000-of-00001.parquet"]
    assert out["shrunk_rows"] == ["a-4"]
    downloaded = _digest(Path(out["snapshot"]))
    assert downloaded.pop(".gitattributes") and downloaded == _digest(model)  # byte-identical (+ the Hub's own file)
    assert "seed: 0" in messages and "source_revision" in messages
    assert TOKEN.encode() not in stored and TOKEN not in messages and TOKEN not in proc.stdout + proc.stderr


def test_missing_token_and_no_permission_are_one_sentence(tmp_path):
    dataset = write_dataset_folder(tmp_path / "ds", _configs(), "# c\n")
    script = r"""
import json, sys
from hub_tools.errors import HubInputError, HubUnavailable
from hub_tools.publish import push_folder
try:
    push_folder(json.loads(sys.argv[1])["dataset"], "org/R1-CI-tasks", summary="x")
except HubInputError as exc:
    print(str(exc))
"""
    private = script.replace('summary="x")', 'summary="x", private=True)')
    with HubServer() as hub:
        no_token = _run_client(script, {"dataset": str(dataset)}, _client_env(hub, tmp_path / "h1", token=None))
        hub.state.fail_next(10, 403)
        denied = _run_client(script, {"dataset": str(dataset)}, _client_env(hub, tmp_path / "h2"))
        hub.state.failures.clear()
        hub.state.new_repo("dataset", "org/R1-CI-tasks", private=False)
        public = _run_client(private, {"dataset": str(dataset)}, _client_env(hub, tmp_path / "h3"))
        commits = len(hub.state.repos[("dataset", "org/R1-CI-tasks")].commits)
    assert "org/R1-CI-tasks already exists and is public" in public.stdout, public.stderr[-2000:]
    assert commits == 1  # nothing was uploaded to the public repo
    assert "no Hugging Face token to push org/R1-CI-tasks: set HF_TOKEN" in no_token.stdout, no_token.stderr[-2000:]
    assert "no permission for org/R1-CI-tasks (HTTP 403)" in denied.stdout, denied.stderr[-2000:]


_SLOW_WRITER = r"""
import sys, time
from datasets import Dataset
from hub_tools.dataset_folder import write_dataset_folder
real = Dataset.to_parquet
def slow(self, path, **kw):
    real(self, path, **kw)
    print("writing", flush=True)
    time.sleep(60)
Dataset.to_parquet = slow
write_dataset_folder(sys.argv[1], {"default": {"train": Dataset.from_list([{"x": 2}])}}, "# c\n")
"""


def test_a_write_killed_midway_keeps_the_old_folder_and_its_leftovers_go_next_time(tmp_path):
    folder = write_dataset_folder(tmp_path / "ds", _configs(), "# c\n")
    before = _digest(folder)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, str(folder)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "writing"
    finally:
        proc.kill()
        proc.wait()
    assert _digest(folder) == before  # the old build is intact
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".ds.")]
    assert leftovers == [leftovers[0]] and leftovers[0].startswith(f".ds.tmp-{proc.pid}-")
    live = tmp_path / f".ds.tmp-{os.getppid()}-0123abcd"  # a write of a process that still runs: kept
    live.mkdir()
    write_dataset_folder(folder, _configs(), "# c\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "ds"]


def test_symlinked_current_and_permissions(tmp_path, monkeypatch):
    target = write_dataset_folder(tmp_path / "target", _configs(), "# old\n")
    (tmp_path / "link").symlink_to(target)
    write_dataset_folder(tmp_path / "link", _configs(), "# new\n")
    assert (tmp_path / "link").is_symlink() and (target / "README.md").read_text().endswith("# new\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "target"]  # no stray sibling
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's 0700
    monkeypatch.chdir(target)
    for here in (".", "..", str(tmp_path)):
        with pytest.raises(HubInputError, match="is the current folder or holds it"):
            write_dataset_folder(here, _configs(), "# c\n")


def test_a_hub_that_keeps_failing_is_one_sentence_after_the_retries(monkeypatch):
    import httpx

    monkeypatch.setattr("hub_tools.publish.time.sleep", lambda s: None)
    calls = []

    def down():
        calls.append(1)
        raise httpx.ConnectError("connection refused")

    with pytest.raises(HubUnavailable, match=r"for org/x after 3 attempts \(ConnectError\).*try again later"):
        _retrying("org/x", 3)(down)
    assert len(calls) == 3

    def broken():
        raise KeyError("a bug")

    with pytest.raises(KeyError):  # not transient: raised as it is, once
        _retrying("org/x", 3)(broken)


def test_provenance_names_only_this_checkout(tmp_path):
    from hub_tools.publish import provenance

    head = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                          text=True).stdout.strip()  # fmt: skip
    assert provenance()["source_revision"].removesuffix("+dirty") == head
    # the package installed into a venv inside someone else's repo: that repo's HEAD is not our revision
    project = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "hub_tools", project / ".venv" / "lib" / "hub_tools")
    git = ["git", "-C", str(project), "-c", "user.name=u", "-c", "user.email=u@x"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "theirs"], check=True)
    env = {**os.environ, "PYTHONPATH": f"{project / '.venv' / 'lib'}{os.pathsep}{PROJECT_ROOT}"}
    code = "from hub_tools.publish import provenance; print(provenance()['source_revision'])"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.strip() == "unknown", out.stderr[-2000:]
