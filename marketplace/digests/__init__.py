"""Match digests: what each user has not heard about yet (``content``), and sending it at most
once per period (``sending``).
"""
