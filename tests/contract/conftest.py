"""Backends under contract: the local one always, Elasticsearch from TEST_ELASTICSEARCH_URL.

``make test`` starts Elasticsearch and sets the URL.  Without it the Elasticsearch cases
error rather than skip: a missing service must never pass silently.
"""

from __future__ import annotations

import os
import uuid

import pytest


def _local(tmp_path):
    from search.backends.local import LocalBackend

    return LocalBackend(str(tmp_path / "search"), prefix="contract")


def _elasticsearch(tmp_path):
    from search.backends.elasticsearch import ElasticsearchBackend

    url = os.environ.get("TEST_ELASTICSEARCH_URL")
    if not url:
        pytest.fail("TEST_ELASTICSEARCH_URL is not set: run the tests with `make test`, "
                    "which starts Elasticsearch")
    return ElasticsearchBackend(url, prefix=f"contract-{uuid.uuid4().hex[:8]}")


@pytest.fixture(params=["local", "elasticsearch"])
def backend(request, tmp_path):
    make = {"local": _local, "elasticsearch": _elasticsearch}[request.param]
    backend = make(tmp_path)
    backend.ensure_indices()
    yield backend
    backend.drop()
