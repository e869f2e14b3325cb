"""The wheel ships every package and the prompts (a non-editable install has no source tree)."""
from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for top in ("graph", "server")
             for p in (REPO / top).rglob("__init__.py")}
    assert found - listed == set(), "package folders the wheel would leave out"
    assert config["package-dir"]["server.prompts"] == "prompts"
    assert list((REPO / "prompts").glob("*.md")), "no prompt files to ship"
