"""Player search at scale: with 1,000,000 players, search by id, exact e-mail or username prefix answers
in p95 <= 50 ms, and the admin player list and search pages render in <= 300 ms.

Measured on the real code paths: `players.selectors.player_search()` (first page, as the admin and
API read it) and the admin changelist rendered through Django's test client, logged in as a Support
agent. The players are loaded once with `manage.py seed_load` into the bench database and reused by
later runs (`BENCH_PLAYERS` changes how many; default 1,000,000). Before timing, EXPLAIN must show
each search form on an index: a sequential scan over the player table fails the benchmark.
"""

from __future__ import annotations

import os
import random
import re
import sys
import time

from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from benchmarks.common import Figure, latency_figures, log, percentile, time_each_ms
from players.models import Player
from players.roles import roles_ensure
from players.selectors import player_search

SEARCHES = 200  # random queries per search form
RENDERS = 30  # admin pages per screen
PAGE = 50  # the admin's list_per_page
SEARCH_TARGET_MS = 50
RENDER_TARGET_MS = 300
CHANGELIST = "/admin/players/player/"
SUPPORT_USERNAME = "bench-support"
# On a small table a sequential scan is the right plan; from this size on it means a missing index.
PLAN_CHECK_MIN = 100_000
INDEX_IN_PLAN = re.compile(r"Index (?:Only )?Scan(?: Backward)? (?:using|on) (\w+)")


def players_target() -> int:
    return int(os.environ.get("BENCH_PLAYERS", "1000000"))


def players_ensure(target: int) -> float | None:
    """Load players until the bench database has `target`; the seconds it took, or None when it had them."""
    present = Player.objects.count()
    if present >= target:
        log(f"# players_search: {present} players already loaded")
        return None
    log(f"# players_search: loading {target - present} players (seed_load)")
    started = time.monotonic()
    call_command("seed_load", players=target - present, stdout=sys.stderr)
    return time.monotonic() - started


def random_players(rng: random.Random, count: int) -> list[tuple[int, str, str]]:
    """`count` random existing players as (id, email, username), without a full-table ORDER BY random()."""
    count = min(count, Player.objects.count())
    low, high = Player.objects.order_by("pk").values_list("pk", flat=True)[0], Player.objects.latest("pk").pk
    found: dict[int, tuple[int, str, str]] = {}
    while len(found) < count:
        wanted = [rng.randint(low, high) for _ in range(count * 2)]
        for row in Player.objects.filter(pk__in=wanted).values_list("pk", "email", "username"):
            found.setdefault(row[0], row)
    picked = list(found.values())
    rng.shuffle(picked)
    return picked[:count]


def username_prefix(rng: random.Random, username: str) -> str:
    """What an agent types: the first 3 characters up to the whole name, in any case."""
    prefix = username[: rng.randint(3, len(username))]
    return prefix.upper() if rng.random() < 0.3 else prefix


def first_page(query: str) -> list[Player]:
    return list(player_search(query).select_related("brand").order_by("-id")[:PAGE])


def plan_check(label: str, query: str, enforce: bool = True) -> str:
    """EXPLAIN the search; fail when it reads the whole player table. Returns the plan."""
    plan = player_search(query).order_by("-id")[:PAGE].explain()
    if enforce and "Seq Scan on players_player" in plan:
        raise AssertionError(f"{label} search {query!r} scans the player table:\n{plan}")
    indexes = sorted(set(INDEX_IN_PLAN.findall(plan)))
    log(f"# players_search: {label} {query!r} uses {', '.join(indexes) or 'no index'}")
    return plan


def support_client() -> Client:
    user, created = User.objects.get_or_create(username=SUPPORT_USERNAME, defaults={"is_staff": True})
    if created:
        user.set_unusable_password()
        user.save()
    if not Group.objects.filter(name="Support").exists():
        roles_ensure()
    user.groups.set([Group.objects.get(name="Support")])
    client = Client()
    client.force_login(user)
    return client


def render_ms(client: Client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise AssertionError(f"GET {url} answered {response.status_code}")
    return elapsed


def admin_figures(client: Client, name: str, urls: list[str], expect: list[str] | None = None) -> list[Figure]:
    render_ms(client, urls[0])  # warm-up: template loading, the cached country list
    if expect:
        page = client.get(urls[0]).content.decode()
        if expect[0] not in page:
            raise AssertionError(f"{urls[0]} does not list {expect[0]!r}")
    samples = [render_ms(client, url) for url in urls]
    return target_check(latency_figures(name, samples), RENDER_TARGET_MS)


def target_check(figures: list[Figure], target_ms: float) -> list[Figure]:
    for name, value, _unit in figures:
        if name.endswith(".p95"):
            verdict = "ok" if value <= target_ms else "MISSED"
            log(f"# players_search: {name} {value} ms, target <= {target_ms} ms: {verdict}")
    return figures


def run() -> list[Figure]:
    target = players_target()
    load_seconds = players_ensure(target)
    count = Player.objects.count()
    figures: list[Figure] = [("players.count", count, "players")]
    if load_seconds is not None:
        figures.append(("players.seed_load", round(load_seconds, 1), "s"))
    with connection.cursor() as cursor:  # statistics may be stale if rows were added outside seed_load
        cursor.execute("ANALYZE players_player")

    rng = random.Random(20260101)
    sample = random_players(rng, SEARCHES)
    by_id = [str(pk) for pk, _email, _username in sample]
    by_email = [email.upper() if rng.random() < 0.2 else email for _pk, email, _username in sample]
    by_prefix = [username_prefix(rng, username) for _pk, _email, username in sample]
    enforce = count >= PLAN_CHECK_MIN
    for label, queries in (("id", by_id), ("email", by_email), ("username prefix", by_prefix)):
        plan_check(label, queries[0], enforce)
    plan_check("short prefix", by_prefix[0][:3], enforce)

    for query in by_id[:10]:  # warm-up: connection, plan cache of the session
        first_page(query)
    found = [first_page(query) for query in by_id[:20]]
    if not all(len(page) == 1 and str(page[0].pk) == query for page, query in zip(found, by_id, strict=False)):
        raise AssertionError("search by id did not find the player")
    id_ms = time_each_ms(first_page, by_id)
    email_ms = time_each_ms(first_page, by_email)
    prefix_ms = time_each_ms(first_page, by_prefix)
    slowest = max(zip(prefix_ms, by_prefix, strict=True))
    log(f"# players_search: slowest username prefix {slowest[1]!r} {slowest[0]:.1f} ms, "
        f"p99 {percentile(prefix_ms, 99):.1f} ms")
    figures += target_check(latency_figures("players.search_by_id", id_ms), SEARCH_TARGET_MS)
    figures += target_check(latency_figures("players.search_by_email", email_ms), SEARCH_TARGET_MS)
    figures += target_check(latency_figures("players.search_by_username_prefix", prefix_ms), SEARCH_TARGET_MS)

    with override_settings(ALLOWED_HOSTS=["testserver"]):
        client = support_client()
        figures += admin_figures(client, "players.admin_list", [CHANGELIST] * RENDERS)
        figures += admin_figures(client, "players.admin_search",
                                 [f"{CHANGELIST}?q={prefix}" for prefix in by_prefix[:RENDERS]])
        figures += admin_figures(client, "players.admin_search_id", [f"{CHANGELIST}?q={pk}" for pk in by_id[:RENDERS]],
                                 expect=[f"{CHANGELIST}{by_id[0]}/change/"])
        figures += admin_figures(client, "players.admin_filtered_list",
                                 [f"{CHANGELIST}?status__exact=ACTIVE&country=MT"] * RENDERS)
    return figures
