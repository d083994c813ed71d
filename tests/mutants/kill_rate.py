"""Print the verifier's kill rate on the mutant zoo, per family.

    python tests/mutants/kill_rate.py [--examples N] [--seeds K]

A mutant is killed when the check fails (a wrong entry, a wrong shape, a
modified argument, an exception); a pass or a skip is a survivor.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import types
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import derive  # noqa: E402
from derive.targets import FunctionsTarget  # noqa: E402
from mutants.zoo import MUTANTS  # noqa: E402


def run_mutant(m, examples=100, seed=None):
    """The report of checking mutant ``m`` with the default settings."""
    target = FunctionsTarget(types.SimpleNamespace(**{derive.get_op(m.op).name: m.backward}), m.name)
    return derive.check(m.op, target=target, examples=examples, seed=seed, database=None, ties=m.ties)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=1, help="repeat with this many seeds (0, 1, ...)")
    args = parser.parse_args(argv)
    killed, total = defaultdict(int), defaultdict(int)
    survivors = []
    start = time.perf_counter()
    for m in MUTANTS:
        for seed in range(args.seeds):
            report = run_mutant(m, args.examples, seed if args.seeds > 1 else None)
            total[m.family] += 1
            if report.status == "fail":
                killed[m.family] += 1
            else:
                survivors.append((m.name, seed, report.status, report.message))
    print("| family | runs (mutants x seeds) | killed | kill rate |")
    print("|---|---|---|---|")
    for family in sorted(total):
        print(f"| {family} | {total[family]} | {killed[family]} | {killed[family] / total[family]:.0%} |")
    k, t = sum(killed.values()), sum(total.values())
    print(f"| **all** | {t} | {k} | {k / t:.1%} |")
    print(f"\n{len(MUTANTS)} mutants x {args.seeds} seed(s), {args.examples} examples, "
          f"{time.perf_counter() - start:.1f}s")
    for name, seed, status, message in survivors:
        print(f"survivor: {name} (seed {seed}): {status} {message}")
    return 0 if not survivors else 1


if __name__ == "__main__":
    sys.exit(main())
