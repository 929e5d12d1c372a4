"""Sending mail, knowing no domain: the transport and SMTP session (``transport``), the
claim-before-send ledger (``ledger``), suppressions and unsubscribe tokens (``suppressions``),
and ``bulk_send.BulkSend``, which sends any mailing to many recipients.
"""
