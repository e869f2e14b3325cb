"""Side-by-side evaluation: each configuration against the first, paired over the same questions."""
from __future__ import annotations

from server.eval import EvalReport
from server.eval.compare import format_differences, paired_differences


def _report(scores: dict[str, float]) -> EvalReport:
    return EvalReport(metrics={}, per_query=[{"id": q, "ndcg@10": s, "all_gold@10": float(s > 0.5)} for q, s in scores.items()])


def test_paired_differences_are_per_question_and_say_when_zero_is_outside_the_interval() -> None:
    base = _report({f"q{i}": 0.4 for i in range(60)})
    better = _report({f"q{i}": 0.6 for i in range(60)})  # +0.2 on every question
    mixed = _report({f"q{i}": 0.4 + (0.1 if i % 2 else -0.1) for i in range(60)})  # +-0.1: no difference
    diffs = paired_differences({"default": base, "trained": better, "noisy": mixed})
    assert set(diffs) == {"trained", "noisy"}
    up = diffs["trained"]["ndcg@10"]
    assert abs(up["diff"] - 0.2) < 1e-9 and up["lo"] > 0 and diffs["trained"]["all_gold@10"]["diff"] == 1.0
    flat = diffs["noisy"]["ndcg@10"]
    assert abs(flat["diff"]) < 1e-9 and flat["lo"] < 0 < flat["hi"]
    text = format_differences("default", diffs)
    assert "trained: ndcg@10 +0.200" in text and "all_gold@10 +1.000" in text
