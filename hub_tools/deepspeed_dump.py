"""Turn a DeepSpeed ZeRO training dump into bf16 safetensors that `from_pretrained` loads.

A dump is a folder with a `latest` file naming a tag folder (`global_step159/`) that holds
`*_model_states.pt` (parameter names and shapes) and `*_optim_states.pt` (ZeRO partitions of the
fp32 master weights, beside the optimizer's moments: ZeRO-1/2 and ZeRO-3 alike keep the weights
to convert there, so these shards are needed, with one exception below). The conversion itself is
DeepSpeed's own `deepspeed.utils.zero_to_fp32.get_fp32_state_dict_from_zero_checkpoint` (or, when asked, the copy
of that script the dump ships, which matches the DeepSpeed version that wrote it); this module
only adds safety around it and writes bf16 shards one at a time.

ZeRO-1/2 do not partition parameters: their `mp_rank_00_model_states.pt` holds the whole model as
trained, refreshed from the fp32 master weights after every step. When it is in bf16 (or fp32),
`convert_model_states` writes it directly, equal bit for bit to DeepSpeed's conversion rounded to
bf16, and the optimizer shards (about 6x larger with Adam) are never downloaded; nor is DeepSpeed
needed, unless the file pickles DeepSpeed classes.

Safety: `*.pt` files are pickles, and DeepSpeed's converter calls `torch.load(weights_only=False)`,
which would run any code a hostile dump carries. So

1. every `.pt` file is scanned first (`torch.serialization.get_unsafe_globals_in_checkpoint`, a
   static walk of the pickle that loads nothing): a global outside torch's weights-only set and
   `DEEPSPEED_GLOBALS` (inert data classes DeepSpeed pickles: its loss scaler, the ZeRO stage
   enum, fragment addresses) refuses the dump with one sentence naming the file and the global;
   legacy (non-zip) pickles cannot be scanned and are refused too;
2. the conversion runs under `TORCH_FORCE_WEIGHTS_ONLY_LOAD=1` (`forced_weights_only`), which turns
   DeepSpeed's `weights_only=False` into the restricted unpickler, with only `DEEPSPEED_GLOBALS`
   added to its allow-list. A pickle that slipped past the scan still cannot call anything.

The one thing that does run code from the dump is `converter="repo-script"`: the repo's own
`zero_to_fp32.py` is Python from the Hub, so it runs only when the caller asks for it by name
(like transformers' `trust_remote_code`); its `torch.load` calls are still forced weights-only.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from code_interpreter.errors import InputError

#: Classes DeepSpeed pickles into its checkpoints; all are plain data (no side effects on unpickling).
DEEPSPEED_GLOBALS = (
    "deepspeed.runtime.fp16.loss_scaler.LossScaler",
    "deepspeed.runtime.fp16.loss_scaler.DynamicLossScaler",
    "deepspeed.runtime.zero.config.ZeroStageEnum",
    "deepspeed.utils.tensor_fragment.fragment_address",
)
MODEL_STATES_SUFFIX = "_model_states.pt"
#: The only model-states file of a ZeRO-1/2 run without model parallelism: it holds the whole model.
WHOLE_MODEL_STATES = "mp_rank_00_model_states.pt"
OPTIM_STATES_SUFFIX = "_optim_states.pt"
MAX_SHARD_SIZE = "5GB"


def deepspeed_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("deepspeed") is not None


def allowed_globals() -> list[Any]:
    """The `DEEPSPEED_GLOBALS` this DeepSpeed defines (older versions lack some)."""
    out = []
    for dotted in DEEPSPEED_GLOBALS:
        module, _, name = dotted.rpartition(".")
        try:
            out.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return out


def unsafe_globals(path: Path) -> list[str]:
    """Globals in the pickle of `path` that neither torch's weights-only set nor DeepSpeed's inert
    classes cover; raises InputError for a file that is not a zip-format torch checkpoint."""
    import torch

    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    except Exception as exc:  # legacy pickle, torchscript, truncated zip: nothing we can vouch for
        raise InputError(
            f"{path} is not a zip-format torch checkpoint that can be checked before loading ({exc}); refusing to "
            "unpickle it"
        ) from None
    return [g for g in found if g not in DEEPSPEED_GLOBALS]


def check_pickles(paths: Iterable[Path], *, progress: bool = True) -> None:
    """One sentence for the first `.pt` file whose pickle would call something outside the allow-list."""
    from tqdm import tqdm

    for path in tqdm(list(paths), desc="checking pickles", unit="file", disable=not progress):
        bad = unsafe_globals(path)
        if bad:
            raise InputError(
                f"{path} would call {', '.join(sorted(bad)[:3])} when unpickled: a DeepSpeed dump holds only tensors "
                "and DeepSpeed's data classes, so this file is refused (it could run code on this machine)"
            )


@contextmanager
def forced_weights_only() -> Iterator[None]:
    """Every `torch.load` inside, whatever its `weights_only` argument, uses the restricted unpickler
    with DeepSpeed's inert classes allowed (torch reads `TORCH_FORCE_WEIGHTS_ONLY_LOAD` per call)."""
    import torch

    keys = ("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    saved = {k: os.environ.pop(k, None) for k in keys}
    os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = "1"
    try:
        with torch.serialization.safe_globals(allowed_globals()):
            yield
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None)
            if value is not None:
                os.environ[key] = value


def run_conversion(
    checkpoint_dir: Path, tag: str, output_dir: Path, *, script: Path | None = None, progress: bool = True
) -> list[str]:
    """Convert `checkpoint_dir/tag` into bf16 safetensors in `output_dir`, unpickling weights-only
    (see the module docstring); returns the shard names."""
    import inspect
    import pickle

    if not deepspeed_available():
        raise InputError(
            "converting a DeepSpeed dump needs deepspeed: pip install 'r1ci[deepspeed]' (CPU is enough; the dump's "
            "pickles name DeepSpeed classes, so the repo's own zero_to_fp32.py needs it too)"
        )
    os.environ.setdefault("DS_ACCELERATOR", "cpu")  # conversion never needs a GPU; skip DeepSpeed's probing
    try:
        with forced_weights_only(), contextlib.redirect_stdout(sys.stderr if progress else io.StringIO()):
            convert = _converter(script)
            kwargs = {"lazy_mode": True} if "lazy_mode" in inspect.signature(convert).parameters else {}
            state_dict = convert(str(checkpoint_dir), tag=tag, **kwargs)
            return write_bf16_shards(state_dict, output_dir, progress=progress)
    except (ValueError, FileNotFoundError, KeyError, pickle.UnpicklingError, RuntimeError) as exc:
        if isinstance(exc, InputError):
            raise
        if isinstance(exc, pickle.UnpicklingError):
            # torch's message advises weights_only=False, which is exactly what must not happen here.
            named = re.search(r"GLOBAL ([\w.]+)", str(exc))
            raise InputError(
                f"a pickle in the DeepSpeed dump {checkpoint_dir}/{tag} calls "
                f"{named.group(1) if named else 'something'} outside torch's weights-only set and DeepSpeed's data "
                "classes; refused (it could run code on this machine)"
            ) from exc
        # DeepSpeed's own messages name the file and what is wrong with it; keep them, on one line.
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:600]
        raise InputError(f"could not convert the DeepSpeed dump in {checkpoint_dir} ({tag}): {reason}") from exc


def whole_model_states(tag: str, dump: list[str]) -> str | None:
    """The dump's model-states file when it may hold the whole model (ZeRO-1/2, one model-parallel
    rank: `<tag>/mp_rank_00_model_states.pt` alone), else None."""
    models = [p for p in dump if p.endswith(MODEL_STATES_SUFFIX)]
    return models[0] if models == [f"{tag}/{WHOLE_MODEL_STATES}"] else None


def convert_model_states(path: Path, output_dir: Path, *, progress: bool = True) -> bool:
    """Write the weights a ZeRO-1/2 dump keeps in its model states as bf16 safetensors; False (and
    nothing written) when they cannot stand in for the optimizer shards.

    ZeRO-1/2 do not partition parameters, so `module` there is the whole model in the dtype it
    trains in, refreshed from the fp32 master weights after every step. In bf16 it is exactly the
    master weights rounded to bf16 (what the full conversion writes), in fp32 it is the master
    weights: either way the optimizer shards, about 6x larger with Adam, need not be downloaded.
    fp16 weights (rounded differently), ZeRO-3 placeholders or missing parameters return False.
    Needs no DeepSpeed unless the file pickles DeepSpeed classes.
    """
    import pickle

    import torch

    try:
        with forced_weights_only():
            state = torch.load(path, map_location="cpu", mmap=True)
    except (pickle.UnpicklingError, RuntimeError, ValueError) as exc:
        named = re.search(r"GLOBAL ([\w.]+)", str(exc))
        raise InputError(
            f"{path} could not be unpickled weights-only ({named.group(1) if named else type(exc).__name__}); refused"
        ) from exc
    module, groups = state.get("module"), state.get("param_shapes")
    if not isinstance(module, dict) or not isinstance(groups, list):
        return False
    expected = {n: tuple(shape) for group in groups if isinstance(group, dict) for n, shape in group.items()}
    expected.update({n: tuple(shape) for n, shape in (state.get("frozen_param_shapes") or {}).items()})
    for name, shape in expected.items():
        t = module.get(name)
        if not isinstance(t, torch.Tensor) or tuple(t.shape) != shape or t.dtype not in (torch.bfloat16, torch.float32):
            return False
    aliases = set(state.get("shared_params") or {})  # tied weights: stored once, tied back from the config
    keep = [*expected, *(n for n in state.get("buffer_names") or [] if n in module)]
    write_bf16_shards({n: module[n] for n in keep if n not in aliases}, output_dir, progress=progress)
    return True


def _converter(script: Path | None) -> Any:
    if script is None:
        from deepspeed.utils.zero_to_fp32 import get_fp32_state_dict_from_zero_checkpoint

        return get_fp32_state_dict_from_zero_checkpoint
    import runpy

    namespace = runpy.run_path(str(script), run_name="zero_to_fp32_from_repo")
    if "get_fp32_state_dict_from_zero_checkpoint" not in namespace:
        raise InputError(f"{script} defines no get_fp32_state_dict_from_zero_checkpoint: not DeepSpeed's script")
    return namespace["get_fp32_state_dict_from_zero_checkpoint"]


def write_bf16_shards(state_dict: dict[str, Any], output_dir: Path, *, progress: bool = True) -> list[str]:
    """Write `state_dict` (tensors, or DeepSpeed's lazy tensors with `.contiguous()`) as bf16
    safetensors shards, one shard in memory at a time; returns the file names."""
    import torch
    from huggingface_hub import split_torch_state_dict_into_shards
    from safetensors.torch import save_file
    from tqdm import tqdm

    # Tied weights (embeddings and LM head) appear under two names for one tensor; safetensors keeps
    # one copy and transformers ties the other back from the config.
    seen: set[Any] = set()
    unique = {}
    for name, tensor in state_dict.items():
        key = (
            (tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tuple(tensor.shape), tensor.dtype)
            if isinstance(tensor, torch.Tensor) and tensor.device.type != "meta"
            else id(tensor)  # DeepSpeed's lazy tensors: one object per distinct tensor
        )
        if key not in seen:
            seen.add(key)
            unique[name] = tensor

    def out_dtype(t: Any) -> Any:
        return torch.bfloat16 if t.dtype.is_floating_point else t.dtype

    shapes = {n: torch.empty(tuple(t.shape), dtype=out_dtype(t), device="meta") for n, t in unique.items()}
    split = split_torch_state_dict_into_shards(shapes, max_shard_size=MAX_SHARD_SIZE)
    output_dir.mkdir(parents=True, exist_ok=True)
    for filename, names in tqdm(
        split.filename_to_tensors.items(), desc="writing bf16 shards", unit="shard", disable=not progress
    ):
        shard = {}
        for n in names:
            t = unique.pop(n).contiguous()
            shard[n] = t.to(out_dtype(t)).contiguous()
        save_file(shard, str(output_dir / filename), metadata={"format": "pt"})
        del shard
    if split.is_sharded:
        index = {"metadata": split.metadata, "weight_map": split.tensor_to_filename}
        (output_dir / "model.safetensors.index.json").write_text(json.dumps(index, indent=2, sort_keys=True))
    return list(split.filename_to_tensors)
