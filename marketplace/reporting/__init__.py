"""Reporting: the staff dashboard, its exports for the Strategy's implementation reviews, and
the public results page.  It reads every domain's tables with aggregate queries and writes
nothing."""
