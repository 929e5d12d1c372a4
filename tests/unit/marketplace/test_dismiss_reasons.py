"""The dismiss reasons users choose from are exactly the ones the ledger stores."""

from marketplace import constants
from marketplace.models.discovery import DISMISS_REASONS, Match


def test_every_stored_reason_has_a_label_and_no_label_is_stray():
    assert tuple(constants.DISMISS_REASON_LABELS) == DISMISS_REASONS


def test_reasons_fit_their_columns():
    for column in (Match.buyer_dismiss_reason, Match.supplier_dismiss_reason):
        assert max(len(code) for code in DISMISS_REASONS) <= column.type.length
