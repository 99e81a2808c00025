"""Cost of each hostile playbook kind: `hubs-bot check` on that one file, whole process, wall
time and peak memory, beside the seed playbook measured the same way in the same run.

    python bench/bench_hostile.py [--runs 3]

The ratio column is against the seed (an ordinary 10 KB playbook): what one bad file costs
over a good one. Peak memory is the process's VmHWM (Linux).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile import run_cli_measured, write_hostile  # noqa: E402

SEED = ROOT / "seeds" / "regional-innovation-hubs.md"


def measure(path: Path, runs: int) -> tuple[float, float]:
    """Median wall seconds and peak MiB of `check` on one file."""
    walls, peaks = [], []
    for _ in range(runs):
        started = time.perf_counter()
        _code, _out, _err, peak_kib = run_cli_measured(["check", "--corpus", str(path)])
        walls.append(time.perf_counter() - started)
        peaks.append(peak_kib / 1024)
    return statistics.median(walls), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_hostile(Path(tmp))
        base_wall, base_peak = measure(SEED, args.runs)
        print(f"{'file':24} {'size':>9} {'wall s':>7} {'× seed':>7} {'peak MiB':>9} {'× seed':>7}")
        print(
            f"{'seed (baseline)':24} {SEED.stat().st_size:>9,} {base_wall:>7.2f} {1:>7.2f} "
            f"{base_peak:>9.1f} {1:>7.2f}"
        )
        for path in paths:
            wall, peak = measure(path, args.runs)
            print(
                f"{path.name:24} {path.stat().st_size:>9,} {wall:>7.2f} "
                f"{wall / base_wall:>7.2f} {peak:>9.1f} {peak / base_peak:>7.2f}"
            )
        wall, peak = measure(Path(tmp), args.runs)
        print(
            f"{'all of them at once':24} {'':>9} {wall:>7.2f} {wall / base_wall:>7.2f} "
            f"{peak:>9.1f} {peak / base_peak:>7.2f}"
        )


if __name__ == "__main__":
    main()
