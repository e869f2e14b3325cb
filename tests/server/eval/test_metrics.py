import math

from server.eval.metrics import all_gold_at, mrr_at, ndcg_at, percentile, recall_at


def test_metrics_on_a_worked_example() -> None:
    rels = {"a": 2.0, "b": 1.0, "z": 0.0}
    ranked = ["x", "a", "y", "b"]
    dcg = 2 / math.log2(3) + 1 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert math.isclose(ndcg_at(ranked, rels, 10), dcg / idcg)
    assert recall_at(ranked, rels, 2) == 0.5 and recall_at(ranked, rels, 10) == 1.0
    assert mrr_at(ranked, rels, 10) == 0.5
    assert all_gold_at(ranked, rels, 3) == 0.0 and all_gold_at(ranked, rels, 4) == 1.0
    assert ndcg_at(["a", "b"], rels, 10) == 1.0


def test_percentile_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 50) == 50 and percentile(values, 95) == 95 and percentile([], 50) == 0.0
