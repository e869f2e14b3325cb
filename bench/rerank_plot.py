"""Loss and validation curves of full-scale runs, from their model cards (bench/results/full-*-card.json).

    python bench/rerank_plot.py --out bench/results/curves-adgm.png bench/results/full-adgm-*-card.json"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("cards", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--set", default="mean", help="validation column to plot (a set name, or mean)")
    a = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for f in a.cards:
        card = json.loads(f.read_text(encoding="utf-8"))
        h = card["hyperparameters"]
        name = card.get("extra", {}).get("experiment", f.stem)
        loss = h.get("loss_curve") or []
        if loss:
            ax1.plot([r["step"] for r in loss], [r["loss"] for r in loss], label=name)
        val = h.get("validation_curve") or []
        if val:
            col = a.set if a.set in val[0] else "mean"
            ax2.plot([r["step"] for r in val], [r[col] for r in val], marker="o", label=name)
    ax1.axhline(0.6931, color="grey", lw=0.8, ls="--")
    ax1.text(0, 0.70, "ln 2", color="grey", fontsize=8)
    ax1.set_xlabel("step"), ax1.set_ylabel("training loss"), ax1.set_title("loss")
    ax2.set_xlabel("step"), ax2.set_ylabel(f"validation nDCG@10 ({a.set})"), ax2.set_title("validation (BM25 candidates reranked)")
    ax1.legend(fontsize=7), ax2.legend(fontsize=7)
    fig.tight_layout()
    a.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.out, dpi=110)
    print(a.out)


if __name__ == "__main__":
    main()
