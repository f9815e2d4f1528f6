"""The April 2024 demo reproduces the published bulletin, figure by figure."""

import pytest

from reports import demo
from tickets.models import Ticket

from .seed import seed_figures

SEED = seed_figures()


def appeal_label(name):
    return name if name == "其他" else f"{name}类"


@pytest.mark.django_db
def test_demo_bulletin_json_equals_the_seed_field_by_field(demo_bulletin):
    # given the demo generated and loaded through the imports, the assessment and the build
    # when
    data = demo_bulletin.as_json()
    # then: header and section 一
    assert data["issue"] == SEED["issue"]
    assert data["title"] == "汝州市12345政务服务便民热线四月份工作简报"
    assert data["office"] == SEED["office"] and data["date"] == SEED["date"]
    assert data["calls"]["printed"] == SEED["calls_printed"]
    assert round(data["calls"]["total"], -2) == 8700
    assert data["tickets"]["total"] == SEED["tickets_total"]
    assert data["tickets"]["local"] == SEED["local"]
    assert data["tickets"]["upper"] == SEED["upper"]
    assert data["good_units"] == SEED["good_units"]
    assert data["poor_units"] == SEED["poor_units"]
    assert data["stationing_incomplete"] == SEED["stationing_incomplete"]
    # section 二: every row; the seed's 20.90% is a misprint of 1045/4998 = 20.9084 → 20.91
    expected_appeal = [
        (name, count, "20.91" if name == "投诉举报类" else pct) for name, count, pct in SEED["appeal_types"]
    ]
    got_appeal = [(appeal_label(r["name"]), r["count"], r["percent"]) for r in data["appeal_types"]["rows"]]
    got_appeal.append(("合计", data["appeal_types"]["total"]["count"], data["appeal_types"]["total"]["percent"]))
    assert got_appeal == expected_appeal
    got_hot = [(r["name"], r["count"], r["percent"]) for r in data["hot_topics"]["rows"]]
    got_hot.append(("合计", data["hot_topics"]["total"]["count"], data["hot_topics"]["total"]["percent"]))
    assert got_hot == SEED["hot_topics"]
    # both 考核表: unit, score as printed, rank, in the printed order; nobody left out
    groups = {g["name"]: g for g in data["assessment"]["groups"]}
    assert [(r["unit"], r["score"], r["rank"]) for r in groups["乡镇街道"]["rows"]] == SEED["townships"]
    assert [(r["unit"], r["score"], r["rank"]) for r in groups["市直单位"]["rows"]] == SEED["city"]
    assert groups["乡镇街道"]["not_assessed"] == [] and groups["市直单位"]["not_assessed"] == []
    assert data["assessment"]["min_tickets"] == 9
    # the narrative is the editor's text and the issue is public
    assert data["sections"]["hot_issues"].startswith("**1、占道经营问题。**")
    assert data["status"] == "published"


@pytest.mark.django_db
def test_demo_counts_come_from_ticket_rows(demo_bulletin):
    # given the loaded demo / when counting rows directly / then they are the bulletin's figures
    assert Ticket.objects.count() == demo_bulletin.data["tickets"]["total"]
    assessed = sum(r["tickets"] for g in demo_bulletin.data["assessment"]["groups"] for r in g["rows"])
    assert assessed == SEED["local"]["dispatched"] + SEED["upper"]["total"]


def test_generator_is_deterministic(tmp_path):
    # given two runs with the same seed and one with another
    a = demo.demo_generate(tmp_path / "a", seed=7)
    b = demo.demo_generate(tmp_path / "b", seed=7)
    c = demo.demo_generate(tmp_path / "c", seed=8)
    # then the same seed writes the same files, another seed other files
    for kind in ("units", "stationing", "tickets", "calls"):
        assert a[kind].read_bytes() == b[kind].read_bytes()
    assert a["tickets"].read_bytes() != c["tickets"].read_bytes()


def test_solver_hits_every_printed_score():
    # given each printed score / when solving for a unit of 30 tickets / then the rule rounds to it
    for short, score in demo.TOWNSHIP_SCORES + demo.CITY_SCORES:
        deduction = 5 if short in demo.STATIONING_INCOMPLETE else 0
        outcome = demo.solve_unit(score, 30, deduction) or demo.solve_unit(score, 31, deduction)
        assert outcome is not None, short
        assert demo.format_score(demo.score_of(outcome, deduction)) == score


def test_score_of_matches_the_worked_example_of_assessment_md():
    # given the worked example: N=20, 18 on time both ways, 15 callbacks, 13 resolved, 11/3/1
    outcome = demo.Outcome(tickets=20, sign_on_time=18, close_on_time=18, callbacks=15, resolved=13,
                           satisfied=11, basic=3)
    # then
    assert demo.format_score(demo.score_of(outcome)) == "89.3"
    assert demo.format_score(demo.score_of(outcome, 5)) == "84.3"


@pytest.mark.django_db
def test_demo_command_is_idempotent(directory, editor, capsys):
    # given the demo loaded once by the command
    from django.core.management import call_command

    call_command("demo_april_2024")
    tickets = Ticket.objects.count()
    # when it runs again
    call_command("demo_april_2024")
    # then nothing changed and it said so
    assert Ticket.objects.count() == tickets == 4998
    assert "跳过" in capsys.readouterr().out
