"""Mutation scores per module from ``mutmut results --all true`` (stdin), for
bench/mutation.sh. MUTATION_TARGETS holds one ``module=glob glob…`` line per module.

Killed: a test failed, or the mutant hung and timed out. Every other mutant that ran (it
survived, or no test reaches it) counts against the score; mutants not run are left out."""

from __future__ import annotations

import fnmatch
import os
import sys

KILLED = ("killed", "timeout")
NOT_RUN = ("not checked", "skipped")


def main() -> int:
    targets = dict(
        line.split("=", 1) for line in os.environ["MUTATION_TARGETS"].splitlines() if line
    )
    status: dict[str, str] = {}
    for line in sys.stdin:
        name, _, state = line.strip().rpartition(": ")
        if name:
            status[name] = state
    print(f"{'module':<20} {'killed':>7} {'ran':>5} {'score':>7}")
    survivors: list[str] = []
    for module, patterns in targets.items():
        ran = {
            name: state
            for name, state in status.items()
            if state not in NOT_RUN and any(fnmatch.fnmatch(name, p) for p in patterns.split())
        }
        if not ran:
            print(f"{module:<20} {'-':>7} {'-':>5} {'not run':>7}")
            continue
        killed = sum(state in KILLED for state in ran.values())
        print(f"{module:<20} {killed:>7} {len(ran):>5} {100 * killed / len(ran):>6.1f}%")
        survivors += [f"  {name}: {state}" for name, state in ran.items() if state not in KILLED]
    if survivors:
        print("\nnot killed (look at one with: .venv/bin/mutmut show NAME)")
        print("\n".join(survivors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
