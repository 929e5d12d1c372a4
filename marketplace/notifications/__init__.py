"""What mail a user gets: digest and E-magazine preferences, saved searches, unsubscribe.
"""
