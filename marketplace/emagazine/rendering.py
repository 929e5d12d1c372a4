"""How an issue reads: an edition rendered as one reader's e-mail (Markdown to HTML and plain
text, one-click unsubscribe), the public archive link, and test sends.
"""

from __future__ import annotations

from marketplace.emagazine.audience import Recipient
from marketplace.mailing import suppressions
from marketplace.mailing.transport import MailSession, build_message, external_url, render_parts
from marketplace.models import Issue, IssueDelivery, IssueEdition
from marketplace.models.mail import EMAGAZINE_LIST

UNSUBSCRIBE_PLACEHOLDER = "https://unsubscribe.invalid/TOKEN"


# --- rendering -------------------------------------------------------------------------------

def archive_url(issue: Issue, language: str) -> str:
    return external_url("emagazine.issue", slug=issue.slug, lang=language)


def _context(issue: Issue, edition: IssueEdition, unsubscribe_link: str) -> dict:
    return {"issue": issue, "edition": edition, "unsubscribe_link": unsubscribe_link,
            "browser_link": archive_url(issue, edition.language),
            "manage_link": external_url("emagazine.subscribe")}


def render_issue(issue: Issue, language: str, to: str, *, test: bool = False,
                 unsubscribe_link: str | None = None):
    """The e-mail for one reader: their edition (English if there is none in their
    language), List-Unsubscribe headers, and the view-in-browser link."""
    edition = issue.edition(language)
    link = unsubscribe_link or suppressions.unsubscribe_url(to, EMAGAZINE_LIST)
    subject, text, html = render_parts("emagazine", edition.language,
                                       **_context(issue, edition, link))
    if test:
        subject = f"[TEST] {subject}"
    return build_message(subject, text, html, to,
                         suppressions.unsubscribe_headers(to, EMAGAZINE_LIST, url=link))


class _EditionCache:
    """Renders each edition once per batch and personalises it by replacing a placeholder
    with the reader's unsubscribe link: rendering and CSS inlining are the costly part."""

    def __init__(self, issue: Issue) -> None:
        self.issue = issue
        self._parts: dict[str, tuple[str, str, str]] = {}

    def message_for(self, recipient: Recipient | IssueDelivery):
        """The message for a reader (anything with their ``email`` and ``language``)."""
        edition = self.issue.edition(recipient.language)
        parts = self._parts.get(edition.language)
        if parts is None:
            parts = render_parts("emagazine", edition.language,
                                 **_context(self.issue, edition, UNSUBSCRIBE_PLACEHOLDER))
            self._parts[edition.language] = parts
        link = suppressions.unsubscribe_url(recipient.email, EMAGAZINE_LIST)
        subject, text, html = (part.replace(UNSUBSCRIBE_PLACEHOLDER, link) for part in parts)
        return build_message(subject, text, html, recipient.email,
                             suppressions.unsubscribe_headers(recipient.email,
                                                               EMAGAZINE_LIST, url=link))


# --- test sends ----------------------------------------------------------------------------

def test_send(issue: Issue, addresses: list[str], language: str) -> int:
    """Send the edition to ``addresses`` with [TEST] in the subject; no ledger rows."""
    with MailSession() as session:
        for address in addresses:
            session.send(render_issue(issue, language, address, test=True))
    return len(addresses)


def edition_or_none(issue: Issue, language: str) -> IssueEdition | None:
    return next((e for e in issue.editions if e.language == language), None)
