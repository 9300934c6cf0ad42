"""Run every benchmark and rewrite benchmarks/RESULTS.md.

python benchmarks/run.py           # full: import rates, 5M-event memory, 10M-event history
python benchmarks/run.py --quick   # small sizes, a few minutes
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        runs = [
            ["bench_import.py", "--batteries", "5000", "--repeat", "3"],
            ["bench_scale.py", "--events", "1000000", "--queries", "1000"],
        ]
    else:
        runs = [
            ["bench_import.py", "--batteries", "40000", "--repeat", "3"],
            ["bench_scale.py", "--events", "5000000"],
            ["bench_scale.py", "--events", "10000000"],
        ]
    for script, *rest in runs:
        print(f"== {script} {' '.join(rest)}", flush=True)
        subprocess.run(
            [sys.executable, "-m", f"benchmarks.{script[:-3]}", *rest], check=True, cwd=HERE.parent
        )


if __name__ == "__main__":
    main()
