"""The multi-stage curriculum by improvement potential (R1-CI, section on curriculum learning).

Each training question gets a pass rate p (from N sampled answers of the SFT model, see
`trainers.curriculum_estimate`) and a potential 4·p·(1−p): 1 for a question solved half the time,
0 for one always or never solved. Questions are sorted from high to low potential and cut into K
groups of equal size (sizes differ by at most one; ties keep dataset order); stage k trains on
groups 1..k for S steps, and the last stage runs until training ends.

`CurriculumSampler` stands in for TRL's `RepeatSampler`: it yields the same structure (each prompt
`num_generations` times in a row, each generation batch repeated for `num_iterations ×
steps_per_generation` micro-steps) but draws the prompts of each generation batch from the current
stage's pool. The order is a pure function of the seed and the batch number, so a resumed run that
skips the batches it already trained on sees exactly the prompts it would have seen. With online
re-estimation, the pool of each new stage is cut again from potentials updated with the rewards the
rollouts earned so far; `state_dict` / `load_state_dict` carry those through checkpoints.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from code_interpreter.errors import InputError

#: File holding the sampler's online state inside a checkpoint folder.
STATE_FILE = "curriculum_state.json"


def pass_rate(scores: Sequence[float]) -> float:
    """Mean verifier score of a question's sampled answers (scores are clipped to [0, 1])."""
    if not scores:
        raise ValueError("pass_rate needs at least one score")
    return sum(min(1.0, max(0.0, float(s))) for s in scores) / len(scores)


def potential(p: float) -> float:
    """Improvement potential 4·p·(1−p) of a question with pass rate p: 1 at p = 0.5, 0 at 0 and 1."""
    if not 0.0 <= p <= 1.0 or p != p:
        raise ValueError(f"a pass rate lies in [0, 1], got {p}")
    # Rounded so that p and 1 - p, which float arithmetic puts a few ulps apart, tie exactly (and keep
    # dataset order when sorted).
    return round(4.0 * p * (1.0 - p), 12)


def order_by_potential(potentials: Sequence[float]) -> list[int]:
    """Row indices from high to low potential; equal potentials keep dataset order (a stable sort)."""
    return sorted(range(len(potentials)), key=lambda i: -potentials[i])


def split_groups(order: Sequence[int], num_groups: int) -> list[list[int]]:
    """`order` cut into `num_groups` consecutive groups whose sizes differ by at most one (larger first)."""
    if num_groups < 1:
        raise ValueError(f"num_groups must be at least 1, got {num_groups}")
    if len(order) < num_groups:
        raise ValueError(f"cannot cut {len(order)} questions into {num_groups} non-empty groups")
    size, extra = divmod(len(order), num_groups)
    groups, pos = [], 0
    for k in range(num_groups):
        n = size + (1 if k < extra else 0)
        groups.append(list(order[pos : pos + n]))
        pos += n
    return groups


def stage_groups(potentials: Sequence[float], num_stages: int) -> list[list[int]]:
    """Groups 1..K of row indices, from the highest potential to the lowest."""
    return split_groups(order_by_potential(potentials), num_stages)


def stage_at(step: int, steps_per_stage: int, num_stages: int) -> int:
    """The stage (1-based) that global step `step` (0-based) trains in; the last stage never ends."""
    if steps_per_stage < 1:
        raise ValueError(f"steps_per_stage must be at least 1, got {steps_per_stage}")
    return min(num_stages, step // steps_per_stage + 1)


def stage_pool(groups: Sequence[Sequence[int]], stage: int) -> list[int]:
    """Row indices stage `stage` trains on: groups 1..stage."""
    if not 1 <= stage <= len(groups):
        raise ValueError(f"stage must be in 1..{len(groups)}, got {stage}")
    return [i for g in groups[:stage] for i in g]


def updated_potentials(potentials: Sequence[float], observed: dict[int, Sequence[float]]) -> list[float]:
    """Potentials with each observed row's estimate replaced by the one its rollout rewards give."""
    return [potential(pass_rate(observed[i])) if observed.get(i) else p for i, p in enumerate(potentials)]


class CurriculumSampler:
    """A `torch.utils.data.Sampler` of dataset row indices for GRPOTrainer (see the module docstring).

    `batch_size` unique prompts per generation batch, each repeated `mini_repeat_count`
    (num_generations) times; every generation batch repeated `repeat_count` times; a generation
    batch covers `steps_per_batch` optimizer steps; `total_steps` bounds the run.
    """

    def __init__(
        self,
        potentials: Sequence[float],
        *,
        num_stages: int,
        steps_per_stage: int,
        mini_repeat_count: int,
        batch_size: int,
        repeat_count: int,
        steps_per_batch: float,
        total_steps: int,
        seed: int = 0,
        reestimate: bool = False,
    ) -> None:
        if steps_per_batch <= 0 or total_steps < 1 or batch_size < 1:
            raise ValueError("steps_per_batch, total_steps and batch_size must be positive")
        self.potentials = [float(p) for p in potentials]
        self.num_stages, self.steps_per_stage = num_stages, steps_per_stage
        self.mini_repeat_count, self.batch_size, self.repeat_count = mini_repeat_count, batch_size, repeat_count
        self.steps_per_batch, self.total_steps, self.seed = steps_per_batch, total_steps, seed
        self.reestimate = reestimate
        groups = stage_groups(self.potentials, num_stages)
        if len(groups[0]) < batch_size:
            raise InputError(
                f"stage 1 holds {len(groups[0])} questions but a generation batch needs {batch_size} distinct "
                f"ones: use fewer stages or a smaller batch"
            )
        #: groups used from each stage on (stage -> groups); stage 1's come from the estimates.
        self.groups_at: dict[int, list[list[int]]] = {1: groups}
        self.observed: dict[int, list[float]] = {}

    @property
    def num_batches(self) -> int:
        return math.ceil(self.total_steps / self.steps_per_batch)

    def __len__(self) -> int:
        return self.num_batches * self.batch_size * self.mini_repeat_count * self.repeat_count

    def stage_of_batch(self, batch: int) -> int:
        return stage_at(int(batch * self.steps_per_batch), self.steps_per_stage, self.num_stages)

    def stage_of_step(self, step: int) -> int:
        return stage_at(step, self.steps_per_stage, self.num_stages)

    def observe(self, index: int, score: float) -> None:
        """Record a rollout's reward for row `index` (used by online re-estimation)."""
        if self.reestimate:
            self.observed.setdefault(index, []).append(float(score))

    def groups_for(self, stage: int) -> list[list[int]]:
        """The groups stage `stage` uses; with re-estimation, cut from updated potentials the first time
        the stage is reached (and kept thereafter, also through checkpoints)."""
        if stage not in self.groups_at:
            previous = self.groups_for(stage - 1)
            if self.reestimate and self.observed:
                self.groups_at[stage] = stage_groups(
                    updated_potentials(self.potentials, self.observed), self.num_stages
                )
            else:
                self.groups_at[stage] = previous
        return self.groups_at[stage]

    def prompts_of_batch(self, batch: int) -> list[int]:
        """The distinct row indices of generation batch `batch`: consecutive slices of seeded permutations
        of its stage's pool, so each stage walks its pool without repeats before reshuffling."""
        import torch

        stage = self.stage_of_batch(batch)
        pool = stage_pool(self.groups_for(stage), stage)
        first = next(b for b in range(batch + 1) if self.stage_of_batch(b) == stage)
        start = (batch - first) * self.batch_size
        out: list[int] = []
        while len(out) < self.batch_size:
            epoch, offset = divmod(start + len(out), len(pool))
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + stage * 10_007 + epoch)
            perm = torch.randperm(len(pool), generator=g).tolist()
            out += [pool[j] for j in perm[offset : offset + self.batch_size - len(out)]]
        return out

    def __iter__(self) -> Iterator[int]:
        for batch in range(self.num_batches):
            prompts = self.prompts_of_batch(batch)
            for _ in range(self.repeat_count):
                for index in prompts:
                    yield from [index] * self.mini_repeat_count

    def state_dict(self) -> dict[str, Any]:
        return {
            "groups_at": {str(k): v for k, v in self.groups_at.items()},
            "observed": {str(k): v for k, v in self.observed.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.groups_at = {int(k): v for k, v in state["groups_at"].items()}
        self.observed = {int(k): list(v) for k, v in state["observed"].items()}

    def save(self, folder: str | Path) -> None:
        (Path(folder) / STATE_FILE).write_text(json.dumps(self.state_dict()))

    def load(self, folder: str | Path) -> bool:
        path = Path(folder) / STATE_FILE
        if not path.is_file():
            return False
        self.load_state_dict(json.loads(path.read_text()))
        return True
