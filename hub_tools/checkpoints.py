"""Model checkpoints from the Hub or a folder, whatever their layout: the paper's released R1-CI
models load by id in `r1ci eval`, the Space and `r1ci release`; `r1ci checkpoint fetch <id>` prints
the folder (for `vllm serve`).

`resolve_checkpoint(model, revision)` returns a local folder that `from_pretrained` reads:

- **Weights** (`config.json` plus `*.safetensors`, or `pytorch_model*.bin` when no safetensors
  exist, at the top level): only those files and the tokenizer's are downloaded
  (`snapshot_download` with the exact file names as `allow_patterns`), so training leftovers in
  the same repo (optimizer states, a DeepSpeed dump beside the weights) are never fetched. fp32
  weights from the Hub load in bf16 (`ResolvedCheckpoint.dtype`): R1-CI-14B is stored in fp32
  (about 59 GB) but was trained in bf16, and bf16 halves the memory. A local folder keeps its
  stored dtype.
- **DeepSpeed dump** (a `latest` file naming a folder such as `global_step159/` with
  `*_model_states.pt` and `*_optim_states.pt`, as the 3B and 7B repos hold): converted once into
  bf16 safetensors under `<HF cache>/r1ci-converted/<repo>/<commit>/` (see
  `hub_tools.deepspeed_dump` for the conversion and its safety). A ZeRO-1/2 dump whose model states
  hold the whole model in bf16 is converted from them alone, without its optimizer shards. Before anything is downloaded it
  says how much disk the download and the output take and stops if the disk lacks it. The output
  is written to a temporary folder and renamed into place, so a killed conversion leaves nothing
  that looks finished, and a second call reuses it (also offline).
- Anything else: one sentence naming the repo, the path and what was expected.

Released checkpoints (`RELEASED`): yongchao98/R1-Code-Interpreter-3B/7B/14B. Their evaluation
defaults (`released_checkpoint(model).protocol`) follow the first version of the paper, with which
they were published (their cards and upload dates, May 2025, predate the paper's v2): at most
5 code calls (protocol "v1") and the paper's answer rule, which reads the last <<<...>>> anywhere
in the transcript, interpreter output included (`answer_source="anywhere"`). `r1ci eval` applies
them when the flags are not given and records the rule used in its results.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from code_interpreter.errors import InputError, MissingInput
from hub_tools.deepspeed_dump import (
    MODEL_STATES_SUFFIX,
    OPTIM_STATES_SUFFIX,
    check_pickles,
    convert_model_states,
    run_conversion,
    whole_model_states,
)
from hub_tools.errors import HubInputError


@dataclass(frozen=True)
class ReleasedCheckpoint:
    repo_id: str
    protocol: Mapping[str, str] = field(default_factory=lambda: {"protocol_version": "v1", "answer_source": "anywhere"})
    """Evaluation defaults matching the protocol the checkpoint was trained and evaluated with."""


RELEASED = {
    c.repo_id.lower(): c
    for c in (
        ReleasedCheckpoint("yongchao98/R1-Code-Interpreter-3B"),  # a DeepSpeed dump (latest: global_step339)
        ReleasedCheckpoint("yongchao98/R1-Code-Interpreter-7B"),  # a DeepSpeed dump (latest: global_step159)
        ReleasedCheckpoint("yongchao98/R1-Code-Interpreter-14B"),  # fp32 safetensors, 12 shards
    )
}

#: Top-level files a model folder needs besides its weights (config, tokenizer, chat template).
SUPPORT_SUFFIXES = (".json", ".txt", ".jinja", ".model", ".tiktoken")
#: What a DeepSpeed tag may look like: one path component (never "..", never a slash).
TAG_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
MARKER = "r1ci_conversion.json"
CONVERTERS = ("deepspeed", "repo-script")
GIB = 1 << 30


def released_checkpoint(model: str) -> ReleasedCheckpoint | None:
    """The released R1-CI checkpoint `model` names (Hub ids are case-insensitive), if any."""
    return RELEASED.get(model.strip().lower())


@dataclass(frozen=True)
class ResolvedCheckpoint:
    source: str
    path: Path
    """A folder `from_pretrained` reads."""
    layout: str
    """"weights" or "deepspeed" (converted)."""
    commit: str | None = None
    dtype: str = "auto"
    """What to pass as `from_pretrained(dtype=...)`: "bfloat16" for fp32 Hub weights, else "auto"."""


@dataclass(frozen=True)
class Layout:
    kind: str
    files: list[str]
    """Files to download: the weights and support files, or the dump's support files and `latest`."""


def support_files(sizes: Mapping[str, int]) -> list[str]:
    """Top-level config, tokenizer and template files (never a weights index, which names weight files)."""
    return sorted(p for p in sizes if "/" not in p and p.endswith(SUPPORT_SUFFIXES) and not p.endswith(".index.json"))


def detect_layout(where: str, sizes: Mapping[str, int]) -> Layout:
    """What a repo or folder holds, from its file list (path -> size); one sentence if nothing usable."""
    top = {p for p in sizes if "/" not in p}
    support = support_files(sizes)
    safetensors = sorted(p for p in top if p.endswith(".safetensors"))
    bins = sorted(p for p in top if re.fullmatch(r"pytorch_model(-\d+-of-\d+)?\.bin", p))
    if "config.json" in top and (safetensors or bins):
        weights = safetensors or bins
        index = "model.safetensors.index.json" if safetensors else "pytorch_model.bin.index.json"
        return Layout("weights", sorted([*support, *weights, *([index] if index in top else [])]))
    if "latest" in top:
        if "config.json" not in top:
            raise InputError(
                f"{where} holds a DeepSpeed dump (`latest`) but no config.json at the top level; expected the "
                "model's config.json (and tokenizer files) beside `latest` to know what the dump's weights belong to"
            )
        check_latest_size(where, sizes)
        return Layout("deepspeed", sorted([*support, "latest"]))
    shown = ", ".join(sorted(top)[:8]) or "no files"
    raise InputError(
        f"{where} holds neither model weights (config.json with *.safetensors or pytorch_model*.bin at the top "
        f"level) nor a DeepSpeed dump (a `latest` file naming a global_step folder of *{MODEL_STATES_SUFFIX} and "
        f"*{OPTIM_STATES_SUFFIX} files); found {shown}"
    )


def check_latest_size(where: str, sizes: Mapping[str, int]) -> None:
    """`latest` holds one short tag: refuse a big one before it is downloaded or read."""
    if sizes.get("latest", 0) > 256:
        raise InputError(f"{where}/latest is {sizes['latest']} bytes; expected one short tag such as global_step159")


def read_tag(where: str, text: str, sizes: Mapping[str, int]) -> tuple[str, list[str]]:
    """The tag `latest` names and the dump files in its folder; one sentence if the tag is not a
    plain folder name (path traversal, several lines) or names a folder the dump lacks."""
    tag = text.strip()
    if not TAG_PATTERN.fullmatch(tag):
        raise InputError(
            f"{where}/latest should name one checkpoint folder such as global_step159, but it reads {tag[:80]!r}"
        )
    files = sorted(p for p in sizes if p.startswith(tag + "/") and p.count("/") == 1)
    models = [p for p in files if p.endswith(MODEL_STATES_SUFFIX)]
    optims = [p for p in files if p.endswith(OPTIM_STATES_SUFFIX)]
    if not models or not optims:
        folders = sorted({p.split("/")[0] + "/" for p in sizes if "/" in p})
        raise InputError(
            f"{where}/latest names {tag}, but {where}/{tag}/ holds no *{MODEL_STATES_SUFFIX} and "
            f"*{OPTIM_STATES_SUFFIX} files (folders: {', '.join(folders[:6]) or 'none'})"
        )
    return tag, models + optims


def _safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of a safetensors file (8-byte length, then JSON); {} if it is not one."""
    try:
        with path.open("rb") as fh:
            size = int.from_bytes(fh.read(8), "little")
            header = json.loads(fh.read(size)) if 0 < size < 100 << 20 else {}
    except (OSError, ValueError):
        return {}
    return (
        {k: v for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)}
        if isinstance(header, dict)
        else {}
    )


def stored_dtype(folder: Path, files: list[str]) -> str | None:
    """The dtype of the first floating tensor of the safetensors files (read from their headers)."""
    for name in (f for f in files if f.endswith(".safetensors")):
        for info in _safetensors_header(folder / name).values():
            if str(info.get("dtype", "")).startswith(("F", "BF")):
                return info["dtype"]
    return None


def placeholder_weights(folder: Path, files: list[str]) -> bool:
    """Whether every tensor in the safetensors files is empty (what a ZeRO-3 run that did not gather
    its weights saves beside its dump)."""
    shapes = [
        info.get("shape") or []
        for name in files
        if name.endswith(".safetensors")
        for info in _safetensors_header(folder / name).values()
    ]
    return bool(shapes) and all(0 in s for s in shapes)


# -- resolving --------------------------------------------------------------------------------------
def resolve_checkpoint(
    model: str,
    revision: str | None = None,
    *,
    converter: str = "deepspeed",
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> ResolvedCheckpoint:
    """A local folder for `model` (a folder or a Hub model id), converting a DeepSpeed dump once.

    `converter`: "deepspeed" (the installed `deepspeed.utils.zero_to_fp32`) or "repo-script" (the
    dump's own zero_to_fp32.py: code from the repo, so only on request).
    """
    if converter not in CONVERTERS:
        raise InputError(f"converter must be one of {', '.join(CONVERTERS)}, got {converter!r}")
    path = Path(model).expanduser()
    if path.is_dir():
        return _resolve_folder(path, converter=converter, progress=progress, log=log)
    if path.exists() or not re.fullmatch(r"[\w.-]+/[\w.-]+", model):
        raise MissingInput(f"model {model!r} does not exist: give a model folder or a Hub model id (owner/name)")
    return _resolve_hub(model, revision, converter=converter, progress=progress, log=log)


def _folder_sizes(folder: Path) -> dict[str, int]:
    """Files at the top and one level down (where weights and a dump's tag folders live), by size."""
    out = {}
    for p in folder.iterdir():
        if p.name.startswith("."):
            continue
        if p.is_file():
            out[p.name] = p.stat().st_size
        elif p.is_dir():
            out.update({f"{p.name}/{q.name}": q.stat().st_size for q in p.iterdir() if q.is_file()})
    return out


def _resolve_folder(folder: Path, *, converter: str, progress: bool, log: Callable[[str], None]) -> ResolvedCheckpoint:
    sizes = _folder_sizes(folder)
    layout = detect_layout(str(folder), sizes)
    if layout.kind == "weights" and not placeholder_weights(folder, layout.files):
        return ResolvedCheckpoint(str(folder), folder, "weights")
    if "latest" not in sizes:
        raise InputError(f"{folder} holds only empty placeholder weights and no DeepSpeed dump to convert")
    check_latest_size(str(folder), sizes)
    tag, dump = read_tag(str(folder), (folder / "latest").read_text("utf-8", errors="replace"), sizes)
    # A re-saved dump (same names and sizes, new bytes) must not reuse the old conversion: mtimes count.
    stamp = sorted((p, sizes[p], (folder / p).stat().st_mtime_ns) for p in dump)
    key = hashlib.sha256(json.dumps([str(folder.resolve()), tag, stamp]).encode()).hexdigest()[:16]
    out = converted_root() / "local" / f"{folder.name}-{key}"
    if not (out / MARKER).is_file():
        clear_stale(out)
        _check_disk(str(folder), out, download=0, output=_bf16_bytes(folder / "config.json"), log=log)
        support = support_files(sizes)
        whole = whole_model_states(tag, dump) if converter == "deepspeed" else None
        done = bool(whole) and _convert(folder, tag, [whole], support, out, str(folder), None, "model-states", progress)
        if not done:
            _convert(folder, tag, dump, support, out, str(folder), None, converter, progress)
    return ResolvedCheckpoint(str(folder), out, "deepspeed", dtype="bfloat16")


def converted_root() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE) / "r1ci-converted"


def _converted_dir(repo_id: str, commit: str) -> Path:
    return converted_root() / ("models--" + repo_id.replace("/", "--")) / commit


def _hub_error(repo_id: str, revision: str | None, exc: Exception) -> InputError:
    from huggingface_hub.errors import (
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{repo_id}@{revision}" if revision else repo_id
    if isinstance(exc, GatedRepoError):
        return HubInputError(f"model {repo_id} is gated: accept its terms on the Hub and log in (hf auth login)")
    if isinstance(exc, RepositoryNotFoundError):
        return MissingInput(f"model {repo_id} does not exist on the Hub (or is private: log in with hf auth login)")
    if isinstance(exc, RevisionNotFoundError):
        return MissingInput(f"model {repo_id} has no revision {revision!r} (a branch, tag or commit)")
    if isinstance(exc, LocalEntryNotFoundError):
        return MissingInput(
            f"model {where} is not in the Hub cache and the Hub cannot be reached (offline?); download it once online"
        )
    return HubInputError(f"could not read model {where} from the Hub ({type(exc).__name__}: {exc})")


def _resolve_hub(
    repo_id: str, revision: str | None, *, converter: str, progress: bool, log: Callable[[str], None]
) -> ResolvedCheckpoint:
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    if constants.is_offline_mode():
        return _resolve_offline(repo_id, revision)
    try:
        info = HfApi().model_info(repo_id, revision=revision, files_metadata=True)
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as exc:
        raise _hub_error(repo_id, revision, exc) from exc
    commit = info.sha or revision or "main"
    sizes = {s.rfilename: int(s.size or 0) for s in info.siblings or []}
    where = f"{repo_id}@{commit[:12]}"
    layout = detect_layout(where, sizes)
    out = _converted_dir(repo_id, commit)
    if layout.kind == "weights":
        missing = sum(sizes[f] for f in layout.files if not _cached(repo_id, commit, f))
        _check_weights_download(where, missing, log=log)
        # By revision name, not commit: the cache then maps the name to the commit for offline runs.
        snapshot = _download(repo_id, revision or "main", layout.files, progress=progress)
        commit = snapshot.name
        if not placeholder_weights(snapshot, layout.files):
            dtype = "bfloat16" if stored_dtype(snapshot, layout.files) == "F32" else "auto"
            return ResolvedCheckpoint(repo_id, snapshot, "weights", commit, dtype)
        if "latest" not in sizes:
            raise InputError(f"{where} holds only empty placeholder weights and no DeepSpeed dump to convert")
    if (out / MARKER).is_file():
        _download(repo_id, revision or "main", ["config.json"], progress=False)  # the name -> commit, for offline
        return ResolvedCheckpoint(repo_id, out, "deepspeed", commit, "bfloat16")
    support = support_files(sizes)
    check_latest_size(where, sizes)
    snapshot = _download(repo_id, revision or "main", [*support, "latest"], progress=False)
    if snapshot.name != commit:  # pushed to since the listing: start over on the new commit
        return _resolve_hub(repo_id, snapshot.name, converter=converter, progress=progress, log=log)
    tag, dump = read_tag(where, (snapshot / "latest").read_text("utf-8", errors="replace"), sizes)
    script = ["zero_to_fp32.py"] if converter == "repo-script" else []
    if script and "zero_to_fp32.py" not in sizes:
        raise InputError(f"{where} ships no zero_to_fp32.py; use converter 'deepspeed'")
    clear_stale(out)
    output = _bf16_bytes(snapshot / "config.json")

    def convert(files: list[str], method: str) -> bool:
        missing = sum(sizes[p] for p in files if not _cached(repo_id, commit, p))
        _check_disk(where, out, download=missing, output=output, log=log, optimizer_shards=method != "model-states")
        snapshot = _download(repo_id, commit, [*support, "latest", *files], progress=progress)
        return _convert(snapshot, tag, [p for p in files if p in dump], support, out, where, commit, method, progress)

    # A ZeRO-1/2 dump may hold the whole model in its model states: then its optimizer shards stay on the Hub.
    whole = whole_model_states(tag, dump) if converter == "deepspeed" else None
    if not (whole and convert([whole], "model-states")):
        convert(dump + script, converter)
    return ResolvedCheckpoint(repo_id, out, "deepspeed", commit, "bfloat16")


def _resolve_offline(repo_id: str, revision: str | None) -> ResolvedCheckpoint:
    """Offline: a conversion or a weights snapshot already in the cache, else one sentence."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        # config.json only: every resolved layout downloaded it, and offline snapshot_download fails
        # when a file matching the patterns (an undownloaded `latest` beside weights) is not cached.
        snapshot = Path(snapshot_download(repo_id, revision=revision, allow_patterns=["config.json"]))
    except (LocalEntryNotFoundError, OSError) as exc:
        raise _hub_error(repo_id, revision, LocalEntryNotFoundError(str(exc))) from exc
    commit = snapshot.name
    out = _converted_dir(repo_id, commit)
    if (out / MARKER).is_file():
        return ResolvedCheckpoint(repo_id, out, "deepspeed", commit, "bfloat16")
    sizes = _folder_sizes(snapshot)
    try:
        layout = detect_layout(f"{repo_id}@{commit[:12]} (cached)", sizes)
    except InputError:
        layout = Layout("none", [])
    if layout.kind != "weights" or not all((snapshot / f).is_file() for f in layout.files):
        raise MissingInput(
            f"model {repo_id} has no downloaded weights or converted dump in the Hub cache and the Hub is offline "
            "(HF_HUB_OFFLINE=1); run once online"
        )
    dtype = "bfloat16" if stored_dtype(snapshot, layout.files) == "F32" else "auto"
    return ResolvedCheckpoint(repo_id, snapshot, "weights", commit, dtype)


def _cached(repo_id: str, commit: str, filename: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo_id, filename, revision=commit), str)


def _download(repo_id: str, commit: str, files: list[str], *, progress: bool) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    # Exact names, not globs: "*.safetensors" would also match files in sub-folders (fnmatch's * crosses "/").
    patterns = [re.sub(r"([*?\[])", r"[\1]", f) for f in files]
    if not progress:
        disable_progress_bars()
    try:
        return Path(snapshot_download(repo_id, revision=commit, allow_patterns=patterns))
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as exc:
        raise _hub_error(repo_id, commit, exc) from exc
    finally:
        if not progress:
            enable_progress_bars()


def _bf16_bytes(config_json: Path) -> int:
    """Bytes of the model's parameters in bf16, counted on a meta-device skeleton built from its config."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    try:
        config = AutoConfig.from_pretrained(str(config_json.parent))
        with torch.device("meta"):
            skeleton = AutoModelForCausalLM.from_config(config)
    except (ValueError, KeyError, OSError) as exc:
        raise InputError(f"{config_json} does not describe a causal LM transformers knows ({exc})") from exc
    return 2 * sum(p.numel() for p in skeleton.parameters())


def _size(n: int) -> str:
    return f"{n / GIB:.1f} GiB" if n >= GIB else f"{n / (1 << 20):.1f} MiB"


def clear_stale(out: Path) -> list[Path]:
    """Remove what killed conversions into `out` left behind (their temporary folders, named after
    their process, which no longer runs); a conversion still running elsewhere keeps its folder."""
    removed = []
    for tmp in out.parent.glob(f".{out.name}.tmp-*") if out.parent.is_dir() else []:
        match = re.fullmatch(rf"\.{re.escape(out.name)}\.tmp-(\d+)-\w+", tmp.name)
        if match and not _running(int(match.group(1))):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _check_weights_download(where: str, missing: int, *, log: Callable[[str], None]) -> None:
    """Say how much a large download takes, and stop before it if the cache's disk lacks the room."""
    from huggingface_hub import constants

    if missing < GIB:
        return
    probe = Path(constants.HF_HUB_CACHE)
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    log(f"{where}: downloading {_size(missing)} of weights into {constants.HF_HUB_CACHE}; {_size(free)} free.")
    if free < missing + (64 << 20):
        raise InputError(
            f"downloading {where} needs about {_size(missing)} free on the disk of {probe}, which has {_size(free)}; "
            "free some space or point HF_HUB_CACHE at a larger disk"
        )


def _check_disk(
    where: str,
    out: Path,
    *,
    download: int,
    output: int,
    log: Callable[[str], None],
    optimizer_shards: bool = True,
) -> None:
    from huggingface_hub import constants

    needed = int((download + output) * 1.05) + (64 << 20)
    probe = out.parent
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    what = (
        "the ZeRO shards, optimizer states included: ZeRO keeps the fp32 weights there"
        if optimizer_shards
        else "the model states, which hold the whole model in ZeRO-1/2"
    )
    fetch = f"downloads {_size(download)} into {constants.HF_HUB_CACHE} ({what}) and " if download else ""
    log(
        f"{where} is a DeepSpeed training dump: converting it once to bf16 safetensors in {out}. This {fetch}writes "
        f"{_size(output)}; {_size(free)} free."
    )
    if free < needed:
        raise InputError(
            f"converting {where} needs about {_size(needed)} free on the disk of {probe}, which has {_size(free)}; "
            "free some space or point HF_HUB_CACHE at a larger disk"
        )


def _convert(
    snapshot: Path,
    tag: str,
    files: list[str],
    support: list[str],
    out: Path,
    where: str,
    commit: str | None,
    method: str,
    progress: bool,
) -> bool:
    """Check the pickles, convert into a temporary sibling of `out`, add the support files, rename.

    `method`: "model-states" (`convert_model_states`; False when the dump needs its optimizer
    shards), "deepspeed" or "repo-script" (`run_conversion`)."""
    check_pickles((snapshot / p for p in files), progress=progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        if method == "model-states":
            if not convert_model_states(snapshot / files[0], tmp, progress=progress):
                return False
        else:
            script = snapshot / "zero_to_fp32.py" if method == "repo-script" else None
            run_conversion(snapshot, tag, tmp, script=script, progress=progress)
        for name in support:
            shutil.copyfile(snapshot / name, tmp / name)
        config = json.loads((tmp / "config.json").read_text())
        for key in ("torch_dtype", "dtype"):
            if key in config or key == "torch_dtype":
                config[key] = "bfloat16"
        (tmp / "config.json").write_text(json.dumps(config, indent=2))
        (tmp / MARKER).write_text(
            json.dumps({"source": where, "commit": commit, "tag": tag, "converter": method, "dtype": "bfloat16"})
        )
        try:
            tmp.rename(out)
        except OSError:
            if not (out / MARKER).is_file():  # another process finishing first is fine; anything else is not
                raise
        return True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- loading ----------------------------------------------------------------------------------------
def load_model_and_tokenizer(
    model: str, revision: str | None = None, *, dtype: str | None = None, progress: bool = True
) -> tuple[Any, Any]:
    """`(model, tokenizer)` for a folder or Hub id in any layout `resolve_checkpoint` accepts, in eval mode."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    resolved = resolve_checkpoint(model, revision, progress=progress)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(resolved.path))
        lm = AutoModelForCausalLM.from_pretrained(str(resolved.path), dtype=dtype or resolved.dtype)
    except (OSError, ValueError) as exc:
        raise MissingInput(f"could not load model {model!r} from {resolved.path}: {exc}") from exc
    lm.eval()
    return lm, tokenizer


# -- command line -----------------------------------------------------------------------------------
def make_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "checkpoint", help="download a model (converting a DeepSpeed dump once) and print its local folder"
    )
    sub = p.add_subparsers(dest="checkpoint_command", required=True)
    f = sub.add_parser(
        "fetch",
        help="print a folder that from_pretrained and `vllm serve` load (e.g. for yongchao98/R1-Code-Interpreter-7B)",
    )
    f.add_argument("model", help="Hub model id or local folder (weights or a DeepSpeed dump)")
    f.add_argument("--revision", help="branch, tag or commit (Hub ids)")
    f.add_argument(
        "--converter",
        choices=CONVERTERS,
        default="deepspeed",
        help="'repo-script' runs the dump's own zero_to_fp32.py (code from the repo: only if you trust it)",
    )
    f.add_argument("--no-progress", action="store_true")
    f.set_defaults(func=main)


def main(args: Any) -> int:
    import sys

    resolved = resolve_checkpoint(
        args.model,
        args.revision,
        converter=args.converter,
        progress=not args.no_progress,
        log=lambda s: print(s, file=sys.stderr),
    )
    released = released_checkpoint(args.model)
    if released:
        defaults = ", ".join(f"{k}={v}" for k, v in released.protocol.items())
        print(f"{released.repo_id} is a released R1-CI checkpoint; r1ci eval defaults: {defaults}", file=sys.stderr)
    print(resolved.path)
    return 0
