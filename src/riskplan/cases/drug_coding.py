"""Coding a reported drug with WHODrug: the processor confirms a product for the name as reported.

The reporter's words stay as reported (E2B(R3) G.k.2.2 "medicinal product name as reported by the primary
source"). Coding adds the WHODrug identifiers and the product's active ingredients:

* G.k.2.1.1a/b: the version (the WHODrug release) and the identifier: the C3 Medicinal Product ID, or, with
  a B3 release (which has no MPID), the B3 drug code (drug record number + seq 1 + seq 2). WHODrug's MPID is
  UMC's, not yet an ISO IDMP MPID; no code-system OID is claimed for it;
* G.k.2.3.r.1: one substance per active ingredient of the product, as WHODrug names it.

Like hand coding of reactions (:mod:`riskplan.cases.hand_coding`) the choice is stored as a new version of
the case with the same content and that drug coded, and an audit row says who coded which drug from what to
which product, when and why (21 CFR 11.10(e)). The date of most recent information (C.1.5) is unchanged: no
new information, the reporting clock is not restarted (GVP VI.C.6.2.2.7).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from riskplan.cases.intake import intake, intake_context
from riskplan.cases.model import CodedValue, Drug, Substance
from riskplan.cases.reads import lock_case
from riskplan.cases.store import ENTITY, StoredCase, StoreOutcome, get_case, resolve_case_id
from riskplan.errors import UserInputError
from riskplan.store import audit_row, insert_audit_rows, utcnow
from riskplan.terms import (
    WHODRUG_VERSION_PREFIX,
    DrugSuggestion,
    WhodrugDrug,
    current_whodrug,
    get_whodrug_drug,
    suggest_drugs,
)

__all__ = ["DrugCoded", "DrugNotFound", "code_drug", "drug_suggestions"]


class DrugNotFound(UserInputError):
    """The identifier is no product of the loaded WHODrug release; carries the closest names."""

    def __init__(self, message: str, suggestions: list[DrugSuggestion]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


@dataclass(frozen=True)
class DrugCoded:
    outcome: StoreOutcome
    seq: int
    reported_name: str
    old: str
    drug: WhodrugDrug


def _reported(drug: Drug) -> str:
    return drug.name or ", ".join(s.name for s in drug.substances if s.name) or "(no name reported)"


def _describe_coding(drug: Drug) -> str:
    if drug.product_id is None:
        return "not coded"
    return f"WHODrug {drug.product_id.version or ''} {drug.product_id.code}".replace("  ", " ")


def _drug_of(session: Session, ref: str, seq: int) -> tuple[StoredCase, Drug]:
    case = get_case(session, ref)
    drugs = case.icsr.drugs
    if not 1 <= seq <= len(drugs):
        raise UserInputError(
            f"case {case.case_number} has no drug {seq}: its drugs are numbered 1 to {len(drugs)} "
            f"(see `riskplan case show {case.case_number}`)"
        )
    return case, drugs[seq - 1]


def drug_suggestions(session: Session, ref: str, seq: int) -> tuple[str, list[DrugSuggestion]]:
    """The name as reported of drug ``seq`` of case ``ref`` and the closest WHODrug products (nothing stored)."""
    if current_whodrug(session) is None:
        raise UserInputError(
            "no WHODrug release is loaded: load yours with `riskplan terms load-whodrug DIR --version V`"
        )
    _, drug = _drug_of(session, ref, seq)
    name = _reported(drug)
    return name, suggest_drugs(session, drug.name or name)


def code_drug(
    session: Session, ref: str, seq: int, *, whodrug_id: str, who: str, reason: str | None = None
) -> DrugCoded:
    """Code drug ``seq`` (1-based, as ``case show`` numbers them) of the latest version of case ``ref`` to the
    WHODrug product ``whodrug_id`` (a C3 MPID or a B3 drug code); a new case version, audited.

    :class:`DrugNotFound` (with the closest names) when the identifier is not in the loaded release;
    UserInputError when the drug does not exist or no release is loaded. Nothing is stored then.
    """
    release = current_whodrug(session)
    if release is None:
        raise UserInputError(
            "no WHODrug release is loaded: load yours with `riskplan terms load-whodrug DIR --version V`"
        )
    lock_case(session, resolve_case_id(session, ref))
    case, drug = _drug_of(session, ref, seq)
    coded = get_whodrug_drug(session, whodrug_id, release.version)
    if coded is None:
        raise DrugNotFound(
            f"{whodrug_id!r} is no drug code or Medicinal Product ID of WHODrug {release.version}",
            suggestions=suggest_drugs(session, drug.name or "", release=release.version),
        )
    identifier = coded.mpid or coded.drug_code
    update = {
        # G.k.2.1.1a/b: the WHODrug release and identifier; G.k.2.3.r.1: the active ingredients
        "product_id": CodedValue(code=identifier, version=f"{WHODRUG_VERSION_PREFIX}{coded.release}"),
        "substances": tuple(Substance(name=name) for name in coded.ingredients),
    }
    new_drug = drug.model_copy(update=update)
    icsr = case.icsr
    drugs = icsr.drugs
    new_icsr = icsr.model_copy(update={"drugs": (*drugs[: seq - 1], new_drug, *drugs[seq:])})
    why = reason or "coded with WHODrug"
    context = intake_context(session, case.plan_name, who)
    [outcome] = intake(session, [new_icsr], context=context, who=who, reason=f"drug {seq} coded: {why}")
    old = _describe_coding(drug)
    if outcome.status != "unchanged":
        insert_audit_rows(
            session,
            [
                audit_row(
                    who=who,
                    entity_type=ENTITY,
                    entity_id=case.worldwide_id,
                    action="drug coded",
                    at=utcnow(),
                    field=f"drug {seq} ({_reported(drug)})",
                    old=old,
                    new=f"{coded.drug_name} (WHODrug {coded.release} {identifier}; ingredients: "
                    f"{', '.join(coded.ingredients) or 'none'})",
                    reason=why,
                )
            ],
        )
    return DrugCoded(outcome, seq, _reported(drug), old, coded)
