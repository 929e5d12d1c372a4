"""Fixed vocabularies used across the marketplace.

Labels are lazy so each page shows them in the reader's language.
"""

from flask_babel import lazy_gettext as _l

ASEAN_COUNTRIES = ("BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "VN")
COUNTRIES = {
    "BN": _l("Brunei Darussalam"),
    "KH": _l("Cambodia"),
    "ID": _l("Indonesia"),
    "LA": _l("Lao PDR"),
    "MY": _l("Malaysia"),
    "MM": _l("Myanmar"),
    "PH": _l("Philippines"),
    "SG": _l("Singapore"),
    "TH": _l("Thailand"),
    "VN": _l("Viet Nam"),
    "CN": _l("China"),
}

ORG_KINDS = {
    "enterprise": _l("Enterprise"),
    "municipality": _l("Municipality"),
    "utility": _l("Utility"),
    "industrial_park": _l("Industrial park"),
    "research_institute": _l("Research institute"),
    "ngo": _l("NGO"),
    "government_agency": _l("Government agency"),
}

BASES = {
    "yixing": _l("Yixing"),
    "wuzhou": _l("Wuzhou"),
    "shenzhen": _l("Shenzhen"),
}

ROLES = {
    "supplier": _l("Supplier"),
    "buyer": _l("Buyer"),
    "staff": _l("Staff"),
    "admin": _l("Administrator"),
}

# Languages of the interface.  The first is the fallback.
LANGUAGES = {"en": "English", "zh": "简体中文"}

# Languages a listing can be offered in (wider than the interface languages).
LISTING_LANGUAGES = {
    "en": "English",
    "zh": "中文",
    "vi": "Tiếng Việt",
    "th": "ไทย",
    "id": "Bahasa Indonesia",
    "ms": "Bahasa Melayu",
    "km": "ខ្មែរ",
    "lo": "ລາວ",
    "my": "မြန်မာ",
    "fil": "Filipino",
}

STATUSES = {
    "draft": _l("Draft"),
    "pending": _l("Pending review"),
    "published": _l("Published"),
    "archived": _l("Archived"),
    "expired": _l("Expired"),
}

CURRENCIES = (
    "USD", "CNY", "EUR", "BND", "KHR", "IDR", "LAK", "MYR", "MMK", "PHP", "SGD", "THB", "VND",
)

# Capacity units, grouped by dimension; factor converts to the dimension's base unit so that
# a need in one unit can be compared with a solution's range in another.
CAPACITY_UNITS = {
    "m3/day": ("flow", 1.0, _l("m³/day")),
    "m3/h": ("flow", 24.0, _l("m³/h")),
    "L/s": ("flow", 86.4, _l("L/s")),
    "ML/day": ("flow", 1000.0, _l("ML/day")),
    "t/day": ("mass_rate", 1.0, _l("t/day")),
    "t/year": ("mass_rate", 1 / 365.0, _l("t/year")),
    "kg/h": ("mass_rate", 0.024, _l("kg/h")),
    "kW": ("power", 1.0, _l("kW")),
    "MW": ("power", 1000.0, _l("MW")),
    "kWh": ("energy", 1.0, _l("kWh")),
    "MWh": ("energy", 1000.0, _l("MWh")),
    "Nm3/h": ("gas_flow", 1.0, _l("Nm³/h")),
    "ha": ("area", 1.0, _l("ha")),
    "km2": ("area", 100.0, _l("km²")),
    "stations": ("count", 1.0, _l("stations")),
    "units": ("count", 1.0, _l("units")),
}

MODERATION_ACTIONS = {
    "submitted": _l("submitted for review"),
    "resubmitted": _l("edited and sent back to review"),
    "approved": _l("approved and published"),
    "rejected": _l("sent back with changes requested"),
    "archived": _l("archived"),
    "renewed": _l("renewed"),
}

ISSUE_STATUSES = {
    "draft": _l("draft"),
    "scheduled": _l("scheduled"),
    "sending": _l("sending"),
    "paused": _l("paused"),
    "sent": _l("sent"),
}

SECTION_KINDS = {
    "manual": _l("Written by hand"),
    "new_solutions": _l("New solutions by sector"),
    "open_needs": _l("Open needs"),
    "matches": _l("Notable matches"),
    "events": _l("Upcoming events"),
    "news": _l("News"),
}

# Labels for the codes in marketplace.models.discovery.DISMISS_REASONS (the column's vocabulary);
# forms.DismissForm fails at import if a code has no label here.
DISMISS_REASON_LABELS = {
    "not_relevant": _l("Not relevant"),
    "wrong_scale": _l("Wrong scale"),
    "wrong_country": _l("Wrong country"),
    "already_known": _l("Already known"),
    "other": _l("Other"),
}

# Keys are marketplace.models.states.IntroductionStage and marketplace.models.introductions
# DECLINE_REASONS and WISHES (tests/unit/marketplace/test_introduction_labels.py).
INTRODUCTION_STAGES = {
    "new": _l("Requested"),
    "contacted": _l("Contacted"),
    "meeting": _l("Meeting"),
    "nda": _l("NDA"),
    "pilot": _l("Pilot"),
    "contract": _l("Contract"),
    "declined": _l("Declined"),
    "expired": _l("Expired"),
}

# B2B meetings (marketplace.models.states: ScheduleState, MeetingRequestStatus, MeetingStatus).
SCHEDULE_STATES = {
    "draft": _l("Proposal, not published"),
    "preliminary": _l("Preliminary schedule"),
    "final": _l("Final schedule"),
}
MEETING_REQUEST_STATUSES = {
    "requested": _l("Waiting for an answer"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
}
MEETING_STATUSES = {
    "scheduled": _l("Scheduled"),
    "cancelled": _l("Cancelled"),
    "held": _l("Held"),
    "no_show": _l("No-show"),
}

DECLINE_REASON_LABELS = {
    "not_relevant": _l("Not relevant to our need or offer"),
    "too_early": _l("Too early stage (TRL)"),
    "scale": _l("Scale or capacity mismatch"),
    "budget": _l("Budget or price"),
    "certification": _l("Certification, regulation or local standard"),
    "benefit_unclear": _l("Benefit over what we use is unclear"),
    "not_enough_information": _l("Not enough information"),
    "timing": _l("Timing or funding"),
    "already_working": _l("Already working with someone"),
    "other": _l("Other"),
}

WISH_LABELS = {
    "call": _l("A call"),
    "visit": _l("A visit"),
    "quote": _l("A quote"),
    "pilot": _l("A pilot"),
}

LISTING_LIFETIME_DAYS = 365
