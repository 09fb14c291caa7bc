"""The RMP summary parser (riskplan.plan.parser): public summaries (RMP Part VI) as text and PDF."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from riskplan.plan.model import ConcernCategory, RiskManagementPlan, SafetyConcern
from riskplan.plan.parser import SummaryParseError, parse_summary_file, parse_summary_text
from shared_data import missing_shared

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = REPO_ROOT.parent / "shared" / "seeds" / "000_87823eff0a2665f8.txt"
UPLIZNA_YAML = REPO_ROOT / "src" / "riskplan" / "plan" / "plans" / "uplizna.yaml"
SUMMARIES = Path(__file__).resolve().parents[1] / "data" / "summaries"
VELMORA = SUMMARIES / "velmora_oral_kinase_inhibitor.txt"
KORVEXA = SUMMARIES / "korvexa_subcutaneous_biologic.txt"

CONCERN_FIELDS = (
    "id",
    "title",
    "short_title",
    "category",
    "evidence",
    "risk_factors",
    "routine_measures",
    "additional_measures",
)
STUDY_FIELDS = (
    "id",
    "short_name",
    "title",
    "sponsor",
    "category",
    "purpose",
    "objectives",
    "safety_concerns",
    "status",
    "milestones",
)
PRODUCT_FIELDS = ("name", "active_substance", "indication", "route", "epar_url")


def seed_path() -> Path:
    if not SEED.exists():
        missing_shared(f"{SEED} is absent: the UPLIZNA seed summary in ../shared/seeds is needed for this test")
    return SEED


@pytest.fixture(scope="module")
def seed_text() -> str:
    return seed_path().read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_plan(seed_text: str) -> RiskManagementPlan:
    return parse_summary_text(seed_text)


def assert_same_plan(actual: RiskManagementPlan, expected: RiskManagementPlan) -> None:
    """Product, concerns (not their curated definitions), studies and statements, field by field."""
    for field in PRODUCT_FIELDS:
        assert getattr(actual.product, field) == getattr(expected.product, field), f"product.{field}"
    assert [c.id for c in actual.safety_concerns] == [c.id for c in expected.safety_concerns], "concern ids"
    for got, want in zip(actual.safety_concerns, expected.safety_concerns, strict=True):
        for field in CONCERN_FIELDS:
            assert getattr(got, field) == getattr(want, field), f"concern {want.id}: {field}"
    assert [s.id for s in actual.studies] == [s.id for s in expected.studies], "study ids"
    for got_study, want_study in zip(actual.studies, expected.studies, strict=True):
        for field in STUDY_FIELDS:
            assert getattr(got_study, field) == getattr(want_study, field), f"study {want_study.id}: {field}"
    assert actual.studies_conditions_of_authorisation == expected.studies_conditions_of_authorisation
    assert actual.routine_pharmacovigilance.activities == expected.routine_pharmacovigilance.activities


# --------------------------------------------------------------------------------------------------
# 1. The UPLIZNA seed against the bundled plan
# --------------------------------------------------------------------------------------------------


def test_seed_reproduces_bundled_uplizna_plan(seed_plan: RiskManagementPlan) -> None:
    expected = RiskManagementPlan.model_validate(yaml.safe_load(UPLIZNA_YAML.read_text(encoding="utf-8")))
    assert_same_plan(seed_plan, expected)
    assert seed_plan.name == "uplizna"
    assert seed_plan.source == "Summary of risk management plan for UPLIZNA (inebilizumab), RMP Part VI"
    assert seed_plan.reference_safety_information is None
    assert seed_plan.rmp_version is None and seed_plan.rmp_date is None
    assert all(c.definition.is_empty for c in seed_plan.safety_concerns), "definitions are not in a summary"


def test_seed_concern_order_and_categories(seed_plan: RiskManagementPlan) -> None:
    categories = [c.category for c in seed_plan.safety_concerns]
    assert len(categories) == 9
    identified, potential, missing = ConcernCategory
    assert categories == [identified] * 2 + [potential] * 4 + [missing] * 3
    assert len(seed_plan.studies) == 4
    assert {s.category.value for s in seed_plan.studies} == {3}


def test_seed_name_argument_and_file_source(tmp_path: Path) -> None:
    plan = parse_summary_file(seed_path(), name="uplizna-public")
    assert plan.name == "uplizna-public"
    assert plan.source is not None and plan.source.endswith("parsed from 000_87823eff0a2665f8.txt")
    assert parse_summary_text(seed_path().read_text(encoding="utf-8"), source="EPAR 2024").source == "EPAR 2024"


# --------------------------------------------------------------------------------------------------
# 2. Two invented summaries in other table layouts
# --------------------------------------------------------------------------------------------------

_VELMORA_ROUTINE = {"legal_status": "restricted medical prescription"}
VELMORA_EXPECTED: dict[str, Any] = {
    "name": "velmora",
    "source": (
        "Summary of risk management plan for VELMORA (velmoratinib), RMP Part VI, "
        "parsed from velmora_oral_kinase_inhibitor.txt"
    ),
    "product": {
        "name": "VELMORA",
        "active_substance": "velmoratinib",
        "indication": (
            "treatment of adult patients with Philadelphia chromosome-positive chronic myeloid leukaemia in "
            "chronic phase who have previously been treated with two or more tyrosine kinase inhibitors"
        ),
        "route": "oral",
        "epar_url": "https://www.ema.europa.eu/en/medicines/human/EPAR/velmora",
    },
    "routine_pharmacovigilance": {
        "activities": [
            "Information about adverse reactions is collected continuously and regularly analysed including "
            "PSUR assessment, so that immediate action can be taken as necessary."
        ]
    },
    "studies_conditions_of_authorisation": None,
    "safety_concerns": [
        {
            "id": "hepatotoxicity",
            "title": "Hepatotoxicity",
            "category": "important identified risk",
            "evidence": (
                "Elevations of ALT or AST above 5 x ULN occurred in 9% of patients in the pivotal study "
                "VEL-201; two patients met Hy's law criteria."
            ),
            "risk_factors": (
                "Pre-existing liver disease, concomitant use of hepatotoxic medicines and daily alcohol intake."
            ),
            "routine_measures": {
                "smpc_sections": ["4.2", "4.4", "4.8"],
                "pl_sections": ["2", "4"],
                "recommendations": [
                    {
                        "topic": "liver function monitoring and dose interruption",
                        "smpc_sections": ["4.2", "4.4"],
                    }
                ],
                **_VELMORA_ROUTINE,
            },
            "additional_measures": [{"name": "Educational material for healthcare professionals"}],
        },
        {
            "id": "qt-interval-prolongation",
            "title": "QT interval prolongation and torsade de pointes",
            "short_title": "QT interval prolongation",
            "category": "important identified risk",
            "evidence": (
                "Concentration-dependent QTcF prolongation was seen in the thorough QT study; QTcF above "
                "500 ms occurred in 1.2% of patients."
            ),
            "risk_factors": (
                "Congenital long QT syndrome, hypokalaemia, hypomagnesaemia and concomitant medicines that "
                "prolong the QT interval."
            ),
            "routine_measures": {
                "smpc_sections": ["4.2", "4.4", "4.5", "4.8"],
                "pl_sections": ["2"],
                "recommendations": [{"topic": "ECG monitoring before and during treatment", "smpc_sections": ["4.2"]}],
                **_VELMORA_ROUTINE,
            },
            "additional_measures": [],
        },
        {
            "id": "embryo-foetal-toxicity",
            "title": "Embryo-foetal toxicity",
            "category": "important potential risk",
            "evidence": (
                "Velmoratinib was teratogenic in rats and rabbits at exposures below the human therapeutic exposure."
            ),
            "risk_factors": "Women of childbearing potential not using effective contraception.",
            "routine_measures": {
                "smpc_sections": ["4.4", "4.6", "5.3"],
                "pl_sections": ["2"],
                "pack_size": (
                    "28 film-coated tablets, a 4-week supply to align dispensing with monthly pregnancy testing"
                ),
                "other": [
                    "Tablets are supplied in child-resistant blisters.",
                    "The outer carton carries a pregnancy warning pictogram.",
                ],
                **_VELMORA_ROUTINE,
            },
            "additional_measures": [
                {"name": "Controlled distribution programme"},
                {"name": "Educational material for healthcare professionals"},
                {
                    "name": "Patient card",
                    "description": (
                        "reminds women to use effective contraception during treatment and for 1 month after."
                    ),
                },
            ],
        },
        {
            "id": "use-in-patients-with-severe-hepatic-impairment",
            "title": "Use in patients with severe hepatic impairment",
            "category": "missing information",
            "evidence": (
                "Patients with severe hepatic impairment (Child-Pugh class C) were excluded from clinical "
                "studies; the exposure in moderate hepatic impairment was 1.9 times that in normal hepatic "
                "function."
            ),
            "routine_measures": {"smpc_sections": ["4.2", "5.2"], **_VELMORA_ROUTINE},
            "additional_measures": [],
        },
        {
            "id": "long-term-safety",
            "title": "Long-term safety",
            "category": "missing information",
            "routine_measures": {},
            "additional_measures": [],
        },
    ],
    "studies": [
        {
            "id": "vel-hep-pass",
            "short_name": "VEL-HEP PASS",
            "title": (
                "A non-interventional post-authorisation safety study of liver injury in patients treated "
                "with velmoratinib in routine clinical practice"
            ),
            "sponsor": "Velmora Pharma B.V.",
            "category": 1,
            "purpose": (
                "To characterise the incidence, severity and reversibility of hepatotoxicity in routine use "
                "and to assess adherence to the liver function monitoring recommendations."
            ),
            "objectives": [],
            "safety_concerns": ["hepatotoxicity"],
        },
        {
            "id": "vel-qt-04",
            "short_name": "VEL-QT-04",
            "title": "A prospective cohort study of cardiac safety in patients receiving velmoratinib",
            "category": 1,
            "purpose": "To further characterise the cardiac safety of velmoratinib.",
            "objectives": [
                "to estimate the incidence of QT interval prolongation above 500 ms",
                "to describe cases of torsade de pointes and sudden death",
                "to evaluate the use of ECG monitoring",
            ],
            "safety_concerns": ["qt-interval-prolongation"],
        },
        {
            "id": "vel-lts",
            "short_name": "VEL-LTS",
            "title": "Long-term extension of the VEL-201 study",
            "category": 1,
            "purpose": (
                "To describe safety over 5 years of velmoratinib treatment, including in women of "
                "childbearing potential with embryo-foetal exposure."
            ),
            "objectives": [],
            # "long-term" names the missing information "Long-term safety" ("safety" is a stop word);
            # "embryo-foetal exposure" does not name "Embryo-foetal toxicity": every word must appear.
            "safety_concerns": ["long-term-safety"],
        },
    ],
}

_KORVEXA_LEGAL = "restricted medical prescription"
KORVEXA_EXPECTED: dict[str, Any] = {
    "name": "korvexa",
    "source": (
        "Summary of risk management plan for KORVEXA (korvelimab), RMP Part VI, "
        "parsed from korvexa_subcutaneous_biologic.txt"
    ),
    "product": {
        "name": "KORVEXA",
        "active_substance": "korvelimab",
        "indication": (
            "treatment of adults with generalised myasthenia gravis who are anti-acetylcholine receptor "
            "antibody positive, as an add-on to standard therapy"
        ),
        "route": "subcutaneous injection",
        "epar_url": "https://www.ema.europa.eu/en/medicines/human/EPAR/korvexa",
    },
    "routine_pharmacovigilance": {
        "activities": [
            "Information about adverse reactions is collected continuously and regularly analysed, including "
            "PSUR assessment, so that immediate action can be taken as necessary."
        ]
    },
    "studies_conditions_of_authorisation": None,
    "safety_concerns": [
        {
            "id": "hypersensitivity-reactions",
            "title": "Hypersensitivity reactions including anaphylaxis",
            "short_title": "Hypersensitivity reactions",
            "category": "important identified risk",
            "evidence": (
                "Anaphylaxis was reported in 2 of 1,250 patients (0.16%) in the clinical development "
                "programme; both events occurred within 30 minutes of the first injection."
            ),
            "risk_factors": ("Patients with a history of severe allergic reactions to other monoclonal antibodies."),
            "routine_measures": {
                "smpc_sections": ["4.3", "4.4", "4.8"],
                "pl_sections": ["2", "4"],
                "recommendations": [
                    {
                        "topic": "observation of patients for 30 minutes after the first three injections",
                        "smpc_sections": ["4.2", "4.4"],
                    }
                ],
                "clinical_setting": (
                    "the first three injections are given under the supervision of a healthcare professional"
                ),
                "legal_status": _KORVEXA_LEGAL,
            },
            "additional_measures": [
                {
                    "name": "Patient guide for self-injection",
                    "content": [
                        "how to recognise the signs of anaphylaxis",
                        "when to seek emergency medical care",
                    ],
                }
            ],
        },
        {
            "id": "serious-infections",
            "title": "Serious infections",
            "category": "important potential risk",
            "evidence": (
                "Korvelimab depletes circulating plasma cells and lowers IgG levels; serious infections "
                "occurred in 4.1% of korvelimab-treated patients versus 3.0% on placebo."
            ),
            "risk_factors": "Low baseline IgG, concomitant immunosuppressants and age over 65 years.",
            "routine_measures": {
                "smpc_sections": ["4.2", "4.4"],
                "pl_sections": ["2"],
                "clinical_setting": (
                    "treatment should be started by a physician experienced in the management of "
                    "neuromuscular disorders"
                ),
                "legal_status": _KORVEXA_LEGAL,
            },
            "additional_measures": [{"name": "Patient card"}],
        },
        {
            "id": "immunogenicity",
            "title": "Immunogenicity",
            "category": "important potential risk",
            "evidence": (
                "Anti-drug antibodies developed in 6% of patients; neutralising antibodies were associated "
                "with reduced efficacy."
            ),
            "risk_factors": "None identified.",
            "routine_measures": {"smpc_sections": ["5.1"]},
            "additional_measures": [],
        },
        {
            "id": "use-in-pregnancy-and-breast-feeding",
            "title": "Use in pregnancy and breast-feeding",
            "category": "missing information",
            "routine_measures": {"smpc_sections": ["4.6"], "pl_sections": ["2"]},
            "additional_measures": [],
        },
        {
            "id": "long-term-safety",
            "title": "Long-term safety",
            "category": "missing information",
            "routine_measures": {"smpc_sections": ["5.1"]},
            "additional_measures": [],
        },
        {
            # Same text before the first comma as the concern above: the id gets "-2".
            "id": "long-term-safety-2",
            "title": "Long-term safety, in adolescents 12 to 17 years of age",
            "category": "missing information",
            "evidence": ("Only 41 adolescents were treated in the clinical programme, none for more than 12 months."),
            "routine_measures": {"smpc_sections": ["4.2", "5.1"]},
            "additional_measures": [],
        },
    ],
    "studies": [
        {
            "id": "kor-301-extension-study",
            "short_name": "KOR-301 extension study",
            "title": (
                "An open-label extension study of the long-term safety and efficacy of korvelimab in adults "
                "with generalised myasthenia gravis"
            ),
            "sponsor": "Korvex Biologics",
            "category": 2,  # II.C.1 calls it a specific obligation of the conditional MA
            "purpose": "To confirm the efficacy and to characterise the long-term safety of korvelimab.",
            "objectives": [
                "To estimate the incidence of serious infections",
                "To measure immunogenicity (anti-drug antibodies) and its effect on efficacy",
                "To describe hypersensitivity reactions over 5 years of treatment",
            ],
            "safety_concerns": [
                "hypersensitivity-reactions",
                "serious-infections",
                "immunogenicity",
                "long-term-safety",
                "long-term-safety-2",
            ],
        },
        {
            "id": "pregnancy-exposure-registry",
            "short_name": "Pregnancy Exposure Registry",
            "title": "A prospective registry of pregnancy outcomes in women exposed to korvelimab",
            "sponsor": "Korvex Biologics",
            "category": 3,
            "purpose": (
                "To describe pregnancy outcomes, and infant outcomes up to 1 year of age including during "
                "breast-feeding, in women exposed to korvelimab during pregnancy."
            ),
            "objectives": [],
            "safety_concerns": ["use-in-pregnancy-and-breast-feeding"],
        },
        {
            "id": "adolescent-safety-study",
            "short_name": "Adolescent Safety Study",
            "title": ("A non-interventional study of adolescents 12 to 17 years of age treated with korvelimab"),
            "category": 3,
            "purpose": ("To characterise infections, growth and development in adolescents over 3 years of treatment."),
            "objectives": [],
            "safety_concerns": ["long-term-safety-2"],
        },
    ],
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [(VELMORA, VELMORA_EXPECTED), (KORVEXA, KORVEXA_EXPECTED)],
    ids=["velmora-colon-labels", "korvexa-crlf-own-line-labels"],
)
def test_invented_summaries(path: Path, expected: dict[str, Any]) -> None:
    plan = parse_summary_file(path)
    want = RiskManagementPlan.model_validate(expected)
    assert_same_plan(plan, want)
    assert plan.name == want.name
    assert plan.source == want.source


def test_invented_summaries_differ_from_seed_in_shape() -> None:
    velmora, korvexa = parse_summary_file(VELMORA), parse_summary_file(KORVEXA)
    assert [len(velmora.concerns_in(c)) for c in ConcernCategory] == [2, 1, 2]
    assert [len(korvexa.concerns_in(c)) for c in ConcernCategory] == [1, 2, 3]
    raw = KORVEXA.read_bytes()
    assert b"\r\n" in raw and b"\f" in raw and "\u00a0".encode() in raw and "\uf0b7".encode() in raw


# --------------------------------------------------------------------------------------------------
# 3. PDF
# --------------------------------------------------------------------------------------------------


def write_pdf(text: str, path: Path, lines_per_page: int = 55) -> Path:
    """A PDF of ``text`` with one figure per page, one ``fig.text`` per line in a monospace font."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import rcParams
    from matplotlib.backends.backend_pdf import PdfPages

    rcParams["pdf.fonttype"] = 42
    lines = text.replace("\r\n", "\n").replace("\f", "\n").split("\n")
    with PdfPages(path) as pdf:
        for start in range(0, len(lines), lines_per_page):
            fig = plt.figure(figsize=(8.27, 11.69))
            for row, line in enumerate(lines[start : start + lines_per_page]):
                if line.strip():
                    fig.text(0.03, 0.97 - row * 0.0172, line, family="monospace", fontsize=6.5, parse_math=False)
            pdf.savefig(fig)
            plt.close(fig)
    return path


def _without_source(plan: RiskManagementPlan) -> RiskManagementPlan:
    return plan.model_copy(update={"source": None})


@pytest.mark.parametrize("which", ["velmora", "seed"])
def test_pdf_parses_like_text(which: str, tmp_path: Path) -> None:
    source = VELMORA if which == "velmora" else seed_path()
    text = source.read_text(encoding="utf-8")
    pdf = write_pdf(text, tmp_path / f"{which}.PDF")  # the suffix is matched case-insensitively
    from_pdf = parse_summary_file(pdf)
    assert _without_source(from_pdf) == _without_source(parse_summary_text(text))
    assert from_pdf.source is not None and from_pdf.source.endswith(f"parsed from {which}.PDF")


# --------------------------------------------------------------------------------------------------
# 4. Errors
# --------------------------------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_error_not_a_summary(tmp_path: Path) -> None:
    recipe = "Pancakes\n\nIngredients:\n- 200 g flour\n- 2 eggs\n- 300 ml milk\n\nWhisk and fry.\n"
    with pytest.raises(SummaryParseError) as err:
        parse_summary_file(_write(tmp_path, "recipe.txt", recipe))
    message = str(err.value)
    assert "not an RMP summary" in message
    assert '"Summary of risk management plan for <product>"' in message
    assert "II.A List of important risks and missing information" in message
    assert "found neither" in message


def test_error_empty_file(tmp_path: Path) -> None:
    with pytest.raises(SummaryParseError, match=r"empty summary: empty\.txt has no text; expected"):
        parse_summary_file(_write(tmp_path, "empty.txt", " \n\n\t\r\n"))


def test_error_unsupported_suffix(tmp_path: Path) -> None:
    with pytest.raises(SummaryParseError) as err:
        parse_summary_file(_write(tmp_path, "summary.docx", b"PK\x03\x04"))
    assert "unsupported file type '.docx'" in str(err.value)
    assert ".txt or .pdf" in str(err.value)


def test_error_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SummaryParseError, match=r"summary file not found: .*absent\.pdf"):
        parse_summary_file(tmp_path / "absent.pdf")


def test_error_corrupt_pdf(tmp_path: Path) -> None:
    path = _write(tmp_path, "corrupt.pdf", os.urandom(2048))
    with pytest.raises(SummaryParseError, match=r"cannot read corrupt\.pdf as a PDF of an RMP summary"):
        parse_summary_file(path)


def test_error_ii_a_item_without_ii_b_entry(seed_text: str) -> None:
    text = seed_text.replace("• Neutropenia. ", "• Neutropenia. \n• Hepatic failure. ")
    with pytest.raises(SummaryParseError) as err:
        parse_summary_text(text)
    message = str(err.value)
    assert "lists 3 important identified risks but II.B describes 2" in message
    assert "II.A lists 'Hepatic failure' (line 78) but II.B has no entry for it" in message


def test_error_ii_b_entry_not_in_ii_a(seed_text: str) -> None:
    text = seed_text.replace("• Malignancy. \n", "")
    with pytest.raises(SummaryParseError) as err:
        parse_summary_text(text)
    assert "II.B describes 'Malignancy' (line 236) but II.A does not list it" in str(err.value)


def test_error_concern_without_routine_measures(seed_text: str) -> None:
    routine = "Risk minimisation measures Routine risk minimisation measures: \n\nSmPC Sections 4.4 and 4.8."
    start = seed_text.index(routine)
    end = seed_text.index("Additional risk minimisation measures:", start)
    with pytest.raises(SummaryParseError) as err:
        parse_summary_text(seed_text[:start] + seed_text[end:])
    message = str(err.value)
    assert "Important identified risk 'Neutropenia' (II.B, line 136)" in message
    assert "expected a 'Routine risk minimisation measures' block" in message


def test_error_invalid_plan_name_lists_field(seed_text: str) -> None:
    with pytest.raises(SummaryParseError, match=r"not a valid plan: name: String should match pattern"):
        parse_summary_text(seed_text, name="Not A Slug")


# --------------------------------------------------------------------------------------------------
# Smaller layouts
# --------------------------------------------------------------------------------------------------


def _summary(ii_a: str, ii_b: str, ii_c: str = "") -> str:
    return (
        "Summary of risk management plan for TESTAMAB (testamab)\n"
        "I. The medicine and what it is used for\n"
        "TESTAMAB is indicated for the treatment of plaque psoriasis. It contains testamab as the active\n"
        "substance and it is given by subcutaneous administration.\n"
        "II.A List of important risks and missing information\n"
        f"{ii_a}\nII.B Summary of important risks\n{ii_b}\n{ii_c}"
    )


def test_list_cell_without_bullets_is_one_item_per_line() -> None:
    plan = parse_summary_text(
        _summary(
            "Important identified risks Neutropenia\nSerious infections",
            "Important identified risk 1: Neutropenia\nRisk minimisation measures: SmPC section 4.4.\n"
            "Important identified risk 2: Serious infections\nRisk minimisation measures: SmPC section 4.4.",
        )
    )
    assert [c.id for c in plan.safety_concerns] == ["neutropenia", "serious-infections"]
    assert plan.product.route == "subcutaneous"
    assert plan.routine_pharmacovigilance.activities == []
    assert plan.studies == [] and plan.studies_conditions_of_authorisation is None


def test_routine_measures_on_one_line_and_additional_measures_list() -> None:
    plan = parse_summary_text(
        _summary(
            "Important potential risks: Malignancy",
            "Important potential risk: Malignancy\n"
            "Routine risk minimisation measures: SmPC sections 4.4 and 4.8; PL section 2. Legal status: "
            "prescription only.\nAdditional risk minimisation measures: Patient card; Guide for prescribers",
        )
    )
    concern: SafetyConcern = plan.safety_concerns[0]
    assert concern.routine_measures.smpc_sections == ["4.4", "4.8"]
    assert concern.routine_measures.pl_sections == ["2"]
    assert concern.routine_measures.legal_status == "prescription only"
    assert [m.name for m in concern.additional_measures] == ["Patient card", "Guide for prescribers"]


VARIANTS = """\
Part VI: Summary of the risk management plan
Summary of risk management plan for Testamab
I. The medicine and what it is used for
Testamab is authorised in the EU for treatment of moderate to severe plaque psoriasis in adults. It
contains testamab as the active substance and it is given by injection under the skin.
Further information: https://www.ema.europa.eu/en/medicines/human/EPAR/testamab.
II.A List of important risks and missing information
Table II.A.1: List of important risks and missing information
Important identified risks None
Important potential risks Serious infections
Missing information Use in pregnancy
II.B Summary of important risks
Table II.B.1: Important potential risk 1 Serious infections
Evidence for linking the risk to the medicine: Clinical trial data.
Risk minimisation measures: SmPC section 4.4.
Additional pharmacovigilance activities: TEST-PASS
See section II.C of this summary for an overview of the post-authorisation development plan.
Table II.B.2: Missing information
Missing information 1 Use in pregnancy
Risk minimisation measures Routine risk minimisation measures:
SmPC section 4.6
Additional risk minimisation measures:
No additional risk minimisation measures.
II.C Post-authorisation development plan
II.C.1 Studies which are conditions of the marketing authorisation
There are no studies which are conditions of the marketing authorisation or specific obligation of
Testamab.
II.C.2 Other studies in post-authorisation development plan
Study short name and title:
TEST-PASS
A registry of serious infections in patients treated with testamab
Purpose of the study: To estimate the rate of serious infections. Objectives: incidence of serious
infections; time to first infection.
"""


def test_template_variants() -> None:
    """Substance only in Part I, "None" cells, headings without a colon or inside a table caption,
    routine measures without their own label, "Study short name and title:", an "Objectives:" list."""
    plan = parse_summary_text(VARIANTS)
    assert plan.product.name == "Testamab"
    assert plan.product.active_substance == "testamab"
    assert plan.product.indication == "treatment of moderate to severe plaque psoriasis in adults"
    assert plan.product.route == "injection under the skin"
    assert plan.product.epar_url == "https://www.ema.europa.eu/en/medicines/human/EPAR/testamab"
    infections, pregnancy = plan.safety_concerns
    assert (infections.id, infections.category) == (
        "serious-infections",
        ConcernCategory.IMPORTANT_POTENTIAL_RISK,
    )
    assert infections.evidence == "Clinical trial data."
    assert infections.routine_measures.smpc_sections == ["4.4"]
    assert infections.additional_measures == []
    assert (pregnancy.id, pregnancy.category) == ("use-in-pregnancy", ConcernCategory.MISSING_INFORMATION)
    assert pregnancy.routine_measures.smpc_sections == ["4.6"]
    assert pregnancy.additional_measures == []
    assert plan.studies_conditions_of_authorisation == (
        "There are no studies which are conditions of the marketing authorisation or specific obligation of Testamab."
    )
    (study,) = plan.studies
    assert (study.id, study.short_name, study.category.value) == ("test-pass", "TEST-PASS", 3)
    assert study.title == "A registry of serious infections in patients treated with testamab"
    assert study.purpose == "To estimate the rate of serious infections."
    assert study.objectives == ["incidence of serious infections", "time to first infection"]
    assert study.safety_concerns == ["serious-infections"]


# --------------------------------------------------------------------------------------------------
# 5. Whitespace does not change the parse
# --------------------------------------------------------------------------------------------------

_NOISE = st.sampled_from(["", "", "", " ", "\t", "  \u00a0", "\n", "\n\n", " \n \n\n", "\r\n\r\n", "\n\f\n"])


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_extra_whitespace_does_not_change_parse(
    data: st.DataObject, seed_text: str, seed_plan: RiskManagementPlan
) -> None:
    lines = seed_text.split("\n")
    crlf = data.draw(st.booleans(), label="crlf")
    noise = data.draw(st.lists(_NOISE, min_size=len(lines), max_size=len(lines)), label="noise")
    newline = "\r\n" if crlf else "\n"
    noisy = newline.join(f"{line}{extra}" for line, extra in zip(lines, noise, strict=True))
    assert parse_summary_text(noisy) == seed_plan
