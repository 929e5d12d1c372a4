"""Staff pages that span the domains: moderation, verification, people, the mail folder and
the audit log.
"""
