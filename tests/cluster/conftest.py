"""Fixtures of the cluster tests: a real Redis and a PostgreSQL database per test module,
and a ``network`` of ``chatroom serve`` nodes on them, shared by the module's tests (each
test uses nicks and rooms of its own, so they do not interfere).

A module sets ``NODES`` (default ``("a", "b", "c")``) and ``ACCOUNTS`` (accounts made
with ``PASSWORD`` before the nodes start; the operator ``admin`` is always made). A module
whose test breaks the network on purpose (kills a node, restarts Redis) holds that test
alone. When a test fails, the report shows the end of every running node's stderr.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from tests.cluster.support import Network
from tests.postgres_server import TempPostgres
from tests.redis_server import TempRedis

DEFAULT_NODES = ("a", "b", "c")
_running: list[Network] = []


@pytest.fixture(scope="module")
def redis_server() -> Iterator[TempRedis]:
    """A Redis of the module's own (a restart in one module touches no other)."""
    with TempRedis() as server:
        yield server


@pytest.fixture(scope="module")
def cluster_store(postgres: TempPostgres) -> str:
    """The store URL every node of the module's network shares: a new, empty database."""
    return postgres.new_database()


@pytest.fixture(scope="module")
def network(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: TempRedis,
    cluster_store: str,
) -> Iterator[Network]:
    running = Network(tmp_path_factory.mktemp("network"), redis_server, cluster_store)
    _running.append(running)
    try:
        running.create_account("admin", oper=True)
        for account in getattr(request.module, "ACCOUNTS", ()):
            running.create_account(account)
        running.start(*getattr(request.module, "NODES", DEFAULT_NODES))
        yield running
    finally:
        running.stop()
        _running.remove(running)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and _running:
        logs = "\n".join(network.logs() for network in _running)
        report.sections.append(("cluster nodes' stderr", logs))
    return report
