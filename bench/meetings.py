"""The B2B meeting scheduler (issue 13) on seeded random events, greedy baseline vs CP-SAT.

    python bench/meetings.py [--time-limit 20] [--markdown]

Two events: 300 participants, 1,000 accepted requests, 16 slots and 40 tables (the target:
<= 30 s with at least as many meetings as greedy), and 1,000 participants with 5,000
requests.  Participants come two per organisation; each is available for a random 80% of the
slots; match scores are uniform in [0, 1]; cap 8 meetings per person.  Every schedule is
checked against every rule (``scheduler.violations``) before it is reported.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from marketplace.calendar import scheduler  # noqa: E402

CASES = [(300, 1000, 16, 40), (1000, 5000, 16, 40)]


def instance(people: int, requests: int, slots: int, tables: int, seed: int = 1):
    rng = random.Random(seed)
    organization = {p: p // 2 for p in range(people)}
    seen, rows = set(), []
    while len(rows) < requests:
        a, b = rng.sample(range(people), 2)
        if organization[a] == organization[b] or frozenset((a, b)) in seen:
            continue
        seen.add(frozenset((a, b)))
        rows.append(scheduler.Request(len(rows) + 1, (a, b), (organization[a], organization[b]),
                                      rng.random()))
    available = {p: frozenset(s for s in range(slots) if rng.random() < 0.8)
                 for p in range(people)}
    return scheduler.Instance(list(range(slots)), tables, 8, rows, available)


def summary(inst, slots_of: dict[int, int]) -> dict:
    requests = {r.id: r for r in inst.requests}
    covered = {p for i in slots_of for p in requests[i].people}
    asked = {p for r in inst.requests for p in r.people}
    return {"meetings": len(slots_of), "covered": len(covered), "asked": len(asked),
            "score": sum(requests[i].score for i in slots_of),
            "objective": scheduler._value(inst, slots_of)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--time-limit", type=float, default=20.0)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, time limit {args.time_limit} s, "
          f"load {os.getloadavg()[0]:.2f}")
    print("| participants | requests | slots x tables | greedy meetings | greedy s | "
          "CP-SAT meetings | CP-SAT s | ratio | people with >= 1 (greedy / CP-SAT) | "
          "sum of scores (greedy / CP-SAT) | CP-SAT status |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---|---|---|")
    for people, requests, slots, tables in CASES:
        inst = instance(people, requests, slots, tables)
        started = time.perf_counter()
        greedy = scheduler.greedy(inst)
        greedy_s = time.perf_counter() - started
        started = time.perf_counter()
        result = scheduler.solve(inst, time_limit=args.time_limit)
        solve_s = time.perf_counter() - started
        assert scheduler.violations(inst, result.schedule) == []
        assert scheduler.violations(inst, scheduler.assign_tables(inst, greedy, {})) == []
        g = summary(inst, greedy)
        c = summary(inst, {i: slot for i, (slot, _) in result.schedule.items()})
        print(f"| {people:,} | {requests:,} | {slots} x {tables} | {g['meetings']:,} | "
              f"{greedy_s:.2f} | {c['meetings']:,} | {solve_s:.1f} | "
              f"{c['meetings'] / g['meetings']:.3f} | {g['covered']} / {c['covered']} of "
              f"{g['asked']} | {g['score']:.0f} / {c['score']:.0f} | {result.status} "
              f"({result.solver}) |")


if __name__ == "__main__":
    main()
