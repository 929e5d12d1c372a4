"""The demo world: invented organisations and people, real technical content.
"""
