"""Synthetic ICSRs: lab results (F.r) drawn with each event (internal to :mod:`riskplan.cases.synth`)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Final

from riskplan.cases.codes import (
    TestResultCode,
)
from riskplan.cases.synth_specs import (
    LabSpec,
    dec,
)

# --------------------------------------------------------------------------------------------------
# Lab results (F.r): values a physician would expect with each event
# --------------------------------------------------------------------------------------------------


def cell_count(rng: random.Random, day: dt.date, us: bool, name: str, value: float, low: float, high: float) -> LabSpec:
    """A cell count in 10^9/L (Europe, Asia; UCUM 10*9/L or the plan's 10^9/L) or cells/mm3 (US)."""
    if us:
        return LabSpec(name, day, dec(value * 1000, 0), "/mm3", low=dec(low * 1000, 0), high=dec(high * 1000, 0))
    unit = "10^9/L" if rng.random() < 0.6 else "10*9/L"
    return LabSpec(name, day, dec(value, 2), unit, low=dec(low, 1), high=dec(high, 1))


def _neutrophil_name(rng: random.Random) -> str:
    return rng.choice(("Neutrophil count", "Neutrophil count", "Absolute neutrophil count", "ANC"))


def neutrophil_labs(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    """ANC: 60% grade 2-3 (0.5-<1.5 x10^9/L), 30% mild (1.5-1.8), 10% grade 4 (<0.5) (CTCAE v5.0)."""
    u = rng.random()
    value = rng.uniform(0.5, 1.49) if u < 0.6 else rng.uniform(1.5, 1.79) if u < 0.9 else rng.uniform(0.1, 0.49)
    return (cell_count(rng, day, us, _neutrophil_name(rng), value, 1.8, 7.5),)


def _neutrophils_severe(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    crp = LabSpec("C-reactive protein", day, dec(rng.uniform(20, 180), 0), "mg/L", high=Decimal(5))
    return cell_count(rng, day, us, _neutrophil_name(rng), rng.uniform(0.05, 0.49), 1.8, 7.5), crp


def _lymphocytes(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    name = rng.choice(("Lymphocyte count", "Absolute lymphocyte count"))
    return (cell_count(rng, day, us, name, rng.uniform(0.2, 0.95), 1.0, 4.0),)


def _leukocytes(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    return (cell_count(rng, day, us, "White blood cell count", rng.uniform(1.8, 3.8), 4.0, 10.0),)


def igg_labs(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    value = rng.uniform(2.5, 6.9)
    if us:
        return (LabSpec("Immunoglobulin G", day, dec(value * 100, 0), "mg/dL", low=Decimal(700), high=Decimal(1600)),)
    return (LabSpec("Immunoglobulin G", day, dec(value, 1), "g/L", low=Decimal(7), high=Decimal(16)),)


def _crp(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    return (LabSpec("C-reactive protein", day, dec(rng.uniform(30, 250), 0), "mg/L", high=Decimal(5)),)


def _pneumonia(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    finding = rng.choice(("right lower lobe consolidation", "left lower lobe consolidation", "bilateral infiltrates"))
    return LabSpec("Chest X-ray", day, text=finding.capitalize()), *_crp(rng, day, us)


def _sepsis(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    organism = rng.choice(
        ("Escherichia coli", "Klebsiella pneumoniae", "Staphylococcus aureus", "Streptococcus pneumoniae")
    )
    culture = LabSpec("Blood culture", day, code=TestResultCode.POSITIVE, text=organism)
    procalcitonin = LabSpec("Procalcitonin", day, dec(rng.uniform(2, 40), 1), "ng/mL", high=Decimal("0.5"))
    return culture, procalcitonin, *_crp(rng, day, us)


def _urine(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    organism = rng.choice(("Escherichia coli", "Escherichia coli", "Klebsiella pneumoniae", "Enterococcus faecalis"))
    return (LabSpec("Urine culture", day, code=TestResultCode.POSITIVE, text=f"{organism} > 10^5 CFU/mL"),)


def _sars_cov_2(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    return (LabSpec("SARS-CoV-2 RT-PCR (nasopharyngeal swab)", day, code=TestResultCode.POSITIVE),)


def _vzv(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    return (LabSpec("Varicella zoster virus PCR (lesion swab)", day, code=TestResultCode.POSITIVE),)


def _hbv(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    dna = LabSpec(
        "Hepatitis B virus DNA", day, dec(10 ** rng.uniform(3, 7), 0), "[IU]/mL", code=TestResultCode.POSITIVE
    )
    antigen = LabSpec("Hepatitis B surface antigen", day, code=TestResultCode.POSITIVE)
    alt = LabSpec("Alanine aminotransferase", day, dec(rng.uniform(80, 900), 0), "U/L", high=Decimal(35))
    return dna, antigen, alt


def _jcv(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    pcr = LabSpec(
        "JC virus DNA, cerebrospinal fluid (PCR)",
        day,
        dec(rng.uniform(50, 5000), 0),
        "{copies}/mL",
        code=TestResultCode.POSITIVE,
    )
    mri = LabSpec(
        "Magnetic resonance imaging head",
        day,
        text="Multifocal subcortical white matter T2/FLAIR lesions "
        "without mass effect or enhancement, consistent with PML",
    )
    return pcr, mri


def b_cells(rng: random.Random, day: dt.date) -> LabSpec:
    return LabSpec("CD19+ B-cell count", day, dec(rng.uniform(0, 40), 0), "/uL", low=Decimal(300), high=Decimal(2000))


def neutrophils_neonate(rng: random.Random, day: dt.date) -> LabSpec:
    return LabSpec("Neutrophil count", day, dec(rng.uniform(0.6, 1.4), 2), "10^9/L", low=Decimal("1.5"))


LAB_MAKERS: Final = {
    "neutrophils": neutrophil_labs,
    "neutrophils-severe": _neutrophils_severe,
    "lymphocytes": _lymphocytes,
    "leukocytes": _leukocytes,
    "igg": igg_labs,
    "crp": _crp,
    "pneumonia": _pneumonia,
    "sepsis": _sepsis,
    "urine": _urine,
    "sars-cov-2": _sars_cov_2,
    "vzv": _vzv,
    "hbv": _hbv,
    "jcv": _jcv,
}
