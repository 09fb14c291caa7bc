"""``riskplan case show``: the case view (:mod:`riskplan.cases.case_view`) in the terminal with rich.

Nothing is cut: every column folds long values onto further lines instead of truncating them, and the
identifiers (case number, worldwide case id) stand in the title line, never in a narrow column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from riskplan.cases.case_view import CaseView, ReactionView

__all__ = ["print_case_view"]


def _table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]], *, no_wrap: Sequence[str] = ()) -> Table:
    table = Table(title=title, title_justify="left", expand=False, show_lines=False)
    for col in columns:
        table.add_column(col, overflow="fold", no_wrap=col in no_wrap)
    for row in rows:
        table.add_row(*row)
    return table


def _s(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _pairs(items: Sequence[tuple[str, object]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for key, value in items:
        if value not in (None, "", []):
            grid.add_row(key, _s(value))
    return grid


def _summary(v: CaseView) -> Panel:
    h = v.header
    valid = "yes" if h.valid else "NO — " + "; ".join(h.invalid_reasons)
    return Panel(
        _pairs(
            [
                ("version", f"{h.version} of {h.latest_version}"),
                (
                    "recorded",
                    f"{h.recorded_at:%Y-%m-%d %H:%M} UTC by {h.recorded_by}" + (f" ({h.reason})" if h.reason else ""),
                ),
                ("sender's report id (C.1.1)", h.sender_report_id),
                ("report type (C.1.3)", h.report_type),
                ("created (C.1.2)", h.created),
                ("first received (C.1.4)", h.first_received),
                ("most recent information (C.1.5)", h.most_recent_info),
                ("nullification (C.1.11)", h.nullification),
                ("valid (ICH E2D)", valid),
                ("serious", h.serious),
                ("day 0 / due (GVP VI.C.3)", f"{h.day_zero or '-'} / {h.due or '-'}"),
                ("plan", h.plan_name),
                (
                    "reporters (C.2)",
                    "; ".join(
                        ", ".join(x for x in (r.qualification, r.country, r.organisation) if x)
                        + (" (primary)" if r.primary else "")
                        for r in v.reporters
                    ),
                ),
                ("sender (C.3)", v.sender),
                ("study (C.5)", v.study),
            ]
        ),
        title=f"[bold]{h.case_number}[/] {h.worldwide_id}"
        + (" [bold]SYNTHETIC case[/] (made by riskplan synth or the demo): not a real report" if h.synthetic else ""),
        title_align="left",
    )


def _patient(v: CaseView) -> RenderableType:
    p = v.patient
    parts: list[RenderableType] = [
        _pairs(
            [
                ("initials (D.1)", p.initials),
                ("age (D.2.2)", p.age),
                ("age group (D.2.3)", p.age_group),
                ("birth date (D.2.1)", p.birth_date),
                ("sex (D.5)", p.sex),
                ("weight kg (D.3)", p.weight_kg),
                ("height cm (D.4)", p.height_cm),
                ("last menstrual period (D.6)", p.last_menstrual_period),
                ("medical history (D.7.2)", p.medical_history_text),
                ("concomitant therapies (D.7.3)", p.concomitant_therapies),
                ("death (D.9)", p.death),
            ]
        )
    ]
    if v.medical_history:
        parts.append(
            _table(
                "Medical history (D.7.1.r)",
                ("term", "start", "end", "continuing", "comments", "family"),
                (
                    (
                        e.term,
                        _s(e.start),
                        _s(e.end),
                        _s(e.continuing),
                        _s(e.comments),
                        "yes" if e.family_history else "",
                    )
                    for e in v.medical_history
                ),
            )
        )
    if v.past_drugs:
        parts.append(
            _table(
                "Past drugs (D.8.r)",
                ("drug", "start", "end", "indication", "reaction"),
                ((_s(d.name), _s(d.start), _s(d.end), _s(d.indication), _s(d.reaction)) for d in v.past_drugs),
            )
        )
    return Panel(Group(*parts), title="Patient (D)", title_align="left")


def _coding(r: ReactionView) -> str:
    llt = ""
    if r.llt or r.llt_code:  # E.i.2.1: the LLT (its name where the release in use knows it)
        named = " ".join(x for x in (r.llt, r.llt_code) if x)
        llt = f"\nLLT {named}" + (f" (MedDRA {r.meddra_version})" if r.meddra_version else "")
    if r.coding_status == "coded":
        return ("coded by hand" if r.coded_by_hand else "coded") + llt
    return r.coding_status + llt


def _reactions(v: CaseView) -> RenderableType:
    table = _table(
        f"Reactions (E.i): {len(v.reactions)}",
        (
            "#",
            "verbatim (E.i.1)",
            "PT",
            "SOC",
            "coding",
            "serious (E.i.3.2)",
            "listedness",
            "start–end",
            "outcome (E.i.7)",
        ),
        (
            (
                str(r.seq),
                r.verbatim,
                (r.pt or "") + (f" {r.pt_code}" if r.pt_code else ""),
                _s(r.soc),
                _coding(r),
                ", ".join(r.seriousness_criteria),
                r.listedness,
                f"{r.start or '?'} – {r.end or '?'}" if r.start or r.end else "",
                _s(r.outcome),
            )
            for r in v.reactions
        ),
        no_wrap=("#",),
    )
    notes = [Text(f"coded with: {t}") for t in sorted({r.terminology for r in v.reactions if r.terminology})]
    for r in v.uncoded:
        offered = ", ".join(
            f"{s.term}{'' if s.term == s.pt_name else ' → ' + s.pt_name} ({s.score:.0f})" for s in r.suggestions
        )
        line = f"reaction {r.seq} {r.verbatim!r} not coded: " + (
            f"suggestions {offered}" if offered else (r.coding_note or "no suggestion")
        )
        notes.append(
            Text(line + f" — code it with `riskplan case code {v.header.case_number} --reaction {r.seq} --pt TERM`")
        )
    return Group(table, *notes)


def _drugs(v: CaseView) -> RenderableType:
    rows = []
    for d in v.drugs:
        dosing = "\n".join(
            "; ".join(
                x
                for x in (
                    x.dose,
                    x.interval,
                    x.route and f"route {x.route}",
                    x.form,
                    (x.start or x.end) and f"{x.start or '?'} – {x.end or '?'}",
                    x.duration and f"for {x.duration}",
                    x.batch and f"lot {x.batch}",
                    x.text,
                )
                if x
            )
            for x in d.dosages
        )
        rows.append(
            (
                str(d.seq),
                _s(d.role),
                _s(d.name),
                "; ".join(d.substances),
                dosing + (f"\ncumulative {d.cumulative_dose}" if d.cumulative_dose else ""),
                "; ".join(d.indications),
                _s(d.action_taken),
                _s(d.additional_info),
            )
        )
    drugs = _table(
        f"Drugs (G.k): {len(v.drugs)}",
        (
            "#",
            "role",
            "product",
            "substances",
            "dose, route, dates (G.k.4)",
            "indication (G.k.7)",
            "action taken (G.k.8)",
            "more (G.k.11)",
        ),
        rows,
        no_wrap=("#",),
    )
    pairs = [(d, r) for d in v.drugs for r in d.relatedness]
    if not pairs:
        return drugs
    matrix = _table(
        f"Drug-reaction assessments (G.k.9.i): {len(pairs)}",
        ("drug", "reaction", "relatedness (source / method: result)", "interval", "rechallenge (G.k.9.i.4)"),
        (
            (
                f"{d.seq} {d.name or ''}".strip(),
                r.reaction,
                "\n".join(r.assessments),
                "; ".join(
                    x
                    for x in (
                        r.time_from_start and f"from start {r.time_from_start}",
                        r.time_from_last_dose and f"from last dose {r.time_from_last_dose}",
                    )
                    if x
                ),
                _s(r.rechallenge),
            )
            for d, r in pairs
        ),
    )
    return Group(drugs, matrix)


def _tests(v: CaseView) -> RenderableType:
    return _table(
        f"Tests and procedures (F.r): {len(v.tests)}",
        ("date", "test", "result", "normal range", "comments"),
        ((_s(t.date), t.name, _s(t.result), _s(t.normal_range), _s(t.comments)) for t in v.tests),
    )


def _narrative(v: CaseView) -> Panel:
    n = v.narrative
    parts: list[RenderableType] = [Text(n.narrative or "— no narrative (H.1) —")]
    for label, value in (
        ("Reporter's comments (H.2)", n.reporter_comments),
        ("Sender's diagnosis (H.3)", "; ".join(n.sender_diagnoses)),
        ("Sender's comments (H.4)", n.sender_comments),
        ("Summary in native language (H.5)", "\n".join(n.summaries)),
    ):
        if value:
            parts.append(Text.assemble((f"\n{label}: ", "bold"), value))
    return Panel(Group(*parts), title="Narrative (H.1)", title_align="left")


def _processing(v: CaseView) -> RenderableType:
    parts: list[RenderableType] = []
    for c in v.concerns:
        parts.append(Text.assemble("safety concern ", (c.concern_id, "bold"), f": {c.reasons}"))
    if not v.concerns:
        parts.append(Text("counted toward no safety concern of the plan"))
    for link in v.links:
        parts.append(Text(f"linked as {link.kind} with {link.other}" + (f": {link.reason}" if link.reason else "")))
    parts.append(_causality(v))
    if v.assessments:
        parts.append(
            _table(
                "Case-level medical assessments (not for one drug-reaction pair)",
                ("version", "causality (WHO-UMC)", "comment", "by", "when (UTC)", "electronic signature", "note"),
                (
                    (
                        f"v{a.version}",
                        a.causality,
                        _s(a.comment),
                        a.assessed_by,
                        f"{a.assessed_at:%Y-%m-%d %H:%M}",
                        a.signed,
                        _s(a.note),
                    )
                    for a in v.assessments
                ),
            )
        )
    parts.append(
        _table(
            "Versions",
            ("v", "recorded (UTC)", "by", "why", "received", "valid", "serious", "due"),
            (
                (
                    str(x.version),
                    f"{x.recorded_at:%Y-%m-%d %H:%M}",
                    x.recorded_by,
                    _s(x.reason),
                    str(x.received),
                    "yes" if x.valid else "NO",
                    "yes" if x.serious else "",
                    _s(x.due),
                )
                for x in v.versions
            ),
            no_wrap=("v",),
        )
    )
    return Group(*parts)


def _causality(v: CaseView) -> RenderableType:
    if not v.causality:
        return Text("causality: no suspect or interacting drug with a reaction (no pair to assess)")
    return _table(
        "Causality per drug × reaction (G.k.9.i.2.r)",
        ("drug", "reaction", "method", "result", "score", "source", "assessor", "date (UTC)", "signature", "note"),
        (
            (
                c.drug,
                c.reaction,
                _s(c.method),
                _s(c.result),
                _s(c.score),
                _s(c.source),
                _s(c.assessor),
                f"{c.assessed_at:%Y-%m-%d %H:%M}" if c.assessed_at else "",
                _s(c.signed),
                "; ".join(x for x in (c.note, c.comment and f"comment: {c.comment}") if x),
            )
            for c in v.causality
        ),
    )


def _audit(v: CaseView) -> RenderableType:
    return _table(
        f"Audit trail: {len(v.audit or [])} entries",
        ("when (UTC)", "who", "action", "field", "old", "new", "why"),
        (
            (f"{e.at:%Y-%m-%d %H:%M:%S}", e.who, e.action, _s(e.field), _s(e.old), _s(e.new), _s(e.reason))
            for e in v.audit or []
        ),
    )


def _submission(v: CaseView) -> Panel:
    s = v.submission
    if s.ready:
        head = Text("complete for E2B(R3) submission: the export's business rules find no error", style="green")
    else:
        head = Text(
            f"missing for E2B(R3) submission ({len(s.missing)}; export refuses the case until done):", style="red"
        )
    lines: list[RenderableType] = [head]
    lines += [Text(f"  {f.element} {f.message} ({f.path})") for f in s.missing]
    if s.advice:
        lines.append(Text(f"advice ({len(s.advice)}):", style="yellow"))
        lines += [Text(f"  {f.element} {f.message} ({f.path})") for f in s.advice]
    return Panel(Group(*lines), title="Submission", title_align="left")


def print_case_view(console: Console, view: CaseView) -> None:
    """Print the whole case: summary, patient, reactions, drugs, tests, narrative, processing, audit.

    Printed with ``soft_wrap=False`` whatever the console's default: text inside panels is then wrapped
    at the terminal's width instead of cropped at the panel's edge."""
    parts: list[RenderableType] = [_summary(view), _patient(view), _reactions(view), _drugs(view)]
    if view.tests:
        parts.append(_tests(view))
    parts += [_narrative(view), _processing(view)]
    if view.audit is not None:
        parts.append(_audit(view))
    parts.append(_submission(view))
    for part in parts:
        console.print(part, soft_wrap=False)
