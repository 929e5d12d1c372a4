"""The E-magazine: who gets an issue (``audience``), how it reads (``rendering``), its
workflow from draft to sent (``workflow``), sending and recovery (``sending``), automatic
sections (``sections``), subscribers with double opt-in (``subscribers``), and the readers' and
staff pages.
"""
