"""What a query-side trainer moves while passages stay frozen (their vectors are the base model's, cached):

- `LinearTower`: a linear map W (dim x dim, starting at the identity) on the base model's query vectors;
  an epoch costs milliseconds, capacity is small (`--kind adapter`).
- `EncoderTower`: a copy of the base model's transformer with its embeddings and lowest layers frozen,
  fine-tuned on the question text itself (`--kind query-encoder`). Questions are short, so a step is a
  forward/backward pass over ~30 tokens per question instead of 128-256 per passage: full fine-tuning of
  the query side fits a 2-core CPU, and the serving cache of passage vectors stays valid.

Both give unit-length query vectors as a torch tensor with gradients (`vectors(texts, grad=True)`), a
regularisation term, a snapshot of their trainable state (early stopping keeps the best one) and
`save(folder)`, which returns the model card's entry that `server.rerank.load_reranker` reads."""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["LinearTower", "EncoderTower", "ADAPTER_FILE", "QUERY_ENCODER_DIR"]

ADAPTER_FILE = "query_adapter.npy"
QUERY_ENCODER_DIR = "query-encoder"


class LinearTower:
    def __init__(self, qvec: dict[str, np.ndarray], dim: int, l2: float) -> None:
        import torch

        self.qvec, self.l2 = qvec, l2
        self.w = torch.nn.Parameter(torch.eye(dim))
        self._ident = torch.eye(dim)

    def parameters(self) -> list:
        return [self.w]

    def vectors(self, texts: list[str], grad: bool = True):
        import torch

        q = torch.tensor(np.stack([self.qvec[t] for t in texts]))
        with torch.set_grad_enabled(grad):
            return torch.nn.functional.normalize(q @ self.w.T, dim=1)

    def regulariser(self):
        return self.l2 * ((self.w - self._ident) ** 2).sum()

    def snapshot(self) -> dict:
        return {"w": self.w.detach().clone()}

    def restore(self, state: dict) -> None:
        with __import__("torch").no_grad():
            self.w.copy_(state["w"])

    def train(self, on: bool) -> None:
        pass

    def save(self, folder: Path, base_ref: str) -> dict:
        np.save(Path(folder) / ADAPTER_FILE, self.w.detach().numpy().astype(np.float32))
        return {"query_adapter": {"file": ADAPTER_FILE, "base": base_ref}}


class EncoderTower:
    def __init__(self, base: str, max_seq_length: int, frozen_layers: int) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(base, device="cpu", local_files_only=True)
        self.model.max_seq_length = max_seq_length
        self.frozen_layers = frozen_layers
        for name, p in self.model.named_parameters():
            layer = _layer_number(name)
            if "embeddings" in name or (layer is not None and layer < frozen_layers):
                p.requires_grad = False
        self._trainable = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]

    def parameters(self) -> list:
        return [p for _, p in self._trainable]

    def vectors(self, texts: list[str], grad: bool = True, batch: int = 64):
        import torch

        out = []
        for i in range(0, len(texts), batch):
            features = self.model.preprocess(texts[i:i + batch])
            with torch.set_grad_enabled(grad):
                out.append(torch.nn.functional.normalize(self.model(features)["sentence_embedding"], dim=1))
        return torch.cat(out) if out else torch.zeros((0, self.model.get_sentence_embedding_dimension()))

    def regulariser(self):
        return 0.0

    def snapshot(self) -> dict:
        return {n: p.detach().clone() for n, p in self._trainable}

    def restore(self, state: dict) -> None:
        import torch

        with torch.no_grad():
            for n, p in self._trainable:
                p.copy_(state[n])

    def train(self, on: bool) -> None:
        self.model.train(on)

    def save(self, folder: Path, base_ref: str) -> dict:
        self.model.save(str(Path(folder) / QUERY_ENCODER_DIR))
        return {"query_encoder": {"folder": QUERY_ENCODER_DIR, "base": base_ref, "frozen_layers": self.frozen_layers}}


def _layer_number(name: str) -> int | None:
    """The encoder layer a parameter belongs to ("...encoder.layer.3.attention..." -> 3), else None."""
    parts = name.split(".")
    for a, b in zip(parts, parts[1:]):
        if a == "layer" and b.isdigit():
            return int(b)
    return None
