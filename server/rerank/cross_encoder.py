"""Cross-encoder reranking: any local sentence-transformers CrossEncoder folder or Hugging Face
sequence-classification folder (a bge-reranker works unchanged)."""
from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

from graph.model import Passage
from server.rerank.embedding import passage_text

__all__ = ["CrossEncoderReranker"]


class CrossEncoderReranker:
    def __init__(self, model_path: str | Path, name: str | None = None, max_length: int = 256,
                 batch_size: int = 16) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import CrossEncoder

        self.model_path = str(model_path)
        self.model = CrossEncoder(self.model_path, device="cpu", max_length=max_length, local_files_only=True)
        self.batch_size = batch_size
        self.name = name or f"cross:{model_path}"
        self._lock = threading.Lock()

    def score(self, query: str, passages: Sequence[Passage]) -> list[float]:
        if not passages:
            return []
        pairs = [(query, passage_text(p)) for p in passages]
        with self._lock:
            scores = self.model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False,
                                        convert_to_numpy=True)
        return [float(s) for s in scores.reshape(len(passages), -1)[:, -1]]
