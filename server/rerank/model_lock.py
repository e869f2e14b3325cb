"""One model, several threads: a lock under which a question's encodes go before a bulk encoding's next batch.

torch modules are not safe to call concurrently, so every encode takes the model. A plain
`threading.Lock` is not fair: a warm-up thread encoding a large corpus releases it after each batch and
takes it again before a waiting question's thread wakes, so a deep_search during a warm-up waited for most
of it (27 s against a 3 s budget on a 29k-passage folder under load). Here a bulk caller (the warm-up)
takes the model only while no question waits; a question waits at most for the batch that is running.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["ModelLock"]


class ModelLock:
    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._busy = False
        self._urgent = 0  # questions waiting for the model

    @contextmanager
    def hold(self, bulk: bool = False) -> Iterator[None]:
        """The model to this thread until the block ends; `bulk`: give way to every question waiting."""
        with self._cond:
            if not bulk:
                self._urgent += 1
            try:
                while self._busy or (bulk and self._urgent):
                    self._cond.wait()
            finally:
                if not bulk:
                    self._urgent -= 1
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
