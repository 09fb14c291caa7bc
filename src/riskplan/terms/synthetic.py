"""An invented MedDRA-format release the size of a real one, for benchmarks and tests (never real MedDRA).

The terms are made-up syllable words with invented 8-digit codes; only the file layout is MedDRA's
(MedDRA ASCII file specification), so loading and coding can be exercised at full size.
"""

from __future__ import annotations

import random
from pathlib import Path


def write_synthetic_release(
    folder: Path, n_llt: int = 80_000, seed: int = 7, *, n_smq: int = 220, revision: int = 0
) -> dict[str, int]:
    """An invented release the size of a real one: 27 SOCs, ~1,700 HLTs, 26,000 PTs, ``n_llt`` LLTs and
    ``n_smq`` SMQs (every 10th hierarchical with two child SMQs, every 10th algorithmic).

    ``revision`` 1 writes the next release (99.1 instead of 99.0) of the same seed: 1 in 100 LLTs made
    non-current, 1 in 200 PTs moved to another HLT (and so, often, another primary SOC), and every 10th
    SMQ with one more narrow PT.
    """
    rng = random.Random(seed)
    syllables = [a + b for a in "bcdfglmnprstv" for b in "aeiou"]
    words = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(9000)})

    def name() -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(1, 4))).capitalize()

    n_soc, n_hlgt, n_hlt, n_pt = 27, 337, 1737, max(1, n_llt * 26 // 80)
    socs = [10_000_001 + i for i in range(n_soc)]
    hlgt_soc = {11_000_001 + i: socs[i % n_soc] for i in range(n_hlgt)}
    hlgts = list(hlgt_soc)
    hlt_hlgt = {12_000_001 + i: hlgts[i % n_hlgt] for i in range(n_hlt)}
    hlts = list(hlt_hlgt)
    pts: list[tuple[int, str, list[int]]] = []
    for i in range(n_pt):
        paths = [hlts[i % n_hlt]]
        other = hlts[(i * 7 + 11) % n_hlt]
        if revision and i % 200 == 5:
            paths = [hlts[(i + 1) % n_hlt]]  # moved to another HLT in the next release
        elif i % 3 == 0 and hlgt_soc[hlt_hlgt[other]] != hlgt_soc[hlt_hlgt[paths[0]]]:
            paths.append(other)  # multi-axial
        pts.append((13_000_001 + i, f"{name()} {i}", paths))

    def write(file: str, rows: list[list[object]]) -> None:
        body = "".join("".join(f"{v}$" for v in row) + "\n" for row in rows)
        (folder / file).write_text(body, encoding="utf-8")

    folder.mkdir(parents=True, exist_ok=True)
    write("soc.asc", [[c, f"Soc {c}", f"S{i}", *[""] * 7] for i, c in enumerate(socs)])
    write("hlgt.asc", [[c, f"Hlgt {c}", *[""] * 7] for c in hlgts])
    write("hlt.asc", [[c, f"Hlt {c}", *[""] * 7] for c in hlts])
    write("soc_hlgt.asc", [[s, c] for c, s in hlgt_soc.items()])
    write("hlgt_hlt.asc", [[g, c] for c, g in hlt_hlgt.items()])
    write("pt.asc", [[c, n, "", hlgt_soc[hlt_hlgt[p[0]]], *[""] * 7] for c, n, p in pts])
    write("hlt_pt.asc", [[h, c] for c, _, p in pts for h in p])
    paths_rows: list[list[object]] = []
    for c, n, p in pts:
        primary = hlgt_soc[hlt_hlgt[p[0]]]
        for h in p:
            g, s = hlt_hlgt[h], hlgt_soc[hlt_hlgt[h]]
            flag = "Y" if s == primary else "N"
            paths_rows.append([c, h, g, s, n, f"Hlt {h}", f"Hlgt {g}", f"Soc {s}", "S", "", primary, flag])
    write("mdhier.asc", paths_rows)
    llts: list[list[object]] = [[c, n, c, *[""] * 6, "Y", ""] for c, n, _ in pts]
    for i in range(n_llt - n_pt):
        current = i % 10 != 0 and not (revision and i % 100 == 1)
        llts.append([14_000_001 + i, f"{name()} {i}", pts[rng.randrange(n_pt)][0], *[""] * 6, "NY"[current], ""])
    write("llt.asc", llts)
    version = f"99.{revision}"
    write("meddra_release.asc", [[version, "English", ""]])
    smq_list, smq_content = _smqs(rng, [c for c, _, _ in pts], n_smq, version, revision)
    write("smq_list.asc", smq_list)
    write("smq_content.asc", smq_content)
    return {"LLT": len(llts), "PT": n_pt, "hierarchy paths": len(paths_rows), "SMQ": n_smq}


def _smqs(
    rng: random.Random, pt_codes: list[int], n_smq: int, version: str, revision: int
) -> tuple[list[list[object]], list[list[object]]]:
    """smq_list.asc and smq_content.asc rows (MedDRA ASCII layout, see :mod:`riskplan.terms.smq`)."""
    listed: list[list[object]] = []
    content: list[list[object]] = []
    codes = [20_000_001 + i for i in range(n_smq)]
    children: set[int] = set()
    for k, code in enumerate(codes):
        if k % 10 == 0 and k + 2 < n_smq:
            children.update((codes[k + 1], codes[k + 2]))
            for child in (codes[k + 1], codes[k + 2]):
                content.append([code, child, 0, 0, "A", 0, "A", "99.0", "99.0"])
        algorithmic = k % 10 == 5
        level = 2 if code in children else 1
        algorithm = "A or (B and C)" if algorithmic else "N"
        listed.append([code, f"Smq {k} (SMQ)", level, "invented", "riskplan", "", version, "A", algorithm])
        if k % 10 == 0 and k + 2 < n_smq:
            continue  # a parent SMQ holds its children only
        terms = rng.sample(pt_codes, 91)  # the same draws in both revisions; the 91st joins in revision 1
        if not (revision and k % 10 == 3):
            terms = terms[:90]
        for j, pt in enumerate(terms):
            scope = 2 if j < 30 else 1
            category = "A" if scope == 2 or not algorithmic else "BC"[j % 2]
            added = version if revision and k % 10 == 3 and j == len(terms) - 1 else "99.0"
            content.append([code, pt, 4, scope, category, 0, "A", added, added])
    return listed, content
