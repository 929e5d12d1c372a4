"""factory_boy factories.  They commit, because requests in tests use their own sessions."""

from __future__ import annotations

from datetime import timedelta

import factory
from argon2 import PasswordHasher

from marketplace.extensions import db
from marketplace.models import Match, Need, Organization, Solution, User
from marketplace.models._time import utcnow

PASSWORD = "correct horse battery"
# Hash once: argon2 is deliberately slow, and tests make many users.
PASSWORD_HASH = PasswordHasher().hash(PASSWORD)


class Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class OrganizationFactory(Base):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = "enterprise"
    country = "CN"
    city = "Yixing"
    base = "yixing"

    class Params:
        buyer = factory.Trait(kind="municipality", country="VN", city="Da Nang", base=None)
        verified = factory.Trait(verified_at=factory.LazyFunction(utcnow))


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    name = factory.Sequence(lambda n: f"User {n}")
    role = "supplier"
    language = "en"
    password_hash = PASSWORD_HASH
    email_verified_at = factory.LazyFunction(utcnow)
    organization = factory.SubFactory(OrganizationFactory)

    class Params:
        buyer = factory.Trait(role="buyer",
                              organization=factory.SubFactory(OrganizationFactory, buyer=True))
        staff = factory.Trait(role="staff", organization=None)
        admin = factory.Trait(role="admin", organization=None)
        unverified = factory.Trait(email_verified_at=None)


class ListingFactory(Base):
    """What solutions and needs share: their life-cycle states."""

    class Meta:
        abstract = True

    status = "draft"

    class Params:
        published = factory.Trait(
            status="published",
            published_at=factory.LazyFunction(utcnow),
            expires_at=factory.LazyFunction(lambda: utcnow() + timedelta(days=365)),
        )
        pending = factory.Trait(status="pending", submitted_at=factory.LazyFunction(utcnow))


class SolutionFactory(ListingFactory):
    class Meta:
        model = Solution

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Membrane bioreactor package plant {n}")
    summary = "Compact MBR plant for municipal wastewater, 500-5,000 m3/day."
    description = "Hollow-fibre membranes replace the clarifier.\n\n**Low footprint.**"
    trl = 8
    keywords = factory.LazyFunction(lambda: ["MBR", "wastewater"])
    capacity_min = 500.0
    capacity_max = 5000.0
    capacity_unit = "m3/day"
    languages = factory.LazyFunction(lambda: ["en", "zh"])
    certifications = factory.LazyFunction(lambda: ["ISO 14001"])
    sectors = factory.LazyFunction(lambda: ["WAT.MUN"])
    countries_served = factory.LazyFunction(lambda: ["VN", "TH"])


class NeedFactory(ListingFactory):
    class Meta:
        model = Need

    organization = factory.SubFactory(OrganizationFactory, buyer=True)
    title = factory.Sequence(lambda n: f"Wastewater treatment for district {n}")
    description = "We need a 2,000 m3/day plant."
    country = "VN"
    city = "Da Nang"
    capacity = 2000.0
    capacity_unit = "m3/day"
    min_trl = 7
    required_certifications = factory.LazyFunction(list)
    sectors = factory.LazyFunction(lambda: ["WAT.MUN"])


class MatchFactory(Base):
    """A ledger row between two published listings; below the bar unless ``delivered=True``."""

    class Meta:
        model = Match

    need = factory.SubFactory(NeedFactory, published=True)
    solution = factory.SubFactory(SolutionFactory, published=True)
    score = 0.5
    reasons = factory.LazyFunction(list)
    delivered = False
