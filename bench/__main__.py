"""`python -m bench NAME [options]`: run one benchmark (`python -m bench` lists them)."""

from __future__ import annotations

import importlib
import sys

# name -> module with a main(argv) function
BENCHMARKS = {
    "timeseries": "bench.timeseries",
    "tsbs": "bench.tsbs",
    "server": "bench.server",
    "tiers": "bench.tiers",
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in BENCHMARKS:
        print("usage: python -m bench {" + ",".join(sorted(BENCHMARKS)) + "} [options]")
        return 2
    return importlib.import_module(BENCHMARKS[argv[0]]).main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
