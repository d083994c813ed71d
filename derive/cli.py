"""``python -m derive.check``: derive each op's gradient and check a backward against it.

Exit codes: 0 every requested op passed; 1 a check failed or a backward raised;
2 a usage error (unknown op, a target that cannot be imported, a bad option).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

__all__ = ["main"]


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(message)


def _parser():
    p = _Parser(prog="python -m derive.check",
                description="Derive each op's gradient with SymPy and cross-check a hand-written "
                            "backward against it on Hypothesis-generated shapes.")
    p.add_argument("ops", nargs="*", metavar="OP", help="op names or aliases, or 'all'")
    p.add_argument("--list", action="store_true", help="print the op catalog and exit")
    p.add_argument("--target", default="numeric",
                   help="numeric (default), numeric.backward, torch, module, module:attr or file.py")
    p.add_argument("--style", choices=["functions", "tensor", "function-class"],
                   help="force the target's style (default: detected)")
    p.add_argument("--examples", type=int, default=100, help="Hypothesis examples per op (default 100)")
    p.add_argument("--seed", type=int, help="seed for a reproducible run (a seeded run neither reads nor writes the database)")
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"],
                   help="dtype of the inputs given to the target")
    p.add_argument("--format", default="text", choices=["text", "json", "markdown"])
    db = p.add_mutually_exclusive_group()
    db.add_argument("--database", metavar="PATH",
                    help="Hypothesis example database (failing examples are replayed first)")
    db.add_argument("--no-database", action="store_true", help="do not read or write an example database")
    return p


def _catalog_lines(fmt):
    from .catalog import ops
    rows = []
    for op in ops():
        inputs = ", ".join(i.name + ("" if i.differentiable else " (not differentiable)") for i in op.inputs)
        evidence = "exact, numeric" if op.exact else "numeric"
        generic = "symbolic sizes" if op.shape_generic else "per concrete shape"
        rows.append((op.name, ", ".join(op.aliases), inputs, ", ".join(op.params), op.doc, evidence, generic))
    if fmt == "markdown":
        out = ["| op | aliases | inputs | params | definition | evidence | derived for |",
               "|---|---|---|---|---|---|---|"]
        out += ["| `{}` | {} | {} | {} | {} | {} | {} |".format(*r) for r in rows]
        return out
    if fmt == "json":
        keys = ("op", "aliases", "inputs", "params", "doc", "evidence", "derived_for")
        return [json.dumps([dict(zip(keys, r)) for r in rows], indent=2)]
    width = max(len(r[0]) for r in rows)
    return [f"{r[0]:<{width}}  {r[4]}" + (f"  [aliases: {r[1]}]" if r[1] else "") for r in rows]


def _database(args):
    if args.no_database:
        return None
    from hypothesis.database import DirectoryBasedExampleDatabase
    path = args.database or os.path.join(".hypothesis", "derive")
    return DirectoryBasedExampleDatabase(path)


def _resolve_ops(names):
    from .catalog import get_op, ops
    if not names:
        raise _UsageError("name at least one op (or 'all'); --list shows the catalog")
    if "all" in names:
        return ops()
    resolved = []
    for n in names:
        try:
            resolved.append(get_op(n))
        except ValueError as exc:
            raise _UsageError(str(exc)) from None
    return resolved


def _run(argv):
    args = _parser().parse_args(argv)
    if args.list:
        print("\n".join(_catalog_lines(args.format)))
        return 0
    if args.examples < 1:
        raise _UsageError(f"--examples must be at least 1, got {args.examples}")
    selected = _resolve_ops(args.ops)
    from .targets import TargetError, load_target
    from .verify import check
    try:
        target = load_target(args.target, args.style)
    except TargetError as exc:
        raise _UsageError(str(exc)) from None
    database = _database(args)
    reports = []
    many = len(selected) > 1
    start = time.perf_counter()
    for op in selected:
        report = check(op, target=target, examples=args.examples, seed=args.seed, dtype=args.dtype,
                       database=database)
        reports.append(report)
        if args.format == "text":
            if many:
                print(report.verdict(), flush=True)
                for f in report.failures:
                    print(f.describe(), flush=True)
            else:
                print(report, flush=True)
    elapsed = time.perf_counter() - start
    passed = sum(1 for r in reports if r)
    failed = sum(1 for r in reports if r.status in ("fail", "error"))
    skipped = sum(1 for r in reports if r.status == "skipped")
    if args.format == "json":
        print(json.dumps({"target": target.name, "style": target.style,
                          "ops": [r.to_dict() for r in reports], "passed": passed, "failed": failed,
                          "skipped": skipped, "seconds": round(elapsed, 3)}, indent=2))
    elif args.format == "markdown":
        print(f"Target: `{target.name}` ({target.style})\n")
        print("| op | status | examples | evidence | first failure |")
        print("|---|---|---|---|---|")
        for r in reports:
            ev = ", ".join(f"{k} {v}" for k, v in r.evidence.items())
            first = r.failures[0].message.replace("|", "\\|") if r.failures else r.message
            print(f"| `{r.op}` | {r.status} | {r.examples} | {ev} | {first} |")
    elif many:
        print(f"{passed} passed, {failed} failed, {skipped} skipped in {elapsed:.1f}s (target {target.name})")
    return 0 if passed == len(reports) else 1


def main(argv=None):
    """Entry point of ``python -m derive.check`` and the ``derive-check`` script."""
    try:
        return _run(sys.argv[1:] if argv is None else argv)
    except _UsageError as exc:
        print(f"derive.check: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("derive.check: interrupted", file=sys.stderr)
        return 130
