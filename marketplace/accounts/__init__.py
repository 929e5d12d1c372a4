"""Users and organisations: registration, e-mail verification and password reset
(``registration``), who may reach what (``access``), and the sign-in pages (``views``).
"""
