"""Evaluate a model over the R1-CI tasks on one or many processes:

    accelerate launch trainers/eval.py --config recipes/<...>/eval.yaml [--model ...]
    python trainers/eval.py --model <folder or Hub id> --tasks symbench/pooling --num-questions 5

(Named eval.py, not evaluate.py: a script's folder comes first on sys.path, and a file called
evaluate.py would shadow the `evaluate` library.) Arguments are the fields of
`trainers.evaluation.EvalConfig`, parsed with TRL's `TrlParser` (a YAML `--config` and flags that
override it). Each process takes every world_size-th question of each task and appends its samples
to `samples-<rank>.jsonl`; the main process then writes results.json and the details dataset. A
run that is interrupted resumes in the same output folder. Same as `r1ci eval` on one process.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from accelerate import PartialState
    from trl import TrlParser

    from code_interpreter.errors import InputError
    from trainers.evaluation import (
        EvalConfig,
        prepare_run,
        push_details,
        run_eval,
        summary_lines,
        write_outputs,
    )

    try:
        (config,) = TrlParser((EvalConfig,)).parse_args_and_config(argv)
    except (InputError, ValueError) as exc:  # ValueError: keys in the YAML that EvalConfig does not know
        print(f"trainers/eval.py: error: {exc}", file=sys.stderr)
        return 2
    state = PartialState()
    try:
        if state.is_main_process:  # run.json first: a folder of another model stops every process here
            prepare_run(config)
        state.wait_for_everyone()
        run_eval(config, rank=state.process_index, world_size=state.num_processes, progress=state.is_main_process)
        state.wait_for_everyone()
        if state.is_main_process:
            results = write_outputs(config)
            for line in summary_lines(results):
                print(line)
            if config.push_details:
                print(f"details pushed to {push_details(config).url}")
    except InputError as exc:
        print(f"trainers/eval.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
