"""The integration tests' cluster (``tests/integration/cluster.py``), started once per run.

They run only when asked for by marker, ``pytest -m integration`` (``make test-integration``):
a plain ``pytest`` (``make test``), or one selecting other markers, leaves them out, because they
apt-install and start databases. (The marker is registered and deselected here rather than in
pyproject.toml, whose hash names the environment's stamp: editing it rebuilds ``.venv``.)

Every process it starts is stopped at the end whatever happened: a failed start, a failed test,
Ctrl-C, or SIGTERM from a CI timeout (turned into KeyboardInterrupt, which pytest unwinds through
the fixture). A failed test carries the tail of every process's log in its report.
"""

from __future__ import annotations

import signal
from collections.abc import Generator, Iterator
from types import FrameType

import pytest

from tests.integration.cluster import Cluster, ensure_installed, make_cluster, remove_cluster


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: PostgreSQL, Redis, two Rasa replicas (`make test-integration`)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "integration" in (config.option.markexpr or ""):
        return
    left_out = [item for item in items if item.get_closest_marker("integration")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("integration")]


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    ensure_installed()
    built = make_cluster(tmp_path_factory.mktemp("cluster"))
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        try:
            built.start_all()
        except Exception:
            print(built.log_tails())
            raise
        yield built
    finally:
        built.stop_all()
        remove_cluster(built)
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture
def full_cluster(cluster: Cluster) -> Cluster:
    """The cluster with every process up (an earlier test may have killed some)."""
    cluster.ensure_up()
    return cluster


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    arguments = getattr(item, "funcargs", {})
    running = arguments.get("cluster") or arguments.get("full_cluster")
    if report.failed and isinstance(running, Cluster):
        report.sections.append(("cluster logs (last lines)", running.log_tails()))
