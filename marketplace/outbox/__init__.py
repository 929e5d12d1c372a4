"""The transactional outbox: events written with the change that caused them, relayed after
commit (``relay``), and what each topic means when it is handled (``topics``).
"""
