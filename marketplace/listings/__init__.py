"""Solutions and needs: their lifecycle and moderation (``lifecycle``), database browsing
(``browse``), the owners' pages (``owner_views``) and the public pages (``public_views``).
"""
