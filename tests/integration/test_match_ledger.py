"""The ledger after the rule changes: `flask matches rescore`, `flask matches audit` and
`flask eval-matching --from-ledger`, on the real matcher."""

import json

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Introduction, Match
from marketplace.models._time import utcnow
from tests.factories import NeedFactory, SolutionFactory
from tests.integration.test_search import _drain, other_listings


def _world():
    other_listings()
    need = NeedFactory(published=True)
    right = SolutionFactory(published=True)  # the factory's MBR plant for the need's sewage
    _drain()
    return need, right


def _row(need, solution):
    return db.session.scalar(select(Match).where(Match.need_id == need.id,
                                                 Match.solution_id == solution.id))


def test_rescore_keeps_verdicts_removes_noise_and_keeps_history(runner):
    need, right = _world()
    solar = db.session.scalar(select(SolutionFactory._meta.model)
                              .where(SolutionFactory._meta.model.title.like("Rooftop%")))
    delivered = _row(need, right)
    assert delivered is not None and delivered.delivered
    delivered.buyer_state, delivered.buyer_dismiss_reason = "dismissed", "already_known"
    # Rows an older, looser rule kept: noise nobody judged, and noise once delivered.
    noise = Match(need=need, solution=solar, score=0.1, reasons=[], delivered=True)
    db.session.add(noise)
    monitor_need = NeedFactory(published=True, title="Electric ferries", sectors=["ENE.TRN"],
                               capacity=None, capacity_unit=None)
    sent = Match(need=monitor_need, solution=solar, score=0.1, reasons=[], delivered=True,
                 delivered_at=utcnow())
    db.session.add(sent)
    db.session.commit()
    _drain()
    noise_id, sent_id = noise.id, sent.id

    result = runner.invoke(args=["matches", "rescore"])

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    kept = _row(need, right)
    assert kept.delivered and kept.buyer_state == "dismissed"
    assert kept.buyer_dismiss_reason == "already_known"
    assert db.session.get(Match, noise_id) is None  # below the bar, never delivered: gone
    history = db.session.get(Match, sent_id)
    assert history is not None and not history.delivered and history.delivered_at
    assert "removed" in result.output


def test_from_ledger_counts_dismissed_pairs_the_rule_would_still_deliver(runner):
    need, right = _world()
    row = _row(need, right)
    row.buyer_state, row.buyer_dismiss_reason = "dismissed", "wrong_scale"
    db.session.commit()

    result = runner.invoke(args=["eval-matching", "--from-ledger"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["dismissed"] == 1 and report["still_delivered"] == 1
    assert report["by_reason"]["wrong_scale"] == {"dismissed": 1, "still_delivered": 1}


def test_audit_reports_families_and_listings_left_without_a_match(runner):
    need, right = _world()
    lonely = NeedFactory(published=True, title="Peat fire monitoring", sectors=["AIR.MON"],
                         description="Satellite hot-spot alerts for peatland fires.",
                         capacity=None, capacity_unit=None)
    _drain()

    result = runner.invoke(args=["matches", "audit"])

    assert result.exit_code == 0, result.output
    assert "sharing a sector family" in result.output and "(100.0%)" in result.output
    # The monitoring micro-stations serve Viet Nam in its sector, yet nothing was delivered
    # (or the rule delivered it: then the audit rightly lists nothing for it).
    delivered = db.session.scalar(select(Match).where(Match.need_id == lonely.id,
                                                      Match.delivered))
    assert (lonely.title in result.output) == (delivered is None)


def test_audit_reports_what_became_of_the_matches(runner):
    """Introductions made from matches: the stage each reached, and why declines were."""
    matches = []
    for title in ("Sludge drying", "Leachate treatment", "Biogas upgrading"):
        need = NeedFactory(published=True, title=title)
        solution = SolutionFactory(published=True)
        match = Match(need=need, solution=solution, score=1.0, evidence=1.0, delivered=True,
                      reasons=[])
        db.session.add(match)
        matches.append(match)
    stages = [("contacted", None), ("declined", "budget"), ("declined", "budget")]
    for match, (stage, reason) in zip(matches, stages, strict=True):
        db.session.add(Introduction(
            need=match.need, solution=match.solution, match=match, message="Hello",
            sender_org_id=match.need.organization_id,
            recipient_org_id=match.solution.organization_id, stage=stage,
            decline_reason=reason))
    db.session.commit()

    result = runner.invoke(args=["matches", "audit"])

    assert "Introductions made from matches, by stage: contacted 1, declined 2" in result.output
    assert "Declined, by reason: budget 2" in result.output
