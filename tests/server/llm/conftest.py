"""The packaged test GGUF (SmolLM2-135M), loaded once per module; skipped where it is not installed."""
from __future__ import annotations

import pytest

from server.llm.chat import LlamaChat
from server.llm.registry import ModelError, resolve_model_path


@pytest.fixture(scope="module")
def smollm2(tmp_path_factory: pytest.TempPathFactory) -> LlamaChat:
    try:
        path = resolve_model_path("smollm2-135m", tmp_path_factory.mktemp("models"))
    except ModelError as exc:
        pytest.skip(f"SmolLM2 is not available: {exc}")
    return LlamaChat(path, n_ctx=2048)  # threads by load: two on a loaded CPU are far slower
