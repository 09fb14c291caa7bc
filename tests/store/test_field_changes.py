"""Field-level differences of a follow-up (what the audit trail records as "changed" rows)."""

from __future__ import annotations

from riskplan.store import FieldChange, field_changes


def test_changed_leaves_only_whatever_subtrees_are_equal() -> None:
    old = {
        "patient": {"sex": "2", "age": {"value": "67", "unit": "a"}},
        "reactions": [{"term": "pneumonia", "outcome": "2"}, {"term": "fever", "outcome": "1"}],
        "drugs": [{"name": "UPLIZNA"}],
        "narrative": "initial",
    }
    new = {
        "patient": {"sex": "2", "age": {"value": "67", "unit": "a"}},
        "reactions": [{"term": "pneumonia", "outcome": "1"}, {"term": "fever", "outcome": "1"}],
        "drugs": [{"name": "UPLIZNA"}, {"name": "aspirin"}],
        "narrative": "follow-up",
        "country": "GB",
    }
    assert field_changes(old, new) == [
        FieldChange("reactions.0.outcome", "2", "1"),
        FieldChange("drugs", [{"name": "UPLIZNA"}], [{"name": "UPLIZNA"}, {"name": "aspirin"}]),
        FieldChange("narrative", "initial", "follow-up"),
        FieldChange("country", None, "GB"),
    ]
    assert field_changes(old, dict(old)) == []
    assert field_changes({"a": float("nan")}, {"a": float("nan")})[0].path == "a"  # NaN is never equal to itself
