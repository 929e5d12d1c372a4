"""The meeting scheduler (issue 13): on 60 seeded random instances, every schedule it returns -
and every schedule after a manual move it accepts - keeps every rule, checked here by a
checker of the test's own; CP-SAT never places fewer meetings than the greedy baseline."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from marketplace.calendar import scheduler

SEEDS = range(60)


def random_instance(seed: int) -> scheduler.Instance:
    rng = random.Random(seed)
    people = rng.randint(4, 24)
    organization = {p: rng.randrange(max(2, people // 2)) for p in range(people)}
    slots = list(range(100, 100 + rng.randint(1, 8)))
    requests, seen = [], set()
    for _ in range(rng.randint(1, people * 3)):
        a, b = rng.sample(range(people), 2)
        if organization[a] == organization[b] or frozenset((a, b)) in seen:
            continue
        seen.add(frozenset((a, b)))
        requests.append(scheduler.Request(len(requests) + 1, (a, b),
                                          (organization[a], organization[b]), rng.random()))
    available = {p: frozenset(s for s in slots if rng.random() < 0.75)
                 for p in range(people) if rng.random() < 0.7}
    declined = frozenset(frozenset(r.people) for r in requests if rng.random() < 0.1)
    return scheduler.Instance(slots, rng.randint(1, 5), rng.randint(1, 4), requests,
                              available, declined)


def broken_rules(instance: scheduler.Instance, schedule: scheduler.Schedule) -> list[str]:
    """Written apart from ``scheduler.violations``, so that a bug there cannot hide one."""
    requests = {r.id: r for r in instance.requests}
    everyone = frozenset(instance.slots)
    found = []
    seats, people, organizations, load = Counter(), Counter(), Counter(), Counter()
    for request_id, (slot, table) in schedule.items():
        request = requests[request_id]
        a, b = request.people
        if slot not in instance.available.get(a, everyone) \
                or slot not in instance.available.get(b, everyone):
            found.append("availability")
        if frozenset((a, b)) in instance.declined:
            found.append("declined pair")
        if not 1 <= table <= instance.tables or slot not in instance.slots:
            found.append("no such table or slot")
        seats[slot, table] += 1
        for person in (a, b):
            people[person, slot] += 1
            load[person] += 1
        for org in set(request.organizations):
            organizations[org, slot] += 1
    found += ["table twice"] * sum(n > 1 for n in seats.values())
    found += ["person twice"] * sum(n > 1 for n in people.values())
    found += ["organisation twice"] * sum(n > 1 for n in organizations.values())
    found += ["cap"] * sum(n > instance.cap for n in load.values())
    return found


@pytest.mark.parametrize("seed", SEEDS)
def test_every_schedule_keeps_every_rule(seed):
    instance = random_instance(seed)
    result = scheduler.solve(instance, time_limit=2.0, workers=1)
    assert broken_rules(instance, result.schedule) == []
    assert scheduler.violations(instance, result.schedule) == []
    assert result.meetings >= result.greedy_meetings
    greedy = scheduler.assign_tables(instance, scheduler.greedy(instance), {})
    assert broken_rules(instance, greedy) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_a_move_is_accepted_only_when_it_keeps_every_rule(seed):
    instance = random_instance(seed)
    schedule = scheduler.solve(instance, time_limit=2.0, workers=1).schedule
    rng = random.Random(seed)
    for request in instance.requests[:10]:
        moved = schedule | {request.id: (rng.choice(instance.slots),
                                         rng.randint(1, instance.tables + 1))}
        problems = scheduler.violations(instance, moved)
        # The scheduler's checker and the test's agree on every move, in both directions.
        assert bool(problems) == bool(broken_rules(instance, moved))
        if not problems:
            schedule = moved
    assert broken_rules(instance, schedule) == []


def test_nobody_is_left_out_for_someone_else_s_second_meeting():
    # Two slots, one table.  Person 0 has two requests, people 3 and 4 one together: the
    # second place goes to 3 and 4's meeting rather than to 0's second one.
    instance = scheduler.Instance(
        slots=[1, 2], tables=1, cap=2,
        requests=[scheduler.Request(1, (0, 1), (10, 11), 0.9),
                  scheduler.Request(2, (0, 2), (10, 12), 0.2),
                  scheduler.Request(3, (3, 4), (13, 14), 0.1)])
    result = scheduler.solve(instance, time_limit=2.0, workers=1)
    people = {p for request_id in result.schedule for p in instance.requests[request_id - 1].people}
    assert result.meetings == 2 and {3, 4} <= people


def test_a_declined_pair_is_never_scheduled():
    request = scheduler.Request(1, (0, 1), (10, 11), 1.0)
    instance = scheduler.Instance([1], 1, 1, [request], declined=frozenset({frozenset((0, 1))}))
    assert scheduler.solve(instance, time_limit=1.0, workers=1).schedule == {}
    assert "declined" in scheduler.violations(instance, {1: (1, 1)})[0]


def test_a_previous_table_is_kept_when_the_slot_stays():
    instance = scheduler.Instance([1], 3, 1, [scheduler.Request(1, (0, 1), (10, 11))])
    assert scheduler.assign_tables(instance, {1: 1}, {1: (1, 3)}) == {1: (1, 3)}
    assert scheduler.assign_tables(instance, {1: 1}, {}) == {1: (1, 1)}
