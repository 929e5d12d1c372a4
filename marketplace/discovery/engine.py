"""The app's search engine: one backend per app (Elasticsearch, or the embedded local one),
made on first use from the settings.
"""

from __future__ import annotations

import os

from flask import current_app

from search.backends.base import SearchBackend, SearchUnavailable


def make_backend(config: dict, prefix: str | None = None) -> SearchBackend:
    prefix = prefix or config.get("SEARCH_INDEX_PREFIX", "est")
    # Imported only when chosen: the Elasticsearch client is a heavy import that an embedded
    # app never needs.
    if config["SEARCH_BACKEND"] == "elasticsearch":
        from search.backends.elasticsearch import ElasticsearchBackend

        return ElasticsearchBackend(config["ELASTICSEARCH_URL"], prefix=prefix,
                                    request_timeout=config["ELASTICSEARCH_TIMEOUT"],
                                    max_retries=config["ELASTICSEARCH_RETRIES"])
    from search.backends.local import LocalBackend

    return LocalBackend(os.path.join(current_app.instance_path, "search"), prefix=prefix)


def backend() -> SearchBackend:
    """The live backend, made once per app."""
    extensions = current_app.extensions
    if "search_backend" not in extensions:
        extensions["search_backend"] = make_backend(current_app.config)
        try:
            extensions["search_backend"].ensure_indices()
        except SearchUnavailable:
            del extensions["search_backend"]
            raise
    return extensions["search_backend"]
