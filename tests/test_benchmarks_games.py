"""How the games benchmark sums up its paced runs at the target's rate (no database, no servers)."""

from benchmarks.games_wallet import PACED_REPEATS, paced_summary


def run(p95_ms: float, ops_per_second: float = 500.0, offered: float = 500.0) -> dict:
    return {"p95_ms": p95_ms, "ops_per_second": ops_per_second, "offered": offered}


def test_the_target_is_sustained_only_when_every_run_meets_it():
    summary = paced_summary([run(6.8), run(30.4), run(9.1)])

    assert (summary["met_runs"], summary["met"]) == (2, False)
    assert summary["worst_p95_ms"] == 30.4
    assert summary["typical"] == run(9.1)  # the median p95 stands for the phase

    assert paced_summary([run(6.8), run(19.9), run(20.0)])["met"] is True


def test_a_run_that_answers_less_than_it_was_offered_does_not_meet_the_target():
    summary = paced_summary([run(5.0), run(5.0, ops_per_second=470.0), run(5.0)])

    assert (summary["met_runs"], summary["met"]) == (2, False)


def test_each_run_is_judged_against_the_rate_it_was_offered():
    # Each run is offered 25 % of a TPC-B measured just before it, so the offered rates differ.
    summary = paced_summary([run(5.0, ops_per_second=470.0, offered=480.0),
                             run(5.0, ops_per_second=470.0, offered=520.0),
                             run(5.0, ops_per_second=600.0, offered=600.0)])

    assert (summary["met_runs"], summary["met"]) == (2, False)


def test_the_phase_runs_more_than_once():
    assert PACED_REPEATS >= 3
