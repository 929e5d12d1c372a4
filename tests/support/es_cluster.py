"""Elasticsearch nodes of our own, started by `.ci/elasticsearch.sh` (the one place that knows
how: the cached distribution, the JDK, the system user) as one cluster on loopback.

A node runs on free ports with its data in /tmp/est-es-<http port>; ``kill()`` SIGKILLs it as a
crashed host would, and ``start(keep_data=True)`` brings it back on the data it had.  A node
that does not come up fails the test: nothing here skips.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from elasticsearch import Elasticsearch

from tests.support.smtp_sink import free_port
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "elasticsearch.sh"
HEAP = "512m"  # two nodes beside the tests' own one: 1 GiB each would be more than they need


@dataclass
class Node:
    name: str
    cluster: str
    http_port: int
    transport_port: int
    seed_hosts: str  # every node's transport address
    initial_masters: str  # the node names that bootstrap the cluster
    roles: str = ""  # empty: every role

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def run_dir(self) -> Path:
        return Path(f"/tmp/est-es-{self.http_port}")  # as .ci/elasticsearch.sh names it

    def client(self) -> Elasticsearch:
        return Elasticsearch(self.url, request_timeout=60)

    def start(self, keep_data: bool = False) -> None:
        env = {**os.environ, "ES_PORT": str(self.http_port), "ES_HEAP": HEAP,
               "ES_CLUSTER_NAME": self.cluster, "ES_NODE_NAME": self.name,
               "ES_TRANSPORT_PORT": str(self.transport_port),
               "ES_SEED_HOSTS": self.seed_hosts, "ES_INITIAL_MASTERS": self.initial_masters,
               "ES_ROLES": self.roles, "ES_KEEP_DATA": "1" if keep_data else ""}
        done = subprocess.run(["bash", str(SCRIPT), "start"], env=env, capture_output=True,
                              text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"node {self.name} did not start:\n{done.stdout}\n{done.stderr}")

    def pid(self) -> int | None:
        try:
            return int((self.run_dir / "elasticsearch.pid").read_text())
        except (FileNotFoundError, ValueError):
            return None

    def running(self) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self) -> None:
        """SIGKILL: no goodbye to the cluster, as when a host dies."""
        pid = self.pid()
        assert pid is not None, f"node {self.name} has no pid"
        os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: not self.running(), timeout=30), f"{self.name} still runs"

    def stop(self) -> None:
        if self.running():
            os.kill(self.pid(), signal.SIGTERM)
            if not wait_until(lambda: not self.running(), timeout=30):
                os.kill(self.pid(), signal.SIGKILL)
        (ROOT / ".ci" / "cache" / f"started-es-{self.http_port}").unlink(missing_ok=True)
        shutil.rmtree(self.run_dir, ignore_errors=True)


def two_nodes() -> tuple[Node, Node]:
    """A master-eligible data node and a data-only node.

    Two master-eligible nodes would not survive either one's loss (a majority of two is two),
    so the second only holds data: it is the one a test may kill.
    """
    cluster = f"est-cluster-{free_port()}"
    transports = free_port(), free_port()
    seeds = ",".join(f"127.0.0.1:{port}" for port in transports)
    first = Node("node-a", cluster, free_port(), transports[0], seeds, initial_masters="node-a")
    second = Node("node-b", cluster, free_port(), transports[1], seeds, initial_masters="",
                  roles="data,ingest")
    return first, second


def wait_for_health(es: Elasticsearch, *, nodes: int, status: str) -> None:
    health = es.cluster.health(wait_for_nodes=str(nodes), wait_for_status=status,
                               wait_for_no_relocating_shards=True,
                               wait_for_no_initializing_shards=True, timeout="90s")
    assert not health["timed_out"], f"cluster not {status} with {nodes} nodes: {health}"


def shard_copies(es: Elasticsearch, index: str) -> dict[str, str]:
    """{"p": node holding the primary, "r": node holding the replica} of a one-shard index."""
    return {row["prirep"]: row["node"] for row in es.cat.shards(index=index, format="json")
            if row["state"] == "STARTED"}


def move_primary(es: Elasticsearch, index: str, to_node: str) -> None:
    """Put the primary of a one-shard index on ``to_node``, then restore its replica setting.

    Elasticsearch never holds two copies on one node, so the replica goes first, the primary
    moves, and the replica comes back on the other node.
    """
    expand = es.indices.get_settings(index=index)[index]["settings"]["index"][
        "auto_expand_replicas"]
    es.indices.put_settings(index=index, settings={"index": {
        "auto_expand_replicas": False, "number_of_replicas": 0}})
    wait_for_health(es, nodes=2, status="green")
    holder = shard_copies(es, index)["p"]
    if holder != to_node:
        es.cluster.reroute(commands=[{"move": {"index": index, "shard": 0,
                                               "from_node": holder, "to_node": to_node}}])
        wait_for_health(es, nodes=2, status="green")
    es.indices.put_settings(index=index, settings={"index": {"auto_expand_replicas": expand}})
    wait_for_health(es, nodes=2, status="green")
