"""The benchmark runner's own parts: percentiles, the output lines, failures, discovery (no database)."""

import io
import uuid

import pytest
from django.core.management import call_command
from django.db import connection

from benchmarks import players_search
from benchmarks.common import (
    bench_teardown,
    format_figure,
    latency_figures,
    percentile,
    with_database_name,
    with_redis_db,
)
from benchmarks.run import main, module_names, run_module
from players.management.commands import seed_load
from players.models import Player
from players.tests.factories import PlayerFactory


def test_percentile_interpolates_between_closest_ranks():
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 3.0
    assert percentile(values, 100) == 5.0
    assert percentile(values, 95) == pytest.approx(4.8)
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert percentile([7.5], 95) == 7.5


def test_percentile_refuses_no_values_and_out_of_range():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_latency_figures_are_p50_and_p95_in_milliseconds():
    assert latency_figures("players.search_by_id", [float(n) for n in range(1, 21)]) == [
        ("players.search_by_id.p50", 10.5, "ms"),
        ("players.search_by_id.p95", 19.05, "ms"),
    ]


def test_a_figure_prints_as_one_bench_line():
    assert format_figure("players.search_by_id.p95", 12.3456, "ms") == "bench: players.search_by_id.p95 = 12.35 ms"
    assert format_figure("players.count", 1_000_000, "players") == "bench: players.count = 1000000 players"
    with pytest.raises(TypeError):
        format_figure("broken", "fast", "ms")


def test_run_module_prints_every_figure_on_stdout():
    out, err = io.StringIO(), io.StringIO()

    ok = run_module("fake", lambda: [("fake.a", 1.5, "ms"), ("fake.b", 3, "events/s")], out=out, err=err)

    assert ok is True
    assert out.getvalue().splitlines() == ["bench: fake.a = 1.50 ms", "bench: fake.b = 3 events/s"]
    assert "bench:" not in err.getvalue()


def test_a_failing_module_prints_an_error_line_on_stderr_and_no_figures():
    out, err = io.StringIO(), io.StringIO()

    def broken():
        raise RuntimeError("the simulator did not start\non port 1234")

    ok = run_module("crm_delivery", broken, out=out, err=err)

    assert ok is False
    assert out.getvalue() == ""
    assert "bench: crm_delivery = error the simulator did not start on port 1234" in err.getvalue().splitlines()


def test_a_module_returning_a_malformed_figure_counts_as_failed():
    out, err = io.StringIO(), io.StringIO()

    ok = run_module("odd", lambda: [("odd.a", 1.0, "ms"), ("odd.b", None, "ms")], out=out, err=err)

    assert ok is False
    assert out.getvalue() == ""  # nothing half-printed
    assert any(line.startswith("bench: odd = error") for line in err.getvalue().splitlines())


def test_discovery_lists_benchmark_modules_but_not_the_runner_or_helpers():
    names = module_names()
    assert "players_search" in names
    assert not {"run", "common", "__init__"} & set(names)


def test_an_unknown_module_name_is_refused_before_anything_runs(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["no_such_benchmark"])
    assert exit_info.value.code == 2
    assert "unknown benchmark module(s): no_such_benchmark" in capsys.readouterr().err


def test_the_bench_database_and_redis_are_the_same_servers_under_other_names():
    assert with_database_name("postgres://postgres@/igaming?host=/srv/pg", "igaming_bench") == (
        "postgres://postgres@/igaming_bench?host=/srv/pg")
    assert with_database_name("postgres://app:secret@db:5432/igaming", "igaming_bench") == (
        "postgres://app:secret@db:5432/igaming_bench")
    assert with_redis_db("redis://127.0.0.1:6479/0", 10) == "redis://127.0.0.1:6479/10"
    assert with_redis_db("redis://redis:6379", 10) == "redis://redis:6379/10"


def test_teardown_removes_the_runs_queue_of_delivery_kicks_and_no_other(settings):
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    settings.CRM_DELIVERY_QUEUE = run_queue = f"bench-kicks-{uuid.uuid4().hex[:8]}"
    other_queue = f"bench-kicks-{uuid.uuid4().hex[:8]}"
    client.rpush(run_queue, "kick", "kick")
    client.rpush(other_queue, "kick")
    try:
        bench_teardown()

        assert client.exists(run_queue) == 0
        assert client.llen(other_queue) == 1
    finally:
        client.delete(run_queue, other_queue)


def test_a_run_removes_its_kicks_even_when_a_benchmark_fails(monkeypatch, capsys):
    from benchmarks import run as runner

    torn_down = []
    monkeypatch.setattr(runner, "bench_setup", lambda: None)
    monkeypatch.setattr(runner, "bench_teardown", lambda: torn_down.append(True))
    monkeypatch.setattr(runner, "run_module", lambda name, run: False)

    assert runner.main(["players_search"]) == 1
    assert torn_down == [True]


def _player_indexes() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'players_player' ORDER BY 1")
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_seed_load_adds_players_and_builds_the_indexes_it_dropped_again(monkeypatch):
    monkeypatch.setattr(seed_load, "REBUILD_MIN", 100)  # take the drop-and-rebuild path with a few rows
    PlayerFactory(username="already-here")
    indexes_before = _player_indexes()

    call_command("seed_load", players=150, stdout=io.StringIO())

    assert Player.objects.count() == 151
    assert _player_indexes() == indexes_before
    assert Player.objects.filter(email__endswith="@load.example").count() == 150
    assert Player.objects.values("username").distinct().count() == 151


@pytest.mark.django_db(transaction=True)
def test_the_player_search_benchmark_runs_end_to_end_on_a_small_table(monkeypatch):
    monkeypatch.setenv("BENCH_PLAYERS", "120")
    monkeypatch.setattr(players_search, "SEARCHES", 12)
    monkeypatch.setattr(players_search, "RENDERS", 2)
    assert Player.objects.count() == 0

    figures = players_search.run()

    by_name = {name: (value, unit) for name, value, unit in figures}
    assert Player.objects.count() == 120
    assert by_name["players.count"] == (120, "players")
    assert by_name["players.seed_load"][1] == "s"
    for screen in ("search_by_id", "search_by_email", "search_by_username_prefix", "admin_list", "admin_search",
                   "admin_search_id", "admin_filtered_list"):
        p50, p95 = by_name[f"players.{screen}.p50"], by_name[f"players.{screen}.p95"]
        assert p50[1] == p95[1] == "ms"
        assert 0 < p50[0] <= p95[0]
    assert players_search.run()[0] == ("players.count", 120, "players")  # a second run loads nothing
