"""``riskplan case narrative RP... [--draft | --edit FILE --reason ... | --show | --history]`` (ICH E2B(R3) H.1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from riskplan.cases.narratives import (
    current_narrative,
    draft_case_narratives,
    edit_case_narrative,
    narrative_languages,
    narrative_revisions,
)
from riskplan.cases.store import resolve_case_id
from riskplan.cli_support import console, current_user
from riskplan.errors import UserInputError
from riskplan.store import database, session_scope, user_errors, write_transaction


def _read(path: Path) -> str:
    if str(path) == "-":
        return typer.get_text_stream("stdin").read()
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserInputError(f"--edit {path}: no such file") from None
    except IsADirectoryError:
        raise UserInputError(f"--edit {path}: is a folder, not a text file") from None
    except UnicodeDecodeError as exc:
        raise UserInputError(f"--edit {path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise UserInputError(f"--edit {path}: cannot be read ({exc.strerror})") from None


@user_errors
def narrative(
    case: Annotated[str, typer.Argument(help="Case number (RP0000042) or worldwide id")],
    draft: Annotated[
        bool, typer.Option("--draft", help="Draft it from the case data, or append the follow-up paragraph")
    ] = False,
    edit: Annotated[
        Path | None, typer.Option("--edit", help="UTF-8 text file with the edited narrative ('-': standard input)")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why it is edited (audit trail)")] = None,
    language: Annotated[
        str | None, typer.Option("--language", "-l", help="en or de (default: every language of the plan)")
    ] = None,
    history: Annotated[bool, typer.Option("--history", help="Every revision, oldest first")] = False,
    output: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """The case narrative (H.1): draft it from the structured data, edit it (audited), show it.

    A follow-up never rewrites the narrative: --draft appends a dated paragraph with the new version's facts.
    """
    if sum((draft, edit is not None, history)) > 1:
        raise UserInputError("give one of --draft, --edit FILE or --history (none: show the narrative)")
    if output not in ("text", "json"):
        raise UserInputError(f"--format {output!r}: give text or json")
    if edit is not None and not reason:
        raise UserInputError("--edit needs --reason: say why the narrative is edited (audit trail)")
    if reason is not None and edit is None:
        raise UserInputError("--reason goes with --edit FILE")
    engine = database()
    with session_scope(engine) as session:
        resolve_case_id(session, case)  # an unknown case: exit 2 before anything else
        languages = (language,) if language else narrative_languages(session, case)
    who = current_user()
    if draft:
        added = write_transaction(
            engine, lambda s: draft_case_narratives(s, case, languages=languages, who=who), what="the narrative"
        )
        for rev in added:
            console.print(
                f"{rev.case_number} narrative ({rev.language}) revision {rev.revision}: {rev.kind} "
                f"(case version {rev.case_version})",
                markup=False,
            )
        if not added:
            console.print(
                f"{case}: the narrative already covers the latest case version: nothing changed", markup=False
            )
        return
    if edit is not None:
        text = _read(edit)
        lang = language or "en"
        done = write_transaction(
            engine,
            lambda s: edit_case_narrative(s, case, text, language=lang, who=who, reason=reason or ""),
            what="the narrative",
        )
        if done is None:
            console.print(f"{case}: the narrative ({lang}) is already this text: nothing changed", markup=False)
        else:
            console.print(f"{done.case_number} narrative ({lang}) revision {done.revision}: edited", markup=False)
        return
    with session_scope(engine) as session:
        if history:
            revisions = narrative_revisions(session, case, language)
        else:
            revisions = [r for lang in languages if (r := current_narrative(session, case, lang)) is not None]
    if output == "json":
        typer.echo(
            json.dumps(
                [
                    {
                        "case": r.case_number,
                        "language": r.language,
                        "revision": r.revision,
                        "case_version": r.case_version,
                        "kind": r.kind,
                        "recorded_at": r.recorded_at.isoformat(),
                        "recorded_by": r.recorded_by,
                        "reason": r.reason,
                        "text": r.text,
                    }
                    for r in revisions
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if not revisions:
        console.print(f"{case}: no narrative yet: `riskplan case narrative {case} --draft` drafts one", markup=False)
        return
    for r in revisions:
        console.print(
            f"--- narrative ({r.language}) revision {r.revision}, {r.kind} by {r.recorded_by} "
            f"{r.recorded_at:%Y-%m-%d %H:%M}, case version {r.case_version}",
            markup=False,
        )
        console.print(r.text, markup=False, soft_wrap=True)
