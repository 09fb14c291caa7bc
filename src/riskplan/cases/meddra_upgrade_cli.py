"""``riskplan terms upgrade --to VERSION --preview | --apply --reason TEXT``: bring stored cases to a new
MedDRA release (:mod:`riskplan.cases.meddra_upgrade`). The front end (``riskplan/cli.py``) adds it to the
``terms`` group: the recoding works on cases, which sit above terms."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from riskplan.cases.meddra_upgrade import UpgradePreview, apply_upgrade, preview_upgrade
from riskplan.cli_support import console, current_user
from riskplan.errors import UserInputError
from riskplan.store import audited_transaction, database, session_scope, user_errors

__all__ = ["terms_upgrade_command"]


class UpgradeFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def preview_json(preview: UpgradePreview, applied: int | None = None) -> dict[str, Any]:
    """The preview as plain data (``--format json``)."""
    return {
        "to": preview.to,
        "coded_with": preview.coded_with,
        "releases": [
            {
                "from": c.old,
                "llts": [
                    {
                        "llt_code": x.llt_code,
                        "llt_name": x.llt_name,
                        "old_pt": x.old_pt,
                        "new_pt": x.new_pt,
                        "made_non_current": x.made_non_current,
                    }
                    for x in c.llts
                ],
                "pts_moved": [
                    {
                        "pt_code": p.pt_code,
                        "pt_name": p.pt_name,
                        "old_hlts": list(p.old_hlts),
                        "new_hlts": list(p.new_hlts),
                        "old_primary_soc": p.old_primary_soc,
                        "new_primary_soc": p.new_primary_soc,
                    }
                    for p in c.pts
                ],
                "smqs_changed": [
                    {
                        "smq_code": s.smq_code,
                        "smq_name": s.smq_name,
                        "added": list(s.added),
                        "removed": list(s.removed),
                        "changed": list(s.changed),
                    }
                    for s in c.smqs
                ],
            }
            for c in preview.changes
        ],
        "concerns_changed": {
            plan: [
                {"concern": c.concern_id, "added_pts": list(c.added_pts), "removed_pts": list(c.removed_pts)}
                for c in cs
            ]
            for plan, cs in preview.concerns.items()
        },
        "case_versions_affected": preview.affected_count,
        **({"new_case_versions": applied} if applied is not None else {}),
    }


def _print_preview(preview: UpgradePreview) -> None:
    if not preview.coded_with:
        console.print(f"No stored case is coded with a MedDRA release other than {preview.to}: nothing to upgrade.")
        return
    for c in preview.changes:
        table = Table(title=f"MedDRA {c.old} → {c.new}: what changes for stored coding")
        table.add_column("change")
        table.add_column("term")
        table.add_column("detail")
        for x in c.llts:
            kind = "LLT made non-current" if x.made_non_current else "LLT moved"
            detail = f"PT {x.old_pt} → {x.new_pt}" if x.new_pt != x.old_pt else f"stays under PT {x.old_pt}"
            table.add_row(kind, f"{x.llt_name} ({x.llt_code})", detail)
        for p in c.pts:
            parts = []
            if p.old_hlts != p.new_hlts:
                parts.append(f"HLT {', '.join(map(str, p.old_hlts))} → {', '.join(map(str, p.new_hlts)) or '-'}")
            if p.old_primary_soc != p.new_primary_soc:
                parts.append(f"primary SOC {p.old_primary_soc} → {p.new_primary_soc}")
            table.add_row("PT moved", f"{p.pt_name} ({p.pt_code})", "; ".join(parts))
        for s in c.smqs:
            parts = [
                f"{label} {', '.join(map(str, codes))}"
                for label, codes in (("added", s.added), ("removed", s.removed), ("scope/category changed", s.changed))
                if codes
            ]
            table.add_row("SMQ content changed", f"{s.smq_name} ({s.smq_code})", "; ".join(parts))
        console.print(table)
    for plan, changes in preview.concerns.items():
        for cc in changes:
            console.print(
                f"plan {plan}: concern {cc.concern_id} changes: PTs added {list(cc.added_pts)}, "
                f"removed {list(cc.removed_pts)}"
            )
    coded = ", ".join(f"{n:,} coded with MedDRA {v}" for v, n in preview.coded_with.items()) or "none"
    console.print(
        f"case versions affected: {preview.affected_count:,} (latest versions: {coded}); "
        "each would be recoded as a new case version"
    )


@user_errors
def terms_upgrade_command(
    to: Annotated[str, typer.Option("--to", help="The MedDRA release to recode stored cases to (loaded), e.g. 28.0")],
    preview: Annotated[bool, typer.Option("--preview", help="List what changes; change nothing")] = False,
    apply: Annotated[bool, typer.Option("--apply", help="Recode every affected case as a new case version")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (audit trail); needed with --apply")] = None,
    fmt: Annotated[UpgradeFormat, typer.Option("--format", help="table or json")] = UpgradeFormat.TABLE,
) -> None:
    """What a new MedDRA release changes for stored cases (--preview), and the recoding (--apply): LLTs made
    non-current, PTs moved, SMQ content changed, concerns whose definitions change, case versions affected."""
    if preview == apply:
        raise UserInputError("give exactly one of --preview and --apply")
    engine = database()
    if preview:
        with session_scope(engine) as session:
            found = preview_upgrade(session, to)
        if fmt is UpgradeFormat.JSON:
            typer.echo(json.dumps(preview_json(found), indent=2))
        else:
            _print_preview(found)
        return
    if reason is None or not reason.strip():
        raise UserInputError('--apply needs --reason "...": the recoding is recorded in the audit trail with it')
    who = current_user()
    bar_console = Console(stderr=True)
    with Progress(
        TextColumn("recoding cases"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=bar_console,
        transient=True,
        disable=not bar_console.is_terminal,
    ) as bar:
        task = bar.add_task("recoding", total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        with audited_transaction(engine) as session:
            done = apply_upgrade(session, to, who=who, reason=reason, progress=report)
    if fmt is UpgradeFormat.JSON:
        typer.echo(json.dumps(preview_json(done.preview, done.new_versions), indent=2))
        return
    _print_preview(done.preview)
    console.print(
        f"{done.new_versions:,} case version(s) recorded, recoded to MedDRA {done.preview.to}; "
        f"each is in the audit trail as 'MedDRA recoded' by {who}"
    )
