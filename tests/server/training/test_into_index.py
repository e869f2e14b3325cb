"""`train-reranker --into-index`: the index's own model folder, which serve, deep-search and eval then
use without --reranker, and which every deep_search result names."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import main

pytestmark = pytest.mark.slow  # trains MiniLM for a few steps


@pytest.mark.parametrize("kind", [[], ["--kind", "cross-encoder"]], ids=["bi-encoder", "cross-encoder"])
def test_trained_into_the_index_then_used_without_flags(tiny_index: Path, tmp_path: Path, kind: list[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Either kind alone can be below BM25 on the user's domain; what serves is its fusion with BM25."""
    monkeypatch.setenv("READTRAIL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("READTRAIL_RERANKER", raising=False)
    queries, qrels = tmp_path / "q.jsonl", tmp_path / "qrels.tsv"
    queries.write_text("".join(json.dumps({"_id": f"q{i}", "text": t}) + "\n" for i, t in enumerate(
        ["who files suspicious activity reports", "how long are records kept", "who is appointed as reporting officer"])),
        encoding="utf-8")
    qrels.write_text("query-id\tcorpus-id\tscore\nq0\taml:2.1\t1\nq1\tgen:5\t1\nq2\taml:1.1\t1\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["train-reranker", "--index", str(tiny_index), "--queries", str(queries), "--qrels",
                                  str(qrels), "--into-index", *kind, "--negatives", "random", "--max-steps", "2",
                                  "--batch-size", "2", "--max-seq-length", "32", "--holdout", "0"])
    assert r.exit_code == 0, r.output
    folder = Path(r.stdout.strip().splitlines()[-1])
    assert folder.parent == tiny_index / "models" and (tiny_index / "models" / "LATEST").is_file()
    ds = CliRunner().invoke(main, ["deep-search", "--index", str(tiny_index), "--json", "--max-seconds", "60",
                                   "suspicious activity report"])
    assert ds.exit_code == 0, ds.output
    result = json.loads(ds.stdout)
    # what serves is the fusion of BM25 and the trained model, fitted on the same labels, named in the result
    assert folder.name.startswith("fusion-") and result["reranker"].startswith("fusion:") and folder.name in result["reranker"]
    trained = Path(json.loads((folder / "readtrail-reranker.json").read_text(encoding="utf-8"))["embedding"])
    assert trained.parent == tiny_index / "models" and trained.name.startswith("rr-")
    card = json.loads((trained / "readtrail-reranker.json").read_text(encoding="utf-8"))
    assert card["kind"] == ("cross-encoder" if kind else "embedding")


def test_no_fuse_serves_the_trained_model_alone(tiny_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READTRAIL_HOME", str(tmp_path / "home"))
    queries, qrels = tmp_path / "q.jsonl", tmp_path / "qrels.tsv"
    queries.write_text(json.dumps({"_id": "q0", "text": "who files suspicious activity reports"}) + "\n", encoding="utf-8")
    qrels.write_text("query-id\tcorpus-id\tscore\nq0\taml:2.1\t1\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["train-reranker", "--index", str(tiny_index), "--queries", str(queries), "--qrels",
                                  str(qrels), "--out", str(tmp_path / "m"), "--no-fuse", "--negatives", "random",
                                  "--max-steps", "1", "--batch-size", "2", "--max-seq-length", "32", "--holdout", "0"])
    assert r.exit_code == 0, r.output
    folder = Path(r.stdout.strip().splitlines()[-1])
    assert folder.name.startswith("rr-") and (tmp_path / "m" / "LATEST").read_text().strip() == folder.name
