"""`dss-iac --help` start-up time (target: under 0.3 s). Prints figures; asserts nothing."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def main() -> None:
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dataiku_iac", "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    print(f"dss-iac --help: median {statistics.median(times):.3f} s, best {min(times):.3f} s (target < 0.3 s)")


if __name__ == "__main__":
    main()
