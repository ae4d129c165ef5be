"""Task registry, rule-based verifiers, published-data importers and dataset builders."""

from dataset_builders.registry import get_task, list_tasks
from dataset_builders.task import Task


def load_published(path, **kwargs):
    """Entries from the paper's published data at `path` (see `dataset_builders.published`)."""
    from dataset_builders.published import load_published as _load

    return _load(path, **kwargs)


__all__ = ["Task", "get_task", "list_tasks", "load_published"]
