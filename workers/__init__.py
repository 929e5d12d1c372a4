"""Background jobs on Celery: ``celery -A workers.celery_app worker`` and ``... beat``.

The jobs themselves - names, queues, retry rules and the periodic list - are declared once in
``marketplace/jobs.py``; this package only turns them into Celery tasks.
"""
