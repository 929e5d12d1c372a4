"""Background jobs (Celery).  Filled in by the background-jobs work."""
