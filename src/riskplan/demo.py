"""The main job on the embedded default, as a pipeline of steps: ``riskplan demo`` / ``make demo``.

Each step takes the shared :class:`DemoContext`, does its part (sources → store → analyses →
reports) and records what it wrote. Later capabilities add their step to :data:`STEPS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine

from riskplan.plan.catalogue import load_plan
from riskplan.plan.model import RiskManagementPlan
from riskplan.plan.render import ExportFormat, render_plan
from riskplan.plan.versions import record_plan
from riskplan.settings import Settings
from riskplan.store.db import session_scope


@dataclass
class DemoContext:
    settings: Settings
    engine: Engine
    console: Console
    plan: RiskManagementPlan | None = None
    outputs: list[tuple[str, Path]] = field(default_factory=list)

    @property
    def out_dir(self) -> Path:
        return self.settings.output_dir

    def wrote(self, label: str, path: Path) -> None:
        self.outputs.append((label, path.resolve()))


def step_plan(ctx: DemoContext) -> None:
    """Load the bundled plan, store it as a version, and render it to HTML, Markdown and JSON."""
    plan = load_plan(ctx.settings.default_plan)
    with session_scope(ctx.engine) as session:
        version, created = record_plan(
            session, plan, who=ctx.settings.user, source=f"bundled plan {plan.name}", reason="demo"
        )
    state = "stored as new version" if created else "unchanged, version"
    ctx.console.print(
        f"plan {plan.name}: {len(plan.safety_concerns)} safety concerns, {len(plan.studies)} studies; "
        f"{state} {version.version}"
    )
    folder = ctx.out_dir / "plan"
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in ExportFormat:
        path = folder / f"{plan.name}.{fmt.value}"
        path.write_text(render_plan(plan, fmt), encoding="utf-8")
        ctx.wrote(f"plan ({fmt.value})", path)
    ctx.plan = plan


Step = Callable[[DemoContext], None]
STEPS: list[tuple[str, Step]] = [
    ("plan", step_plan),
]


def run_demo(ctx: DemoContext, steps: list[tuple[str, Step]] | None = None) -> list[tuple[str, Path]]:
    for name, step in steps or STEPS:
        ctx.console.rule(f"[bold]{name}")
        step(ctx)
    return ctx.outputs
