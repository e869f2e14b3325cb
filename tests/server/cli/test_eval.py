"""`readtrail eval`: the strategy and the reranker are independent choices (walk with a given
reranker used to run bm25+rerank silently, and walk/agent always used the zero-shot reranker)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import main
from tests.server.traversal.fixture_corpus import OverlapReranker


@pytest.fixture()
def labels(tmp_path: Path) -> tuple[Path, Path]:
    queries, qrels = tmp_path / "q.jsonl", tmp_path / "qrels.tsv"
    queries.write_text(json.dumps({"_id": "q1", "text": "suspicious activity report"}) + "\n", encoding="utf-8")
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\taml:2.1\t1\n", encoding="utf-8")
    return queries, qrels


@pytest.mark.parametrize("strategy", ["walk", "bm25+rerank"])
def test_the_named_reranker_is_the_one_the_strategy_uses(strategy: str, tiny_index: Path, labels: tuple[Path, Path],
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def fake_build(settings, corpus, spec):  # noqa: ANN001
        asked.append(spec)
        return OverlapReranker()

    monkeypatch.setattr("server.services.build_reranker", fake_build)
    monkeypatch.setenv("READTRAIL_HOME", str(tmp_path))
    out = tmp_path / "m.json"
    r = CliRunner().invoke(main, ["eval", "--index", str(tiny_index), "--queries", str(labels[0]), "--qrels", str(labels[1]),
                                  "--strategy", strategy, "--reranker", "my-folder", "--json", str(out)])
    assert r.exit_code == 0, r.output
    assert asked == ["my-folder"] and json.loads(out.read_text(encoding="utf-8"))["queries"] == 1


def test_a_reranker_with_plain_bm25_is_refused(tiny_index: Path, labels: tuple[Path, Path]) -> None:
    r = CliRunner().invoke(main, ["eval", "--index", str(tiny_index), "--queries", str(labels[0]), "--qrels", str(labels[1]),
                                  "--strategy", "bm25", "--reranker", "x"])
    assert r.exit_code != 0 and "no effect with --strategy bm25" in r.output
