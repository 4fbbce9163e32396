"""`make mutation`: mutmut over the domain modules, sampled, with a per-module summary.

    python scripts/mutation.py                     # the fixed-seed sample of each module (SAMPLE), SQLite
    python scripts/mutation.py --sample 0          # every mutant (hours on a small machine)
    python scripts/mutation.py --db postgres       # on PostgreSQL (DATABASE_URL or --pg-url)
    python scripts/mutation.py --only offers.services --sample 0
    python scripts/mutation.py --db postgres --match 'booking.availability.x__busy_rows*' --sample 0
    python scripts/mutation.py --unfinished        # recheck survivors, timeouts and unchecked ones
    python scripts/mutation.py --report            # summarise the last run only

mutmut (configured in pyproject.toml, [tool.mutmut]) copies the project into
mutants/, mutates the functions of booking/availability.py, booking/services.py,
offers/services.py and payments/ (services, reconcile, webhooks, gateway), runs
the tests of tests/booking, tests/offers and tests/payments once to learn which tests reach which
function, then runs only those tests against each mutant. Functions wrapped
by a decorator (the @transaction.atomic services) are not mutated by mutmut 3.

Sampling: mutants are drawn per module with a fixed seed (--seed), so a rerun
checks the same mutants; results accumulate in mutants/ across runs. The test
database is created once and reused (--reuse-db) by every mutant's run.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
MODULES = {
    "booking.availability": "booking/availability.py",
    "booking.services": "booking/services.py",
    "offers.services": "offers/services.py",
    "payments.services": "payments/services.py",
    "payments.reconcile": "payments/reconcile.py",
    "payments.webhooks": "payments/webhooks.py",
    "payments.gateway": "payments/gateway.py",
}
# Mutants sampled per module unless --sample is given. payments/ (~1,130 mutants) is
# sized so that its sample finishes in about 50 minutes on the shared 2-core machine.
SAMPLE = {"payments.services": 30, "payments.reconcile": 15, "payments.webhooks": 10, "payments.gateway": 15}
DEFAULT_SAMPLE = 60
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", None: "not checked"}


def mutmut(*args: str, env: dict) -> int:
    command = [sys.executable, "-m", "mutmut", *args]
    print("$", " ".join(command[:6]) + (" ..." if len(command) > 6 else ""), flush=True)
    return subprocess.call(command, cwd=ROOT, env=env)


def load(module: str) -> dict[str, int | None]:
    meta = MUTANTS / (MODULES[module] + ".meta")
    if not meta.exists():
        return {}
    return json.loads(meta.read_text())["exit_code_by_key"]


def environment(args) -> dict:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)  # the database cache: no shared Redis db between mutants
    if args.db == "sqlite":
        env.pop("DATABASE_URL", None)
        env["PHYSIOBOOK_SQLITE_RUN"] = "1"
        env["TEST_DATABASE_NAME"] = str(ROOT / "artifacts" / "mutation-test.sqlite3")
    else:
        env["DATABASE_URL"] = args.pg_url or env.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/test"
        env["TEST_DATABASE_NAME"] = args.pg_test_db
    env["PYTEST_ADDOPTS"] = (env.get("PYTEST_ADDOPTS", "") + " --reuse-db").strip()
    return env


def sample(args) -> list[str]:
    names = []
    for module in args.only or MODULES:
        keys = sorted(load(module))
        if args.match:
            keys = [key for key in keys if any(fnmatch.fnmatch(key, pattern) for pattern in args.match)]
        size = SAMPLE.get(module, DEFAULT_SAMPLE) if args.sample is None else args.sample
        if size and len(keys) > size:
            keys = sorted(random.Random(f"{args.seed}:{module}").sample(keys, size))
        if args.unfinished:
            results = load(module)
            keys = [key for key in keys if STATUS.get(results.get(key)) != "killed"]
        names += keys
    return names


def report(modules) -> int:
    """Print per-module counts; exit 1 if a checked module kills under 95 % of what it checked."""
    print()
    print(f"{'module':24} {'generated':>9} {'checked':>8} {'killed':>7} {'survived':>9} {'timeout':>8} {'no tests':>9} {'score':>6}")
    below = False
    survivors = []
    for module in modules:
        results = load(module)
        counts = Counter(STATUS.get(code, "suspicious") for code in results.values())
        checked = sum(n for status, n in counts.items() if status != "not checked")
        killed = counts["killed"] + counts["timeout"]
        scored = killed + counts["survived"]
        score = f"{100 * killed / scored:.0f} %" if scored else "-"
        print(f"{module:24} {len(results):>9} {checked:>8} {counts['killed']:>7} {counts['survived']:>9} "
              f"{counts['timeout']:>8} {counts['no tests']:>9} {score:>6}")
        survivors += [name for name, code in results.items() if STATUS.get(code) == "survived"]
        below = below or (scored and killed / scored < 0.95)
    if survivors:
        print("\nSurvivors (see each with: .venv/bin/mutmut show NAME):")
        for name in sorted(survivors):
            print("  ", name)
    return 1 if below else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default="")
    parser.add_argument("--pg-test-db", default="test_physiobook_mutation")
    parser.add_argument("--sample", type=int, default=None,
                        help=f"mutants per module (0 = all; default {DEFAULT_SAMPLE}, payments/ see SAMPLE)")
    parser.add_argument("--seed", default="physiobook")
    parser.add_argument("--only", action="append", choices=list(MODULES), help="a module (repeatable)")
    parser.add_argument("--match", action="append", help="only mutants whose name matches this glob (repeatable)")
    parser.add_argument("--unfinished", action="store_true",
                        help="of the sample, only mutants not yet killed (after adding tests, or an interrupted run)")
    parser.add_argument("--max-children", default="1", help="mutants tested at once (default 1: a shared machine)")
    parser.add_argument("--report", action="store_true", help="only summarise the last run")
    args = parser.parse_args()
    modules = args.only or list(MODULES)
    if args.report:
        return report(modules)

    (ROOT / "artifacts").mkdir(exist_ok=True)
    env = environment(args)
    if not all(load(module) for module in MODULES):
        # First run: mutmut generates every mutant and learns which tests reach which
        # function; checking one mutant is the cheapest way to make it do that.
        mutmut("run", "--max-children", args.max_children, "offers.services.x_normalise_email__mutmut_1", env=env)
    names = sample(args)
    print(f"checking {len(names)} mutants", flush=True)
    status = mutmut("run", "--max-children", args.max_children, *names, env=env)
    if status not in (0, 1):
        print(f"mutmut exited {status}", file=sys.stderr)
    return report(modules)


if __name__ == "__main__":
    sys.exit(main())
