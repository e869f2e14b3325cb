"""Rerankers: one interface (`Reranker`), backends chosen from a model folder's card.

`load_reranker(None, corpus)` says on stderr that no trained model is configured and uses the
best zero-shot option measured here: BM25 plus the packaged MiniLM's cosine (MiniLM alone loses to
BM25 on regulations; see bench/RERANKER.md). Without a corpus: MiniLM alone."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from server.errors import UsageError
from server.rerank.base import Reranker

__all__ = ["Reranker", "load_reranker", "read_card", "CARD", "ZERO_SHOT", "ZERO_SHOT_FUSED", "detect_kind"]

CARD = "readtrail-reranker.json"  # written by train-reranker: kind, base, data, metrics
ZERO_SHOT = "minilm-zero-shot"  # MiniLM cosine alone
ZERO_SHOT_FUSED = "bm25+minilm-zero-shot"  # the default: BM25 and MiniLM cosine summed (no labels)
KINDS = ("embedding", "cross-encoder", "fusion")


def read_card(folder: Path) -> dict:
    f = Path(folder) / CARD
    if not f.is_file():
        return {}
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UsageError(f"{f} is not valid JSON ({exc}): retrain or fix the model card") from exc


def detect_kind(folder: Path) -> str:
    """embedding / cross-encoder / fusion, from the card, else from the files a model folder has."""
    card = read_card(folder)
    if card.get("kind") in KINDS:
        return card["kind"]
    st_cfg = folder / "config_sentence_transformers.json"
    if st_cfg.is_file():
        cfg = json.loads(st_cfg.read_text(encoding="utf-8"))
        if cfg.get("model_type") == "CrossEncoder":
            return "cross-encoder"
    if (folder / "modules.json").is_file():
        return "embedding"
    cfg_file = folder / "config.json"
    if cfg_file.is_file():
        cfg = json.loads(cfg_file.read_text(encoding="utf-8"))
        if any(a.endswith("ForSequenceClassification") for a in cfg.get("architectures") or []):
            return "cross-encoder"
    raise UsageError(
        f"{folder} is not a reranker model folder: expected a {CARD} written by `readtrail train-reranker`, "
        "a sentence-transformers folder (modules.json) or a Hugging Face sequence-classification folder "
        "(config.json with a *ForSequenceClassification architecture)"
    )


def load_reranker(path: str | Path | None, corpus=None, cache_dir: Path | None = None,
                  max_seq_length: int | None = None) -> Reranker:
    """Build the reranker a folder describes; None: the zero-shot default (said on stderr). The one
    place a reranker is built (serving builds it through server.services). Passage vectors are cached
    under `cache_dir` (Settings.vector_cache; None: in memory only)."""
    from server.rerank.embedding import DEFAULT_MAX_SEQ, EmbeddingReranker, minilm_path

    cache = cache_dir
    if path is None or str(path) in ("", ZERO_SHOT, ZERO_SHOT_FUSED):
        embedder = EmbeddingReranker(minilm_path(), name=ZERO_SHOT, max_seq_length=max_seq_length or DEFAULT_MAX_SEQ,
                                     cache_dir=cache)
        if path is None:
            what = "BM25 + MiniLM cosine (label-free fusion)" if corpus is not None else "the MiniLM bi-encoder"
            print("readtrail: no trained reranker configured (--reranker, READTRAIL_RERANKER or train-reranker --into-index); using the zero-shot "
                  f"default: {what}", file=sys.stderr)
        if str(path) == ZERO_SHOT or corpus is None:
            return embedder
        from server.rerank.fusion import EQUAL_WEIGHTS, FusionReranker

        return FusionReranker(embedder, corpus, EQUAL_WEIGHTS, name=ZERO_SHOT_FUSED)
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise UsageError(f"reranker folder {folder} does not exist: give a folder written by `readtrail train-reranker`")
    if not (folder / CARD).is_file() and (folder / "LATEST").is_file():  # a train-reranker --out root
        folder = folder / (folder / "LATEST").read_text(encoding="utf-8").strip()
    kind = detect_kind(folder)
    card = read_card(folder)
    params = card.get("serving", {})
    if kind == "cross-encoder":
        from server.rerank.cross_encoder import CrossEncoderReranker

        return CrossEncoderReranker(folder, name=f"cross:{folder.name}", max_length=params.get("max_length", 256))
    if kind == "fusion":
        from server.rerank.fusion import FusionReranker

        base = card.get("embedding") or ZERO_SHOT
        embedder = load_reranker(ZERO_SHOT if base == ZERO_SHOT else folder / base, corpus, cache)
        if corpus is None:
            raise UsageError("a fusion reranker needs the corpus (its BM25 scores)")
        return FusionReranker.load(folder, embedder, corpus)  # type: ignore[arg-type]
    seq = max_seq_length or params.get("max_seq_length", DEFAULT_MAX_SEQ)
    adapter, encoder = card.get("query_adapter"), card.get("query_encoder")
    if adapter or encoder:  # a trained query side over a base embedding model (the packaged MiniLM by default)
        import numpy as np

        base = (adapter or encoder).get("base") or ZERO_SHOT
        rr = EmbeddingReranker(minilm_path() if base == ZERO_SHOT else base, name=f"embed:{folder.name}",
                               max_seq_length=seq, cache_dir=cache,
                               query_adapter=np.load(folder / adapter["file"]) if adapter else None,
                               query_encoder=folder / encoder["folder"] if encoder else None)
        rr.source = str(folder.resolve())  # what a fusion folder must reference (not the base weights)
        return rr
    return EmbeddingReranker(folder, name=f"embed:{folder.name}", max_seq_length=seq, cache_dir=cache)
