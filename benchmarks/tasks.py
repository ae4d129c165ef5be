"""Time generating N entries of every task and verifying their reference answers; print one JSON line.

    python benchmarks/tasks.py [--n 200] [--seed 0] [--slowest 5] [--only PREFIX]

The dataset-backed tasks (bbh/*, symbench/gsm_hard, symbench/math_*) read the local copies in
../shared/external when present (unless their environment variables are already set); a task
whose data cannot be found is listed under "unavailable" instead of failing the run. Anything
the task code prints goes to stderr, so stdout holds only the JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = ROOT.parent / "shared" / "external"
DATA_ENV = {
    "R1CI_BBH_PATH": EXTERNAL / "bbh",
    "R1CI_GSM_HARD_PATH": EXTERNAL / "symbench" / "gsmhardv2.jsonl",
    "R1CI_MATH_PATH": EXTERNAL / "symbench" / "MATH",
}


def _point_at_local_data() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    for name, path in DATA_ENV.items():
        if path.exists():
            os.environ.setdefault(name, str(path))


def run(n: int = 200, seed: int = 0, slowest: int = 5, only: str | None = None) -> dict[str, Any]:
    """Generate and verify `n` entries per task; the measurements as a dict."""
    _point_at_local_data()
    sys.path.insert(0, str(ROOT))
    from dataset_builders import list_tasks
    from dataset_builders.task import TaskDataUnavailable

    start = time.perf_counter()
    tasks = [t for t in list_tasks() if only is None or t.name.startswith(only)]
    import_s = time.perf_counter() - start

    per_task: dict[str, float] = {}
    generate_s = verify_s = 0.0
    entries = 0
    unavailable: list[str] = []
    failed: dict[str, int] = {}
    for task in tasks:
        t0 = time.perf_counter()
        try:
            batch = list(task.generate(n, seed=seed))
        except TaskDataUnavailable:
            unavailable.append(task.name)
            continue
        t1 = time.perf_counter()
        bad = sum(task.score(f"<<<{e['answer']}>>>", e) != 1.0 for e in batch)
        t2 = time.perf_counter()
        generate_s += t1 - t0
        verify_s += t2 - t1
        per_task[task.name] = t2 - t0
        entries += len(batch)
        if bad:
            failed[task.name] = bad
    total_s = time.perf_counter() - start
    ranked = sorted(per_task.items(), key=lambda kv: kv[1], reverse=True)[:slowest]
    return {
        "benchmark": "tasks",
        "n_per_task": n,
        "tasks": len(per_task),
        "entries": entries,
        "total_s": round(total_s, 2),
        "import_s": round(import_s, 2),
        "generate_s": round(generate_s, 2),
        "verify_s": round(verify_s, 2),
        "slowest": [{"task": name, "s": round(s, 2)} for name, s in ranked],
        "unavailable": unavailable,
        "failed_references": failed,
        "cpu_count": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="entries per task")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--slowest", type=int, default=5, help="how many of the slowest tasks to list")
    parser.add_argument("--only", help="only tasks whose name starts with this, e.g. reasoning_gym/")
    args = parser.parse_args(argv)
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
        # Reasoning-Gym's hash-seed notice and generators' prints are not measurements
        warnings.simplefilter("ignore")
        result = run(n=args.n, seed=args.seed, slowest=args.slowest, only=args.only)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
