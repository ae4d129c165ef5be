"""Task registry, rule-based verifiers, published-data importers and dataset builders."""

from dataset_builders.published import load_published
from dataset_builders.registry import get_task, list_tasks
from dataset_builders.task import Task

__all__ = ["Task", "get_task", "list_tasks", "load_published"]
