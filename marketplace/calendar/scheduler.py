"""The B2B meeting scheduler: accepted meeting requests to (slot, table), with no database.

The rules every schedule keeps (``violations`` checks them, for the scheduler's own result,
for a manual move and in the property tests):

- a person, and an organisation, is in at most one meeting per slot;
- a slot holds at most ``tables`` meetings, one per table;
- a meeting is in a slot both people are available for;
- nobody has more than ``cap`` meetings;
- a declined pair of people never meets.

What is maximised: meetings, each worth a fixed amount plus its match score, plus a bonus for
every person who has at least one (so that people with a single request are not left out
for a second meeting of someone with ten).  ``greedy`` is the baseline; ``solve`` hands the
same instance to OR-Tools CP-SAT, hinted with the greedy schedule and never accepting fewer
meetings, and falls back to the greedy one if CP-SAT finds nothing better in time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

# The objective's weights, in whole numbers (CP-SAT wants integers).
MEETING_VALUE = 1000  # any meeting
SCORE_VALUE = 100  # times the match score (0..1)
COVERAGE_VALUE = 600  # a person's first meeting


@dataclass(frozen=True)
class Request:
    id: int
    people: tuple[int, int]
    organizations: tuple[int, int]
    score: float = 0.0


@dataclass
class Instance:
    slots: list[int]  # in time order
    tables: int
    cap: int
    requests: list[Request]
    # Each person's available slots; a person missing here is available for all of them.
    available: dict[int, frozenset[int]] = field(default_factory=dict)
    declined: frozenset[frozenset[int]] = frozenset()  # pairs of people

    def slots_for(self, request: Request) -> list[int]:
        a, b = request.people
        everything = frozenset(self.slots)
        both = self.available.get(a, everything) & self.available.get(b, everything)
        return [slot for slot in self.slots if slot in both]

    def schedulable(self) -> list[Request]:
        return [r for r in self.requests
                if frozenset(r.people) not in self.declined and r.people[0] != r.people[1]]


# request id -> (slot, table number from 1)
Schedule = dict[int, tuple[int, int]]


@dataclass(frozen=True)
class Result:
    schedule: Schedule
    greedy_meetings: int
    solver: str  # "cp-sat" or "greedy"
    status: str  # CP-SAT's verdict, e.g. OPTIMAL or FEASIBLE

    @property
    def meetings(self) -> int:
        return len(self.schedule)


def violations(instance: Instance, schedule: Schedule) -> list[str]:
    """Every rule ``schedule`` breaks, in words; empty when it keeps them all."""
    problems: list[str] = []
    requests = {r.id: r for r in instance.requests}
    slots = set(instance.slots)
    seats: Counter = Counter()
    busy: Counter = Counter()
    meetings_of: Counter = Counter()
    for request_id, (slot, table) in schedule.items():
        request = requests.get(request_id)
        if request is None:
            problems.append(f"request {request_id} is not an accepted request")
            continue
        if slot not in slots:
            problems.append(f"request {request_id} is in an unknown slot {slot}")
        if not 1 <= table <= instance.tables:
            problems.append(f"request {request_id} is at table {table}, past the tables")
        if frozenset(request.people) in instance.declined:
            problems.append(f"request {request_id} pairs people who declined")
        if slot not in instance.slots_for(request):
            problems.append(f"request {request_id} is outside someone's availability")
        seats[slot, table] += 1
        for person in request.people:
            busy["person", person, slot] += 1
            meetings_of[person] += 1
        for organization in set(request.organizations):
            busy["organization", organization, slot] += 1
    problems += [f"table {table} is taken twice in slot {slot}"
                 for (slot, table), n in seats.items() if n > 1]
    problems += [f"{kind} {who} is double-booked in slot {slot}"
                 for (kind, who, slot), n in busy.items() if n > 1]
    problems += [f"person {person} has {n} meetings, past the cap of {instance.cap}"
                 for person, n in meetings_of.items() if n > instance.cap]
    return problems


def greedy(instance: Instance) -> dict[int, int]:
    """Request id -> slot: people with the fewest requests first, then the best matches, each
    in the earliest slot that keeps every rule."""
    requests = instance.schedulable()
    asked = Counter(person for r in requests for person in r.people)
    order = sorted(requests, key=lambda r: (min(asked[p] for p in r.people), -r.score, r.id))
    taken: set = set()
    per_slot: Counter = Counter()
    meetings_of: Counter = Counter()
    placed: dict[int, int] = {}
    for request in order:
        if any(meetings_of[p] >= instance.cap for p in request.people):
            continue
        for slot in instance.slots_for(request):
            keys = _keys(request, slot)
            if per_slot[slot] < instance.tables and not keys & taken:
                placed[request.id] = slot
                taken |= keys
                per_slot[slot] += 1
                for person in request.people:
                    meetings_of[person] += 1
                break
    return placed


def solve(instance: Instance, time_limit: float = 30.0, previous: Schedule | None = None,
          workers: int = 2) -> Result:
    """The best schedule CP-SAT finds within ``time_limit`` seconds, never worse than greedy.

    ``previous`` (the schedule before a re-run) keeps its tables where the slot is unchanged,
    so fewer people are told their meeting moved.
    """
    baseline = greedy(instance)
    slots, status, solver_name = baseline, "GREEDY", "greedy"
    found = _cp_sat(instance, baseline, time_limit, workers)
    if found is not None and _value(instance, found[0]) > _value(instance, baseline):
        slots, status, solver_name = found[0], found[1], "cp-sat"
    elif found is not None:
        status = found[1]
    return Result(assign_tables(instance, slots, previous or {}), len(baseline),
                  solver_name, status)


def assign_tables(instance: Instance, slots: dict[int, int], previous: Schedule) -> Schedule:
    """Tables for meetings already placed in slots: a meeting keeps its previous table when it
    keeps its slot and the table is free, the others take the lowest free table."""
    schedule: Schedule = {}
    used: defaultdict[int, set[int]] = defaultdict(set)
    for request_id, slot in slots.items():
        before = previous.get(request_id)
        if before and before[0] == slot and before[1] <= instance.tables \
                and before[1] not in used[slot]:
            schedule[request_id] = before
            used[slot].add(before[1])
    for request_id, slot in sorted(slots.items()):
        if request_id in schedule:
            continue
        table = next(t for t in range(1, instance.tables + 1) if t not in used[slot])
        schedule[request_id] = (slot, table)
        used[slot].add(table)
    return schedule


def _keys(request: Request, slot: int) -> set:
    return {("person", p, slot) for p in request.people} | \
        {("organization", o, slot) for o in request.organizations}


def _weight(request: Request) -> int:
    return MEETING_VALUE + round(SCORE_VALUE * max(0.0, min(1.0, request.score)))


def _value(instance: Instance, slots: dict[int, int]) -> int:
    """The objective of a slot assignment, as CP-SAT counts it."""
    requests = {r.id: r for r in instance.requests}
    covered = {p for request_id in slots for p in requests[request_id].people}
    return sum(_weight(requests[i]) for i in slots) + COVERAGE_VALUE * len(covered)


def _cp_sat(instance: Instance, hint: dict[int, int], time_limit: float,
            workers: int) -> tuple[dict[int, int], str] | None:
    model = cp_model.CpModel()
    chosen: dict[tuple[int, int], cp_model.IntVar] = {}
    by_key: defaultdict = defaultdict(list)
    by_slot: defaultdict = defaultdict(list)
    by_person: defaultdict = defaultdict(list)
    for request in instance.schedulable():
        for slot in instance.slots_for(request):
            var = model.new_bool_var(f"r{request.id}s{slot}")
            chosen[request.id, slot] = var
            by_slot[slot].append(var)
            for key in _keys(request, slot):
                by_key[key].append(var)
            for person in request.people:
                by_person[person].append(var)
            model.add_hint(var, hint.get(request.id) == slot)
    if not chosen:
        return {}, "EMPTY"
    for request in instance.schedulable():
        options = [chosen[request.id, s] for s in instance.slots_for(request)]
        if len(options) > 1:
            model.add_at_most_one(options)
    for variables in by_key.values():
        if len(variables) > 1:
            model.add_at_most_one(variables)
    for variables in by_slot.values():
        model.add(sum(variables) <= instance.tables)
    covered = {}
    hinted_people = {p for r in instance.requests if r.id in hint for p in r.people}
    for person, variables in by_person.items():
        if len(variables) > instance.cap:
            model.add(sum(variables) <= instance.cap)
        covered[person] = model.new_bool_var(f"p{person}")
        model.add(covered[person] <= sum(variables))
        model.add_hint(covered[person], person in hinted_people)
    model.add(sum(chosen.values()) >= len(hint))  # never fewer meetings than the baseline
    weights = {r.id: _weight(r) for r in instance.requests}
    model.maximize(sum(weights[request_id] * var for (request_id, _), var in chosen.items())
                   + COVERAGE_VALUE * sum(covered.values()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 1
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return ({request_id: slot for (request_id, slot), var in chosen.items()
             if solver.boolean_value(var)}, solver.status_name(status))
