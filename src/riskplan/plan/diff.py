"""What changed between two versions of a plan: concerns, measures, studies, product and RSI.

Concerns and studies are matched by their stable ``id``; a changed item lists each changed field by
its path with the old and new value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from riskplan.plan.model import PharmacovigilanceStudy, RiskManagementPlan, SafetyConcern
from riskplan.store import FieldChange, field_changes


@dataclass(frozen=True)
class ItemChange:
    kind: str  # "safety concern" | "study"
    id: str
    title: str
    change: str  # "added" | "removed" | "changed"
    fields: list[FieldChange] = field(default_factory=list)


@dataclass(frozen=True)
class PlanDiff:
    items: list[ItemChange]
    plan_fields: list[FieldChange]

    @property
    def is_empty(self) -> bool:
        return not self.items and not self.plan_fields

    def of_kind(self, kind: str, change: str) -> list[ItemChange]:
        return [i for i in self.items if i.kind == kind and i.change == change]


def _diff_items(
    kind: str,
    old: list[SafetyConcern] | list[PharmacovigilanceStudy],
    new: list[SafetyConcern] | list[PharmacovigilanceStudy],
) -> list[ItemChange]:
    def title(item: SafetyConcern | PharmacovigilanceStudy) -> str:
        return item.title

    old_by_id = {i.id: i for i in old}
    new_by_id = {i.id: i for i in new}
    changes: list[ItemChange] = []
    for item in new:
        before = old_by_id.get(item.id)
        if before is None:
            changes.append(ItemChange(kind, item.id, title(item), "added"))
            continue
        fields = field_changes(before.model_dump(mode="json"), item.model_dump(mode="json"))
        if fields:
            changes.append(ItemChange(kind, item.id, title(item), "changed", fields))
    for item in old:
        if item.id not in new_by_id:
            changes.append(ItemChange(kind, item.id, title(item), "removed"))
    return changes


def diff_plans(old: RiskManagementPlan, new: RiskManagementPlan) -> PlanDiff:
    items = _diff_items("safety concern", old.safety_concerns, new.safety_concerns)
    items += _diff_items("study", old.studies, new.studies)
    old_rest = old.model_dump(mode="json", exclude={"safety_concerns", "studies"})
    new_rest = new.model_dump(mode="json", exclude={"safety_concerns", "studies"})
    old_order = [c.id for c in old.safety_concerns]
    new_order = [c.id for c in new.safety_concerns]
    plan_fields = field_changes(old_rest, new_rest)
    common = [i for i in old_order if i in new_order]
    if common != [i for i in new_order if i in old_order]:
        plan_fields.append(FieldChange("safety_concerns (order)", old_order, new_order))
    return PlanDiff(items=items, plan_fields=plan_fields)
