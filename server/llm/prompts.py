"""Prompt text files, loaded at run time with their version: the top-level prompts/ folder, which a
wheel ships as server/prompts/ (pyproject's package-dir), or a folder the user names (Settings.prompts)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["PromptText", "load_prompt", "prompts_dir"]


_SERVER = Path(__file__).resolve().parent.parent


def prompts_dir(override: Path | None = None) -> Path:
    """`override`, else the installed copy (server/prompts in a wheel), else the source tree's prompts/."""
    if override:
        return Path(override)
    installed = _SERVER / "prompts"
    return installed if installed.is_dir() else _SERVER.parent / "prompts"


@dataclass(frozen=True)
class PromptText:
    name: str
    text: str
    version: str  # first line "version: X" if present, plus a short content hash


@lru_cache(maxsize=32)
def load_prompt(name: str, folder: Path | None = None) -> PromptText:
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"bad prompt name {name!r}")
    path = prompts_dir(folder) / f"{name}.md"
    if not path.is_file():
        raise FileNotFoundError(f"prompt {path} is missing: reinstall readtrail or set READTRAIL_PROMPTS to the prompts folder")
    raw = path.read_text(encoding="utf-8")
    declared = "0"
    first, _, rest = raw.partition("\n")
    if first.lower().startswith("version:"):
        declared, raw = first.split(":", 1)[1].strip(), rest
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:8]
    return PromptText(name=name, text=raw.strip(), version=f"{declared}+{digest}")
