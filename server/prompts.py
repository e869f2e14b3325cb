"""Prompt text files from the top-level prompts/ folder, loaded at run time with their version."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["PromptText", "load_prompt", "prompts_dir"]


def prompts_dir() -> Path:
    override = os.environ.get("READTRAIL_PROMPTS")
    return Path(override) if override else Path(__file__).resolve().parent.parent / "prompts"


@dataclass(frozen=True)
class PromptText:
    name: str
    text: str
    version: str  # first line "version: X" if present, plus a short content hash


@lru_cache(maxsize=32)
def load_prompt(name: str) -> PromptText:
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"bad prompt name {name!r}")
    path = prompts_dir() / f"{name}.md"
    if not path.is_file():
        raise FileNotFoundError(f"prompt {path} is missing: reinstall readtrail or set READTRAIL_PROMPTS to the prompts folder")
    raw = path.read_text(encoding="utf-8")
    declared = "0"
    first, _, rest = raw.partition("\n")
    if first.lower().startswith("version:"):
        declared, raw = first.split(":", 1)[1].strip(), rest
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:8]
    return PromptText(name=name, text=raw.strip(), version=f"{declared}+{digest}")
