"""readtrail's read side: questions -> evidence (see server/services.py for how it is assembled)."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("readtrail")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
