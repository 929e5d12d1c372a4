"""The event calendar: forums, exhibitions and trainings at the demonstration bases.
"""
