"""The layout and import direction fixed in DESIGN.md: data and imports flow one way."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"code_interpreter", "dataset_builders", "hub_tools", "trainers", "model_cards", "spaces_demo"}
ALLOWED = {
    "code_interpreter": set(),
    "hub_tools": {"code_interpreter"},
    "dataset_builders": {"code_interpreter", "hub_tools", "model_cards"},  # dataset cards
    "model_cards": {"code_interpreter", "hub_tools"},
    "spaces_demo": {"code_interpreter", "dataset_builders", "hub_tools"},
    "trainers": PACKAGES - {"trainers", "spaces_demo"},
}
# The `evaluate` metric is a standalone script that `evaluate.load` copies and imports on its own
# (not part of the model_cards package); it wraps the tasks' verifiers.
EXCEPTIONS = {"model_cards/metric/metric.py": {"dataset_builders"}}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & PACKAGES


def test_layout_matches_design():
    for package in PACKAGES:
        assert (ROOT / package / "__init__.py").is_file(), package
    for folder in ("recipes", "benchmarks", "tests"):
        assert (ROOT / folder).is_dir(), folder


def test_imports_flow_one_way():
    violations = []
    for package, allowed in ALLOWED.items():
        for path in (ROOT / package).rglob("*.py"):
            rel = str(path.relative_to(ROOT))
            bad = imported_packages(path) - allowed - {package} - EXCEPTIONS.get(rel, set())
            if bad:
                violations.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not violations, violations


def test_detector_sees_nested_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from trainers.tiny_model import build_tiny_model\n    import hub_tools.x\n")
    assert imported_packages(probe) == {"trainers", "hub_tools"}
