"""Several configurations side by side on the same queries: a table, a quality-vs-latency plot, and
the queries every configuration already gets fully right (easy ones say little about a reranker)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from server.corpus import Corpus
from server.eval import EvalReport, evaluate
from server.eval.strategies import Strategy
from server.eval.bootstrap import paired_bootstrap

__all__ = ["compare", "format_table", "plot_quality_latency", "easy_queries", "paired_differences", "format_differences"]

PAIRED_METRICS = ("ndcg@10", "all_gold@10")


def compare(corpus: Corpus, queries: dict[str, str], qrels: dict[str, dict[str, float]],
            configs: dict[str, Strategy], depth: int = 100,
            progress: Callable[[str], Callable[[Iterable[str]], Iterable[str]]] | None = None) -> dict[str, EvalReport]:
    """One EvalReport per configuration name, in order."""
    return {name: evaluate(corpus, queries, qrels, strategy, depth=depth,
                           progress=progress(name) if progress else (lambda xs: xs))
            for name, strategy in configs.items()}


def format_table(metrics: dict[str, dict[str, float]]) -> str:
    names = list(metrics)
    keys = list(next(iter(metrics.values())))
    lines = [f"{'':>16}  " + "  ".join(f"{Path(n).name[-18:]:>18}" for n in names)]
    lines += [f"{k:>16}  " + "  ".join(f"{metrics[n][k]:>18}" for n in names) for k in keys]
    return "\n".join(lines)


def paired_differences(reports: dict[str, EvalReport]) -> dict[str, dict[str, dict[str, float]]]:
    """Each configuration after the first against the first, per metric: the mean per-query difference
    with its paired bootstrap 95 % interval (a few hundred questions: a difference is a finding only
    when the interval excludes zero)."""
    names = list(reports)
    rows = {n: {r["id"]: r for r in reports[n].per_query} for n in names}
    return {n: {m: paired_bootstrap({q: r[m] for q, r in rows[names[0]].items()}, {q: r[m] for q, r in rows[n].items()})
                for m in PAIRED_METRICS}
            for n in names[1:]}


def format_differences(reference: str, diffs: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = [f"paired differences to {Path(reference).name} (mean per query, bootstrap 95 % interval):"]
    for name, per in diffs.items():
        lines.append(f"  {Path(name).name}: " + ", ".join(
            f"{m} {d['diff']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}]" for m, d in per.items()))
    return "\n".join(lines)


def easy_queries(reports: dict[str, EvalReport]) -> list[str]:
    solved = [{row["id"] for row in r.per_query if row["all_gold@10"] >= 1.0} for r in reports.values()]
    return sorted(set.intersection(*solved)) if solved else []


def plot_quality_latency(metrics: dict[str, dict[str, float]], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, m in metrics.items():
        ax.scatter(m["latency_p50_ms"], m["ndcg@10"])
        ax.annotate(Path(name).name, (m["latency_p50_ms"], m["ndcg@10"]), fontsize=8)
    ax.set_xlabel("latency p50 per query (ms)")
    ax.set_ylabel("nDCG@10")
    ax.set_title("quality vs latency")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
