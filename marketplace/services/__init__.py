"""Domain operations, called by the views, the CLI and the jobs.

A view's operation leaves the commit to the view.  The background work commits as it goes,
because each step must survive the next one failing: indexing and matching (a listing's
ledger rows), and the mail senders (a delivery is claimed, then recorded as sent, in separate
transactions; see marketplace/services/delivery.py).
"""
