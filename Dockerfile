# syntax=docker/dockerfile:1
# One image for the web app, the Celery worker and Celery beat; docker-compose.yml picks the
# command.  Build: docker build -t est-marketplace .
FROM python:3.11-slim

# PYTHONPATH: the app finds templates/ and migrations/ beside its package (PROJECT_ROOT), and
# the installed wheel does not carry them, so the code must be imported from the copy in /app.
# The celery script does not put the working directory on sys.path by itself.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    FLASK_APP=marketplace \
    EMBEDDER_THREADS=1

WORKDIR /app

# WeasyPrint (the review report's PDF) draws text with pango; the CJK fonts write Chinese.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
      libharfbuzz-subset0 fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

# Dependencies get their own layer, so a code change does not reinstall them: install the
# project from empty packages, then remove the project itself and keep what it pulled in.
COPY pyproject.toml README.md ./
RUN mkdir marketplace search workers \
 && touch marketplace/__init__.py search/__init__.py workers/__init__.py \
 && pip install . \
 && pip uninstall -y est-marketplace \
 && rm -rf marketplace search workers build ./*.egg-info

COPY . .
RUN pip install --no-deps . \
 && rm -rf build ./*.egg-info

# Run as an unprivileged user.  It owns only instance/ (Flask's instance folder, and beat's
# schedule file in docker-compose.yml); the code stays read-only to it.
RUN useradd --system --create-home --uid 10001 --user-group app \
 && mkdir -p /app/instance \
 && chown app:app /app/instance
USER app

EXPOSE 8000

# gunicorn reads the number of workers from WEB_CONCURRENCY (default 1) and any further
# options from GUNICORN_CMD_ARGS.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "marketplace:create_app()"]
