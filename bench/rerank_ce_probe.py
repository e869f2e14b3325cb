"""Why a fresh cross-encoder head on MiniLM does not move: a linear probe on the frozen features the
head sees (the pooler over [CLS]) against mean-pooled token features, on ADGM training pairs
(a positive and a BM25-ranked non-positive per question). AUC 0.5 = the head has nothing to separate.

    python bench/rerank_ce_probe.py --pairs 150 --out bench/results/ce-probe.json"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rerank_full import dataset, training_queries  # noqa: E402

from server.rerank.embedding import minilm_path, passage_text  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=150)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    import numpy as np
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import cross_val_predict
    from transformers import AutoModel, AutoTokenizer

    corpus, train, _ = dataset("adgm")
    qs, qr = training_queries(train[:1])
    ids = sorted(qs)
    random.Random(0).shuffle(ids)
    texts, labels = [], []
    for q in ids[:a.pairs]:
        gold = [p for p, s in qr[q].items() if s > 0 and p in corpus.by_id]
        neg = next((p for p, _ in corpus.bm25(qs[q], 10) if p.id not in qr[q]), None)
        if not gold or neg is None:
            continue
        texts += [(qs[q], passage_text(corpus.passage(gold[0]))), (qs[q], passage_text(neg))]
        labels += [1, 0]
    print(f"{len(texts)} pairs", file=sys.stderr, flush=True)
    tok = AutoTokenizer.from_pretrained(minilm_path())
    model = AutoModel.from_pretrained(minilm_path()).eval()
    feats: dict[str, list] = {"pooler_cls": [], "cls": [], "mean": []}
    t = time.monotonic()
    with torch.no_grad():
        for i in range(0, len(texts), 16):
            batch = texts[i:i + 16]
            enc = tok([x for x, _ in batch], [y for _, y in batch], truncation=True, max_length=a.max_length,
                      padding=True, return_tensors="pt")
            out = model(**enc)
            h = out.last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).float()
            feats["pooler_cls"] += out.pooler_output.tolist()
            feats["cls"] += h[:, 0].tolist()
            feats["mean"] += ((h * m).sum(1) / m.sum(1)).tolist()
            print(f"{i + len(batch)} encoded ({time.monotonic() - t:.0f}s)", file=sys.stderr, flush=True)
    y = np.array(labels)
    result = {"pairs": len(y), "seconds": round(time.monotonic() - t, 1)}
    for name, f in feats.items():
        x = np.array(f)
        p = cross_val_predict(LogisticRegression(max_iter=2000, C=1.0), x, y, cv=5, method="predict_proba")[:, 1]
        # how much the head's input varies across pairs at all (a constant input cannot be separated)
        result[name] = {"probe_auc_5fold": round(float(roc_auc_score(y, p)), 3),
                        "mean_feature_std_across_pairs": round(float(x.std(0).mean()), 4),
                        "mean_abs_feature": round(float(np.abs(x).mean()), 4)}
    print(json.dumps(result, indent=1))
    a.out.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
