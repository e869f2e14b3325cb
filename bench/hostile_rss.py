"""Peak memory of `readtrail index` on one large plain-text file (generated in a temp folder).

    python bench/hostile_rss.py [--mb 100]

Prints the file size, seconds, the child's peak RSS (getrusage RUSAGE_CHILDREN, measured in a
fresh Python so that only this run counts) and the indexer's own summary lines.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["write_large_text", "index_peak_rss"]

READTRAIL = str(Path(sys.executable).with_name("readtrail"))
_PROBE = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "out = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "print(json.dumps([resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, time.perf_counter() - t,"
    " out.returncode, out.stderr[-3000:]]))\n"
)


def write_large_text(path: Path, size: int) -> None:
    """About `size` bytes of paragraphs, each citing a section, in one file."""
    para = ("The ward keeps a record of every visit and every dose given to a patient, see Section 4.2. " * 5).strip()
    block = ("\n\n".join(para for _ in range(100)) + "\n\n").encode()
    with path.open("wb") as f:
        for _ in range(size // len(block) + 1):
            f.write(block)


def index_peak_rss(source: Path, index: Path, timeout: float = 1800) -> tuple[float, float, int, str]:
    """(peak RSS in MB, seconds, exit code, stderr tail) of `readtrail index SOURCE --index INDEX`."""
    probe = subprocess.run([sys.executable, "-c", _PROBE, READTRAIL, "index", str(source), "--index", str(index)],
                           capture_output=True, text=True, timeout=timeout)
    rss, seconds, rc, err = json.loads(probe.stdout)
    return rss, seconds, rc, err


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, default=100)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src" / "large.txt"
        src.parent.mkdir()
        write_large_text(src, a.mb * 1024 * 1024)
        rss, seconds, rc, err = index_peak_rss(src, Path(tmp) / "index")
        size = src.stat().st_size / 1e6
    tail = [ln for ln in err.replace("\r", "\n").splitlines() if ln.startswith(("indexed", "  references"))]
    print(json.dumps({"file_mb": round(size, 1), "seconds": round(seconds, 1), "peak_rss_mb": round(rss), "exit": rc}))
    print("\n".join(tail))
    sys.exit(rc)


if __name__ == "__main__":
    main()
