"""The model lock: a question's encode waits for the batch that is running, not for a bulk encoding."""
from __future__ import annotations

import threading
import time

from server.rerank.model_lock import ModelLock


def test_a_question_gets_the_model_between_two_batches_of_a_bulk_encoding() -> None:
    lock, stop, batches = ModelLock(), threading.Event(), [0]
    inside = threading.Event()

    def bulk() -> None:  # a warm-up: batch after batch, releasing the model only between them
        while not stop.is_set():
            with lock.hold(bulk=True):
                inside.set()
                batches[0] += 1
                time.sleep(0.02)

    t = threading.Thread(target=bulk)
    t.start()
    try:
        assert inside.wait(2)
        waits = []
        for _ in range(20):
            start = time.monotonic()
            with lock.hold():
                waits.append(time.monotonic() - start)
                time.sleep(0.005)
        # at most the running batch (20 ms) and scheduling; a plain Lock let the bulk thread take it again and again
        assert max(waits) < 0.5 and sorted(waits)[len(waits) // 2] < 0.1, waits
        seen = batches[0]
        time.sleep(0.1)
        assert batches[0] > seen  # the bulk encoding goes on once no question waits
    finally:
        stop.set()
        t.join(5)


def test_the_model_is_held_by_one_thread_at_a_time() -> None:
    lock, holders, worst = ModelLock(), [0], [0]

    def use(bulk: bool) -> None:
        for _ in range(50):
            with lock.hold(bulk=bulk):
                holders[0] += 1
                worst[0] = max(worst[0], holders[0])
                time.sleep(0.0005)
                holders[0] -= 1

    threads = [threading.Thread(target=use, args=(i % 2 == 0,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert worst[0] == 1 and not any(t.is_alive() for t in threads)
