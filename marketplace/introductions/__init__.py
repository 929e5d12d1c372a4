"""Introductions: from a match to a conversation, with both sides opting in.

``interest`` (an expression of interest, and who may send one), ``pipeline`` (accept,
decline, and the stages through to a contract), ``conversation`` (messages between the two
sides), ``notices`` (the e-mails each step sends, at once or in a daily summary), ``upkeep``
(reminders and expiry of unanswered requests), ``brokering`` (what staff of the Center do),
and the pages: ``views`` for the two sides, ``staff_views`` for staff.
"""
