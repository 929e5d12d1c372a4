"""Which nodes the Elasticsearch backend talks to (no cluster needed)."""

import pytest

from search.backends.elasticsearch import ElasticsearchBackend, node_urls


def test_one_node_or_several_separated_by_commas():
    assert node_urls("http://127.0.0.1:9200") == ["http://127.0.0.1:9200"]
    assert node_urls(" http://es1:9200, http://es2:9200 ,") == ["http://es1:9200",
                                                                 "http://es2:9200"]
    assert node_urls(["http://es1:9200"]) == ["http://es1:9200"]


def test_no_node_at_all_is_an_error():
    with pytest.raises(ValueError, match="no Elasticsearch node"):
        node_urls(" , ")


def test_the_client_knows_every_node():
    # Failing over between them is tests/cluster's work, on two real nodes.
    engine = ElasticsearchBackend("http://es1:9200,http://es2:9201")
    nodes = {(node.host, node.port) for node in engine.es.transport.node_pool.all()}
    assert nodes == {("es1", 9200), ("es2", 9201)}
