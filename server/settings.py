"""Where things live: the index folder, the bundled sample corpus, readtrail's home."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings", "SAMPLE_CORPUS", "readtrail_home"]

SAMPLE_CORPUS = Path(__file__).resolve().parent / "sample_corpus"


def readtrail_home() -> Path:
    """$READTRAIL_HOME, else ~/.cache/readtrail: the sample index, feedback, trained models."""
    env = os.environ.get("READTRAIL_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "readtrail"


@dataclass(frozen=True)
class Settings:
    index: Path  # the index folder to serve
    is_sample: bool  # True: the bundled sample corpus, indexed on first use

    @classmethod
    def resolve(cls, index: str | Path | None) -> Settings:
        """--index, else $READTRAIL_INDEX, else the sample corpus index under readtrail_home()."""
        chosen = index or os.environ.get("READTRAIL_INDEX")
        if chosen:
            return cls(index=Path(chosen).expanduser().resolve(), is_sample=False)
        return cls(index=readtrail_home() / "sample-index", is_sample=True)
