"""TRL's GRPOTrainer with the curriculum's sampler in place of its `RepeatSampler`, and a callback that
keeps the sampler's online state in every checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from trl import GRPOTrainer

from trainers.curriculum import CurriculumSampler


class R1CIGRPOTrainer(GRPOTrainer):
    """GRPOTrainer whose training prompts come from `curriculum_sampler` when one is set."""

    def __init__(self, *args: Any, curriculum_sampler: CurriculumSampler | None = None, **kwargs: Any) -> None:
        self.curriculum_sampler = curriculum_sampler
        super().__init__(*args, **kwargs)

    def _get_train_sampler(self, dataset: Any = None) -> Any:
        if self.curriculum_sampler is None:
            return super()._get_train_sampler(dataset)
        return self.curriculum_sampler


class CurriculumStateCallback(TrainerCallback):
    """Writes the sampler's state (re-estimated groups, observed rewards) into each checkpoint folder."""

    def __init__(self, sampler: CurriculumSampler) -> None:
        self.sampler = sampler

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir() and state.is_world_process_zero:
            self.sampler.save(folder)
        return control
