"""Threads by load: every core when idle, one when other work holds the cores."""
from __future__ import annotations

import pytest

from server import cpu


@pytest.mark.parametrize("others, cores, limit, want", [
    (0.0, 2, 2, 2), (0.4, 2, 2, 2), (0.6, 2, 2, 1), (2.0, 2, 2, 1), (7.0, 2, 2, 1),
    (1.0, 8, 8, 7), (0.0, 8, 4, 4), (0.0, 1, 2, 1),
])
def test_threads_for_load(monkeypatch: pytest.MonkeyPatch, others: float, cores: int, limit: int, want: int) -> None:
    monkeypatch.setattr(cpu, "others_running", lambda: others)
    monkeypatch.setattr(cpu.os, "cpu_count", lambda: cores)
    assert cpu.threads_for_load(limit) == want


def test_others_running_reads_the_machine() -> None:
    assert cpu.others_running() >= -1.0
