"""Released checkpoints: weights and DeepSpeed dumps from the Hub (tests/hub_server.py) or a folder,
converted to bf16 and loaded; the paper's evaluation defaults for the released ids; hostile dumps."""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from code_interpreter.errors import InputError
from hub_tools.checkpoints import (
    MARKER,
    detect_layout,
    read_tag,
    released_checkpoint,
    resolve_checkpoint,
)
from tests.conftest import PROJECT_ROOT
from tests.hub_server import HubServer

needs_deepspeed = pytest.mark.skipif(
    importlib.util.find_spec("deepspeed") is None,
    reason="deepspeed is not installed (pip install 'r1ci[deepspeed]'): no DeepSpeed dump can be made or converted",
)

# A real ZeRO run on CPU (one gloo process): one AdamW step, then `save_checkpoint`, for stages 2 and 3.
# The reference is DeepSpeed's own fp32 master copy of every parameter after the step, in bf16.
_SAVE_ZERO = r"""
import json, os, sys
os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=sys.argv[3], RANK="0", WORLD_SIZE="1", LOCAL_RANK="0")
import torch, deepspeed, deepspeed.comm.torch as ds_comm
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM
ds_comm.build_shm_op = lambda: None  # a JIT-compiled shared-memory all-reduce: useless for one process, slow to build
model_dir, out = sys.argv[1], sys.argv[2]
for stage in (2, 3):
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    config = {"train_micro_batch_size_per_gpu": 1, "zero_optimization": {"stage": stage}, "bf16": {"enabled": True},
              "optimizer": {"type": "AdamW", "params": {"lr": 1e-2, "torch_adam": True}}}
    engine, *_ = deepspeed.initialize(model=model, model_parameters=model.parameters(), config=config)
    ids = torch.tensor([[9707, 11, 1879, 0]])
    engine.backward(engine(input_ids=ids, labels=ids).loss)
    engine.step()
    engine.save_checkpoint(f"{out}/zero{stage}")
    reference = {n: deepspeed.utils.safe_get_full_fp32_param(p).to(torch.bfloat16) for n, p in engine.module.named_parameters()}
    save_file(reference, f"{out}/reference{stage}.safetensors")
"""


@pytest.fixture(scope="module")
def zero_dumps(tiny_model_dir, tmp_path_factory) -> dict[int, Path]:
    """Real ZeRO-2 and ZeRO-3 dumps of the tiny model, with its config and tokenizer beside `latest`."""
    if importlib.util.find_spec("deepspeed") is None:
        pytest.skip("deepspeed is not installed (pip install 'r1ci[deepspeed]'): no DeepSpeed dump can be made")
    root = tmp_path_factory.mktemp("zero")
    env = dict(os.environ, DS_ACCELERATOR="cpu", PYTHONPATH=str(PROJECT_ROOT))
    port = str(29500 + os.getpid() % 1000)
    proc = subprocess.run(
        [sys.executable, "-c", _SAVE_ZERO, str(tiny_model_dir), str(root), port],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for stage in (2, 3):
        for f in tiny_model_dir.iterdir():
            if f.suffix in (".json", ".jinja"):
                shutil.copy(f, root / f"zero{stage}" / f.name)
    return {2: root / "zero2", 3: root / "zero3"}


@pytest.fixture
def hf_cache(tmp_path, monkeypatch) -> Path:
    from huggingface_hub import constants

    cache = tmp_path / "hub-cache"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    return cache


def _weights(folder: Path) -> dict:
    from safetensors.torch import load_file

    out = {}
    for f in sorted(folder.glob("*.safetensors")):
        out.update(load_file(f))
    return out


# -- DeepSpeed dumps ----------------------------------------------------------------------------------
@needs_deepspeed
def test_zero_dumps_convert_to_bf16_once_and_load(zero_dumps, hf_cache, tmp_path, monkeypatch):
    import torch
    from safetensors.torch import load_file, save_file

    from hub_tools import checkpoints

    # ZeRO-3 runs that do not gather their weights save empty placeholders beside the dump: the dump wins.
    save_file({"model.embed_tokens.weight": torch.empty(0)}, str(zero_dumps[3] / "model.safetensors"))
    said: list[str] = []
    paths = {}
    for stage, dump in zero_dumps.items():
        resolved = resolve_checkpoint(str(dump), progress=False, log=said.append)
        paths[stage] = resolved.path
        assert resolved.layout == "deepspeed" and resolved.dtype == "bfloat16"
        assert resolved.path.parent.parent == hf_cache / "r1ci-converted"
        converted = _weights(resolved.path)
        reference = load_file(str(dump.parent / f"reference{stage}.safetensors"))
        assert "lm_head.weight" not in converted  # tied to the embeddings: stored once, tied back on load
        assert set(converted) == set(reference) - {"lm_head.weight"}
        assert all(torch.equal(converted[n], reference[n]) for n in converted)
        assert json.loads((resolved.path / "config.json").read_text())["torch_dtype"] == "bfloat16"
        # ZeRO-2 keeps the whole bf16 model in its model states; ZeRO-3 needs the optimizer shards.
        method = json.loads((resolved.path / MARKER).read_text())["converter"]
        assert method == {2: "model-states", 3: "deepspeed"}[stage]
        assert not list(resolved.path.parent.glob(".*tmp-*"))  # the temporary folder was renamed
    assert "DeepSpeed training dump" in said[0] and "writes" in said[0] and "free" in said[0]

    # Once converted, the folder is reused: no second conversion.
    monkeypatch.setattr(checkpoints, "_convert", lambda *a, **k: pytest.fail("converted twice"))
    again = resolve_checkpoint(str(zero_dumps[2]), progress=False, log=said.append)
    lm, _ = checkpoints.load_model_and_tokenizer(str(zero_dumps[2]), progress=False)
    assert again.path == paths[2] != paths[3] and lm.dtype == torch.bfloat16
    assert torch.equal(lm.get_input_embeddings().weight, lm.get_output_embeddings().weight)


@needs_deepspeed
def test_the_dumps_own_script_converts_only_on_request(zero_dumps, hf_cache, tmp_path):
    import torch

    copy = shutil.copytree(zero_dumps[2], tmp_path / "dump")
    by_script = resolve_checkpoint(str(copy), converter="repo-script", progress=False, log=lambda s: None)
    by_module = resolve_checkpoint(str(zero_dumps[2]), progress=False, log=lambda s: None)
    a, b = _weights(by_script.path), _weights(by_module.path)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((by_script.path / MARKER).read_text())["converter"] == "repo-script"
    with pytest.raises(InputError, match="converter must be one of"):
        resolve_checkpoint(str(copy), converter="exec")


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@needs_deepspeed
def test_a_pickle_that_runs_code_is_refused_before_and_during_loading(zero_dumps, hf_cache, tmp_path):
    import torch

    from hub_tools.deepspeed_dump import run_conversion

    marker = tmp_path / "pwned"
    dump = shutil.copytree(zero_dumps[3], tmp_path / "hostile")
    state = dump / "global_step1" / "zero_pp_rank_0_mp_rank_00_model_states.pt"
    payload = torch.load(state, weights_only=False)
    payload["client_state"] = _Exploit(marker)
    torch.save(payload, state)
    with pytest.raises(InputError, match=r"zero_pp_rank_0_mp_rank_00_model_states\.pt would call .*system"):
        resolve_checkpoint(str(dump), progress=False, log=lambda s: None)
    # Past the scan (called directly), the conversion still unpickles weights-only: the call never happens.
    with pytest.raises(InputError, match=r"global_step1 calls posix\.system outside .*; refused"):
        run_conversion(dump, "global_step1", tmp_path / "out", progress=False)
    assert not marker.exists() and not list(hf_cache.rglob(MARKER))

    # A legacy (non-zip) pickle cannot be checked before loading: refused as well.
    torch.save({"module": {}}, state, _use_new_zipfile_serialization=False)
    with pytest.raises(InputError, match="not a zip-format torch checkpoint"):
        resolve_checkpoint(str(dump), progress=False, log=lambda s: None)


def test_latest_must_name_one_folder_of_the_dump():
    sizes = {"config.json": 2, "latest": 14, "global_step1/mp_rank_00_model_states.pt": 9}
    sizes["global_step1/zero_pp_rank_0_mp_rank_00_optim_states.pt"] = 9
    assert read_tag("org/m", "global_step1\n", sizes)[0] == "global_step1"
    for text, said in [
        ("../../../etc", "should name one checkpoint folder"),
        ("/etc/passwd", "should name one checkpoint folder"),
        ("global_step1/../../x", "should name one checkpoint folder"),
        ("global_step1\nglobal_step2", "should name one checkpoint folder"),
        ("", "should name one checkpoint folder"),
        ("global_step999", r"org/m/latest names global_step999, but org/m/global_step999/ holds no"),
    ]:
        with pytest.raises(InputError, match=said):
            read_tag("org/m", text, sizes)
    with pytest.raises(InputError, match="expected one short tag"):
        detect_layout("org/m", {**sizes, "latest": 10_000})
    with pytest.raises(InputError, match="no config.json at the top level"):
        detect_layout("org/m", {k: v for k, v in sizes.items() if k != "config.json"})


def test_a_folder_whose_latest_points_outside_is_refused_before_anything_runs(tmp_path, hf_cache):
    dump = tmp_path / "dump"
    (dump / "global_step1").mkdir(parents=True)
    (dump / "config.json").write_text("{}")
    (dump / "latest").write_text("../elsewhere")
    (tmp_path / "elsewhere").mkdir()
    for name in ("mp_rank_00_model_states.pt", "zero_pp_rank_0_mp_rank_00_optim_states.pt"):
        (tmp_path / "elsewhere" / name).write_bytes(pickle.dumps({}))
    with pytest.raises(InputError, match=r"dump/latest should name one checkpoint folder .*'\.\./elsewhere'"):
        resolve_checkpoint(str(dump), progress=False)
    (dump / "latest").write_text("global_step7")
    with pytest.raises(InputError, match="latest names global_step7, but .* holds no"):
        resolve_checkpoint(str(dump), progress=False)
    assert not hf_cache.exists()


def test_too_little_disk_stops_before_converting(tiny_model_dir, tmp_path, hf_cache, monkeypatch):
    from collections import namedtuple

    from hub_tools import checkpoints

    dump = tmp_path / "dump"
    (dump / "global_step3").mkdir(parents=True)
    shutil.copy(tiny_model_dir / "config.json", dump / "config.json")
    (dump / "latest").write_text("global_step3")
    for name in ("mp_rank_00_model_states.pt", "zero_pp_rank_0_mp_rank_00_optim_states.pt"):
        (dump / "global_step3" / name).write_bytes(b"x")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(checkpoints.shutil, "disk_usage", lambda p: usage(1 << 30, 1 << 30, 1 << 20))
    monkeypatch.setattr(checkpoints, "_convert", lambda *a, **k: pytest.fail("converted without the disk for it"))
    with pytest.raises(InputError, match=r"needs about \d+\.\d MiB free on the disk of .* which has 1\.0 MiB"):
        resolve_checkpoint(str(dump), progress=False, log=lambda s: None)


def test_neither_weights_nor_dump_is_one_sentence(tmp_path):
    (tmp_path / "README.md").write_text("hi")
    (tmp_path / "optimizer.pt").write_bytes(b"")
    with pytest.raises(InputError, match=r"holds neither model weights .* nor a DeepSpeed dump .* found README\.md"):
        resolve_checkpoint(str(tmp_path))
    with pytest.raises(InputError, match="does not exist: give a model folder or a Hub model id"):
        resolve_checkpoint(str(tmp_path / "missing" / "deeper"))


# -- the Hub ------------------------------------------------------------------------------------------
def _client(hub: HubServer, home: Path, script: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(HF_ENDPOINT=hub.url, HF_HUB_DISABLE_XET="1", HF_HOME=str(home), HF_HUB_OFFLINE="0")
    env.update(HF_HUB_DISABLE_TELEMETRY="1", PYTHONPATH=str(PROJECT_ROOT), PYTHONHASHSEED="0", DS_ACCELERATOR="cpu")
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=240, cwd=home.parent
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


_WEIGHTS_CLIENT = r"""
import json, sys
from code_interpreter.errors import InputError
from hub_tools.checkpoints import load_model_and_tokenizer
from r1ci_cli import main
out = {}
lm, tok = load_model_and_tokenizer("yongchao98/R1-Code-Interpreter-14B", progress=False)
out["dtype"] = str(lm.dtype)
for repo in ("org/readme-only", "org/missing"):
    try:
        load_model_and_tokenizer(repo, progress=False)
    except InputError as exc:
        out[repo] = str(exc)
base = ["eval", "--tasks", "symbench/pooling", "--num-questions", "1", "--modes", "text", "--max-new-tokens", "4",
        "--no-progress", "--timeout-s", "5"]
out["rc"] = main(base + ["--model", "yongchao98/R1-Code-Interpreter-14B", "--output-dir", "released"])
out["released"] = json.load(open("released/results.json"))["settings"]
# Offline (and any request would go nowhere), the weights load from the cache, still in bf16.
from huggingface_hub import constants
dead = "http://127.0.0.1:9"
constants.HF_HUB_OFFLINE = True
constants.HUGGINGFACE_CO_URL_TEMPLATE = constants.HUGGINGFACE_CO_URL_TEMPLATE.replace(constants.ENDPOINT, dead)
constants.ENDPOINT = dead
out["offline_dtype"] = str(load_model_and_tokenizer("yongchao98/R1-Code-Interpreter-14B", progress=False)[0].dtype)
try:
    load_model_and_tokenizer("org/never-downloaded", progress=False)
except InputError as exc:
    out["offline_missing"] = str(exc)
print(json.dumps(out))
"""


def test_fp32_weights_from_the_hub_load_as_bf16_and_eval_takes_released_ids(tiny_model_dir, tmp_path):
    weights = {f.name: f.read_bytes() for f in tiny_model_dir.iterdir() if f.is_file()}
    # Training leftovers beside the weights must never be downloaded.
    leftovers = {"global_step1/zero_pp_rank_0_mp_rank_00_optim_states.pt": b"never fetched", "latest": b"global_step1"}
    with HubServer() as hub:
        hub.state.put_files("model", "yongchao98/R1-Code-Interpreter-14B", {**weights, **leftovers})
        hub.state.put_files("model", "org/tiny", weights)
        hub.state.put_files("model", "org/readme-only", {"README.md": b"# nothing here"})
        (tmp_path / "home").mkdir()
        out = _client(hub, tmp_path / "home", _WEIGHTS_CLIENT)
        fetched = {p for m, p in hub.state.requests if "/resolve/" in p}
    assert out["dtype"] == out["offline_dtype"] == "torch.bfloat16"  # stored in fp32
    assert out["offline_missing"].startswith("model org/never-downloaded is not in the Hub cache")
    assert not [p for p in fetched if "global_step" in p or p.endswith("/latest")]
    assert "org/readme-only@" in out["org/readme-only"] and "holds neither model weights" in out["org/readme-only"]
    assert "found .gitattributes, README.md" in out["org/readme-only"]
    assert (
        out["org/missing"] == "model org/missing does not exist on the Hub (or is private: log in with hf auth login)"
    )
    assert out["rc"] == 0
    # The released id evaluates under the paper's protocol unless told otherwise, and the results say which.
    assert (out["released"]["answer_source"], out["released"]["protocol_version"]) == ("anywhere", "v1")
    assert out["released"]["protocol_defaults"] == "released checkpoint yongchao98/R1-Code-Interpreter-14B"


_DUMP_CLIENT = r"""
import json, urllib.request
from huggingface_hub import constants
from hub_tools.checkpoints import load_model_and_tokenizer, resolve_checkpoint
def run(repo):
    r = resolve_checkpoint(repo, progress=False, log=lambda s: None)
    lm, tok = load_model_and_tokenizer(repo, progress=False)
    return {"path": str(r.path), "commit": r.commit, "layout": r.layout, "dtype": str(lm.dtype),
            "files": sorted(p.name for p in r.path.iterdir()), "method": json.load(open(r.path / "r1ci_conversion.json"))["converter"]}
repos = ["yongchao98/R1-Code-Interpreter-3B", "yongchao98/R1-Code-Interpreter-7B"]
online = {repo: run(repo) for repo in repos}
try:
    urllib.request.urlopen(constants.ENDPOINT + "/offline-from-here")
except Exception:
    pass
# Offline now, and any request would go nowhere: the conversion is found through the cached revision.
dead = "http://127.0.0.1:9"
constants.HF_HUB_OFFLINE = True
constants.HUGGINGFACE_CO_URL_TEMPLATE = constants.HUGGINGFACE_CO_URL_TEMPLATE.replace(constants.ENDPOINT, dead)
constants.ENDPOINT = dead
print(json.dumps({"online": online, "offline": {repo: run(repo) for repo in repos}}))
"""


def _dump_files(dump: Path) -> dict[str, bytes]:
    files = {p.relative_to(dump).as_posix(): p.read_bytes() for p in dump.rglob("*") if p.is_file()}
    files = {p: d for p, d in files.items() if not p.endswith(".safetensors")}
    # An older tag's shards and the trainer's RNG states are not needed: never fetched.
    files["global_step0/zero_pp_rank_0_mp_rank_00_optim_states.pt"] = b"stale"
    files["rng_state_0.pth"] = b"rng"
    return files


@needs_deepspeed
def test_dumps_on_the_hub_convert_once_into_the_cache(zero_dumps, tmp_path):
    with HubServer() as hub:
        hub.state.put_files("model", "yongchao98/R1-Code-Interpreter-3B", _dump_files(zero_dumps[3]))
        hub.state.put_files("model", "yongchao98/R1-Code-Interpreter-7B", _dump_files(zero_dumps[2]))
        home = tmp_path / "home"
        home.mkdir()
        both = _client(hub, home, _DUMP_CLIENT)
        paths = [p for m, p in hub.state.requests]
    assert paths[-1] == "/offline-from-here"  # nothing was asked of the Hub offline
    assert both["offline"] == both["online"]  # offline, the conversions are found by the cached revision
    fetched: dict[str, set[str]] = {"3B": set(), "7B": set()}
    for p in paths:
        if "/resolve/" in p:  # /<repo>/resolve/<revision>/<file>
            repo, rest = p.split("/resolve/", 1)
            fetched[repo.rsplit("-", 1)[1]].add(rest.split("/", 1)[1])
    for size, method in (("3B", "deepspeed"), ("7B", "model-states")):
        out = both["online"][f"yongchao98/R1-Code-Interpreter-{size}"]
        assert out["layout"] == "deepspeed" and out["dtype"] == "torch.bfloat16" and out["method"] == method
        folder = f"models--yongchao98--R1-Code-Interpreter-{size}"
        assert Path(out["path"]) == home / "hub" / "r1ci-converted" / folder / out["commit"]
        assert {"model.safetensors", "config.json", "tokenizer.json", MARKER} <= set(out["files"])
        assert not {"global_step0/zero_pp_rank_0_mp_rank_00_optim_states.pt", "rng_state_0.pth"} & fetched[size]
        assert "latest" in fetched[size] and "zero_to_fp32.py" not in fetched[size]
    # ZeRO-3 needs its optimizer shards; the ZeRO-2 dump is converted from its model states alone.
    assert "global_step1/bf16_zero_pp_rank_0_mp_rank_00_optim_states.pt" in fetched["3B"]
    assert not [p for p in fetched["7B"] if p.endswith("_optim_states.pt")]


def test_released_ids_and_their_protocol():
    assert released_checkpoint("YongChao98/r1-code-interpreter-7b").repo_id == "yongchao98/R1-Code-Interpreter-7B"
    assert released_checkpoint("Qwen/Qwen2.5-7B-Instruct") is None
    for size in ("3B", "7B", "14B"):
        assert dict(released_checkpoint(f"yongchao98/R1-Code-Interpreter-{size}").protocol) == {
            "protocol_version": "v1",
            "answer_source": "anywhere",
        }


def test_eval_defaults_follow_the_released_checkpoints_unless_told():
    from trainers.evaluation import EvalConfig

    def rule(**kw):
        c = EvalConfig(**kw)
        return c.answer_source, c.protocol_version, c.protocol_defaults

    released = "yongchao98/R1-Code-Interpreter-3B"
    assert rule(model=released) == ("anywhere", "v1", f"released checkpoint {released}")
    assert rule(model=released, answer_source="model", protocol_version="v2")[:2] == ("model", "v2")
    assert rule(model=released, backend="openai", base_url="http://x/v1")[:2] == ("anywhere", "v1")  # served name
    assert rule(model="Qwen/Qwen2.5-3B-Instruct") == ("model", "v2", "r1ci")
    with pytest.raises(InputError, match="answer_source must be"):
        EvalConfig(model=released, answer_source="everywhere")


def test_without_deepspeed_the_conversion_says_how_to_get_it(tmp_path, monkeypatch):
    from hub_tools import deepspeed_dump

    monkeypatch.setattr(deepspeed_dump, "deepspeed_available", lambda: False)
    with pytest.raises(InputError, match=r"needs deepspeed: pip install 'r1ci\[deepspeed\]'"):
        deepspeed_dump.run_conversion(tmp_path, "global_step1", tmp_path / "out")


def test_a_large_weights_download_is_announced_and_checked_first(monkeypatch):
    from collections import namedtuple

    from huggingface_hub import constants

    from hub_tools import checkpoints

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(checkpoints.shutil, "disk_usage", lambda p: usage(100 << 30, 0, 100 << 30))
    said: list[str] = []
    checkpoints._check_weights_download("yongchao98/R1-Code-Interpreter-14B@9be8076", 59 << 30, log=said.append)
    assert said == [
        f"yongchao98/R1-Code-Interpreter-14B@9be8076: downloading 59.0 GiB of weights into "
        f"{constants.HF_HUB_CACHE}; 100.0 GiB free."
    ]
    monkeypatch.setattr(checkpoints.shutil, "disk_usage", lambda p: usage(100 << 30, 0, 20 << 30))
    with pytest.raises(InputError, match=r"needs about 59\.0 GiB free on the disk of .* which has 20\.0 GiB"):
        checkpoints._check_weights_download("yongchao98/R1-Code-Interpreter-14B@9be8076", 59 << 30, log=said.append)


def test_checkpoint_fetch_prints_a_loadable_folder(tiny_model_dir, tmp_path, capsys):
    from r1ci_cli import main

    assert main(["checkpoint", "fetch", str(tiny_model_dir), "--no-progress"]) == 0
    assert capsys.readouterr().out.strip() == str(tiny_model_dir)
    assert main(["checkpoint", "fetch", str(tmp_path / "nothing" / "here")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("r1ci checkpoint: error: model ") and "does not exist" in err and "\n" not in err


def test_leftovers_of_killed_conversions_are_cleared_but_not_a_running_ones(tmp_path):
    from hub_tools.checkpoints import clear_stale

    out = tmp_path / "converted" / "abc123"
    dead = tmp_path / "converted" / ".abc123.tmp-2147483646-deadbeef"
    alive = tmp_path / "converted" / f".abc123.tmp-{os.getpid()}-cafe"
    other = tmp_path / "converted" / ".abc1234.tmp-2147483646-beef"
    for d in (dead, alive, other):
        (d / "sub").mkdir(parents=True)
    assert clear_stale(out) == [dead]
    assert not dead.exists() and alive.exists() and other.exists()


@needs_deepspeed
def test_fp16_model_states_fall_back_to_the_optimizer_shards(zero_dumps, hf_cache, tmp_path):
    import torch

    from hub_tools.deepspeed_dump import convert_model_states

    dump = shutil.copytree(zero_dumps[2], tmp_path / "fp16")
    states = dump / "global_step1" / "mp_rank_00_model_states.pt"
    saved = torch.load(states, weights_only=True)
    saved["module"] = {k: v.half() for k, v in saved["module"].items()}  # fp16 rounds unlike the bf16 master copy
    torch.save(saved, states)
    assert convert_model_states(states, tmp_path / "unused", progress=False) is False
    assert not (tmp_path / "unused").exists()
    resolved = resolve_checkpoint(str(dump), progress=False, log=lambda s: None)
    assert json.loads((resolved.path / MARKER).read_text())["converter"] == "deepspeed"
    reference = _weights(resolve_checkpoint(str(zero_dumps[2]), progress=False, log=lambda s: None).path)
    converted = _weights(resolved.path)
    assert converted.keys() == reference.keys() and all(torch.equal(converted[k], reference[k]) for k in converted)


@needs_deepspeed
def test_without_deepspeed_only_zero2_model_states_convert(zero_dumps, hf_cache, monkeypatch):
    from hub_tools import deepspeed_dump

    monkeypatch.setattr(deepspeed_dump, "deepspeed_available", lambda: False)
    monkeypatch.setattr(deepspeed_dump, "allowed_globals", lambda: [])  # as if DeepSpeed's classes were not importable
    resolved = resolve_checkpoint(str(zero_dumps[2]), progress=False, log=lambda s: None)
    assert json.loads((resolved.path / MARKER).read_text())["converter"] == "model-states"
    with pytest.raises(InputError, match=r"needs deepspeed: pip install 'r1ci\[deepspeed\]'"):
        resolve_checkpoint(str(zero_dumps[3]), progress=False, log=lambda s: None)


def test_the_space_reads_answers_of_released_checkpoints_the_papers_way():
    from spaces_demo.live_chat import ChatSettings

    assert ChatSettings(model="yongchao98/R1-Code-Interpreter-7B").protocol.answer_source == "anywhere"
    assert ChatSettings(model="Qwen/Qwen2.5-7B-Instruct").protocol.answer_source == "model"


def test_the_space_checks_an_answer_that_a_released_checkpoints_code_printed():
    from dataset_builders import get_task
    from spaces_demo.live_chat import ChatSession, check_answer

    entry = next(iter(get_task("symbench/pooling").generate(1, seed=0)))
    code = f"```python\nprint('<<<{entry['answer']}>>>')\n```"
    inserted = f"\nCode Execution Results: <<<{entry['answer']}>>>\n"
    verdicts = {}
    for rule in ("anywhere", "model"):
        session = ChatSession()
        session.last = {
            "completion": code + inserted,
            "inserted_spans": [[len(code), len(code) + len(inserted)]],
            "answer": entry["answer"],
            "answer_source": rule,
            "entry": entry,
            "key": "t1",
        }
        verdicts[rule] = check_answer(session)[-1]["metadata"]["title"]
    assert verdicts == {"anywhere": "Verdict: correct", "model": "Verdict: wrong"}


@needs_deepspeed
def test_release_loads_a_dump_folder_through_its_conversion(zero_dumps, hf_cache):
    import torch
    from safetensors.torch import load_file

    from trainers.release import load_bf16

    model, tokenizer, base = load_bf16(zero_dumps[3])
    reference = load_file(str(zero_dumps[3].parent / "reference3.safetensors"))
    state = model.state_dict()
    assert model.dtype == torch.bfloat16 and base is None and tokenizer.chat_template
    assert all(torch.equal(state[k], v) for k, v in reference.items())
