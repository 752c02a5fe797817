"""Several runs at once on one state backend: threads released together, and a read-modify-write loop.

Light on purpose: the conformance suite runs `increment` in processes of their own, which import only this.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from dataiku_iac.state.blobs import ABSENT, BlobConflict, BlobStore


def in_threads(n: int, work: Callable[[int], object]) -> list[object]:
    """Run work(0..n-1) in n threads released at the same instant; each result, or the exception it raised."""
    start = threading.Barrier(n)
    results: list[object] = [None] * n

    def body(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except Exception as e:
            results[i] = e

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def increment(blobs: BlobStore, times: int) -> None:
    """Read-modify-write a counter `times` times, reading again after each conflict."""
    for _ in range(times):
        while True:
            got = blobs.get("counter")
            try:
                blobs.put("counter", str(int(got[0]) + 1 if got else 1).encode(), expect=got[1] if got else ABSENT)
                break
            except BlobConflict:
                continue
