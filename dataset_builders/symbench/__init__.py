"""SymBench: 33 symbolic, planning and arithmetic tasks with seeded generators and rule-based verifiers.

Every module of this package that defines `TASKS` contributes its tasks.
"""

from __future__ import annotations

import importlib
import pkgutil

TASKS = []
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    TASKS.extend(getattr(_module, "TASKS", ()))
