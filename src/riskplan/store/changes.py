"""Field-level differences between two JSON-like documents, for diffs and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any


def field_changes(old: Any, new: Any, path: str = "") -> list[FieldChange]:
    """Leaf-level differences: dicts by key, lists of objects of equal length by index, other values whole."""
    if old == new:  # equal documents or subtrees have no different leaf: skip the walk (most of a follow-up)
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[FieldChange] = []
        for key in list(old) + [k for k in new if k not in old]:
            sub = f"{path}.{key}" if path else str(key)
            changes.extend(field_changes(old.get(key), new.get(key), sub))
        return changes
    if (
        isinstance(old, list)
        and isinstance(new, list)
        and len(old) == len(new)
        and all(isinstance(x, dict) for x in [*old, *new])
    ):
        return [c for i, (a, b) in enumerate(zip(old, new, strict=True)) for c in field_changes(a, b, f"{path}.{i}")]
    if old == new:
        return []
    return [FieldChange(path, old, new)]
