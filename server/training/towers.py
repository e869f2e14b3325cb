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

import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["LinearTower", "EncoderTower", "TopLayersTower", "ADAPTER_FILE", "QUERY_ENCODER_DIR"]

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
        return torch.cat(out) if out else torch.zeros((0, (getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension)()))

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


class TopLayersTower(EncoderTower):
    """Both sides learn (`--kind top-layers`): the base model's top transformer layers are fine-tuned for
    questions AND passages, while its embeddings and lowest `frozen_layers` layers stay frozen. A passage's
    hidden states after the frozen layers never change, so they are computed once (`prepare`, no gradient,
    kept in memory as float16) and a training step runs only the top layers over them: with 4 of MiniLM's
    6 layers frozen, a step costs about a third of full fine-tuning and the passage side learns too. The
    result is an ordinary sentence-transformers folder (served as `embedding`); its passage vectors are new,
    so they are written into the serving cache at save time for every passage prepared here."""

    def __init__(self, base: str, max_seq_length: int, passage_max_seq_length: int, frozen_layers: int) -> None:
        super().__init__(base, max_seq_length, frozen_layers)
        self.passage_max_seq_length = passage_max_seq_length
        self.bert = self.model[0].auto_model
        self._states: dict[str, object] = {}
        self._keys: dict[str, str] = {}  # pid -> its cache key (id + hash of the stored text)

    def prepare(self, passages: dict, progress: bool = False, cache_root: Path | None = None, batch: int = 32) -> None:
        """The frozen layers' output for each passage (id -> Passage), computed once: read from the state
        cache under `cache_root` when an earlier run computed it, else run in batches of similar length."""
        import torch

        from server.rerank.cache import text_key
        from server.rerank.embedding import passage_text
        from server.training.state_cache import StateCache

        cache = StateCache(Path(cache_root) / self._frozen_key() if cache_root else None)
        todo, read = [], {}  # read: what the model reads of each passage still to compute
        for pid, p in passages.items():
            self._keys[pid] = text_key(pid, p.text)
            hit = cache.get(self._keys[pid])
            if hit is not None:
                self._states[pid] = torch.from_numpy(np.array(hit))
            else:
                todo.append(pid)
                read[pid] = passage_text(p)
        if progress:
            print(f"train-reranker: frozen-layer states: {len(passages) - len(todo)} cached, {len(todo)} to compute",
                  file=sys.stderr, flush=True)
        todo.sort(key=lambda pid: len(read[pid]))  # similar lengths per batch: little padding
        self.model.max_seq_length, qlen = self.passage_max_seq_length, self.model.max_seq_length
        t0, shown, pending = time.monotonic(), 0.0, []
        try:
            for i in range(0, len(todo), batch):
                ids = todo[i:i + batch]
                feats = self.model.preprocess([read[pid] for pid in ids])
                with torch.no_grad():
                    out = self.bert(input_ids=feats["input_ids"], attention_mask=feats["attention_mask"],
                                    token_type_ids=feats.get("token_type_ids"), output_hidden_states=True)
                hk = out.hidden_states[self.frozen_layers]
                rows = [hk[r, :int(feats["attention_mask"][r].sum())].to(torch.float16).clone() for r in range(len(ids))]
                self._states.update(zip(ids, rows))
                pending += ids
                if len(pending) >= 1024 or i + batch >= len(todo):  # one file per ~1,000 passages
                    cache.put_many([self._keys[pid] for pid in pending],
                                   [self._states[pid].numpy() for pid in pending])
                    pending = []
                if progress and time.monotonic() - shown > 15:
                    shown = time.monotonic()
                    print(f"train-reranker: frozen-layer states {min(i + batch, len(todo))}/{len(todo)} passages "
                          f"{shown - t0:.0f}s", file=sys.stderr, flush=True)
        finally:
            self.model.max_seq_length = qlen

    def _frozen_key(self) -> str:
        """What the stored states depend on: the frozen weights themselves (a model trained by this tower
        has the same ones as its base, so continuing from it reuses the states) and the token limit."""
        import hashlib

        h = hashlib.blake2b(digest_size=10)
        for name, p in self.model.named_parameters():
            if not p.requires_grad:
                h.update(name.encode("utf-8"))
                h.update(p.detach().numpy().tobytes())
        return f"{h.hexdigest()}-{self.passage_max_seq_length}"

    def passage_vectors(self, ids: list[str], grad: bool = True, batch: int = 128):
        """Unit vectors for prepared passages: the top layers over their stored states, mean-pooled."""
        import torch

        out = []
        for i in range(0, len(ids), batch):
            states = [self._states[pid].float() for pid in ids[i:i + batch]]
            width = max(s.shape[0] for s in states)
            h = torch.zeros((len(states), width, states[0].shape[1]))
            mask = torch.zeros((len(states), width), dtype=torch.long)
            for r, s in enumerate(states):
                h[r, :s.shape[0]], mask[r, :s.shape[0]] = s, 1
            with torch.set_grad_enabled(grad):
                out.append(self._top(h, mask))
        return torch.cat(out)

    def _top(self, h, mask):
        import torch

        ext, _ = self.bert._create_attention_masks(attention_mask=mask, encoder_attention_mask=None, embedding_output=h,
                                                   encoder_hidden_states=None, cache=None)
        for layer in self.bert.encoder.layer[self.frozen_layers:]:
            h = layer(h, attention_mask=ext)
            h = h[0] if isinstance(h, tuple) else h
        features = {"token_embeddings": h, "attention_mask": mask}
        for module in list(self.model)[1:]:  # the model's own pooling (and normalisation), whatever the base uses
            features = module(features)
        return torch.nn.functional.normalize(features["sentence_embedding"], dim=1)

    def save(self, folder: Path, base_ref: str) -> dict:
        self.model.max_seq_length = self.passage_max_seq_length  # what serving reads passages with
        self.model.save(str(folder))
        return {}

    def warm_serving_cache(self, folder: Path, cache_root: Path | None) -> int:
        """Write the saved model's vectors of every prepared passage where serving looks for them (the same
        numbers as encoding them afresh, up to float16 rounding of the stored states), so that evaluation
        and serving do not re-encode the corpus after training."""
        if cache_root is None or not self._states:
            return 0
        from server.rerank.cache import VectorCache, model_key

        cache = VectorCache(Path(cache_root) / model_key(folder, self.passage_max_seq_length))
        ids = list(self._states)
        self.train(False)
        for i in range(0, len(ids), 1024):
            part = ids[i:i + 1024]
            vecs = self.passage_vectors(part, grad=False).numpy()
            cache.put_many([self._keys[pid] for pid in part], vecs)
        return len(ids)
