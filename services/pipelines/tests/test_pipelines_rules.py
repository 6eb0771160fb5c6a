"""Placement, transition rules and tunnel cycles: the service's rules without I/O."""

from __future__ import annotations

import pytest
from pipelines.domain.model import Pipeline, Stage
from pipelines.domain.placement import place
from pipelines.domain.transitions import REOPEN_ONLY_BY_ADMINS, TransitionRule, refusing_rule
from pipelines.domain.tunnels import cycle_through

pytestmark = pytest.mark.unit


def stage(stage_id: str, pipeline_id: str, sort: int, semantic: str = "in_progress", hidden: bool = False) -> Stage:
    return Stage(stage_id, pipeline_id, stage_id.upper(), "#000000", sort, semantic, hidden)  # type: ignore[arg-type]


SALES = Pipeline(
    "sales", "deal", "Sales", 10, True, (stage("s-won", "sales", 30, "success"), stage("s-new", "sales", 10))
)
RETAIL = Pipeline(
    "retail",
    "deal",
    "Retail",
    20,
    False,
    (
        stage("r-hidden", "retail", 5, hidden=True),
        stage("r-new", "retail", 10),
        stage("r-lost", "retail", 20, "failure"),
    ),
)


class TestPlacement:
    def test_an_item_lands_on_the_stage_it_asked_for(self) -> None:
        chosen = place([SALES, RETAIL], requested_pipeline_id="sales", requested_stage_id="r-lost")

        assert chosen is not None and chosen.stage_id == "r-lost"

    def test_without_a_stage_it_lands_on_the_first_visible_stage_of_the_requested_pipeline(self) -> None:
        chosen = place([SALES, RETAIL], requested_pipeline_id="retail", requested_stage_id=None)

        assert chosen is not None and chosen.stage_id == "r-new"

    def test_without_a_request_it_lands_on_the_first_stage_of_the_default_pipeline(self) -> None:
        chosen = place([RETAIL, SALES], requested_pipeline_id=None, requested_stage_id=None)

        assert chosen is not None and chosen.stage_id == "s-new"

    def test_an_unknown_request_falls_back_to_the_default_pipeline(self) -> None:
        chosen = place([SALES, RETAIL], requested_pipeline_id="gone", requested_stage_id="gone-too")

        assert chosen is not None and chosen.stage_id == "s-new"

    def test_a_type_without_pipelines_places_nothing_yet(self) -> None:
        assert place([], requested_pipeline_id=None, requested_stage_id=None) is None


class TestTransitionRules:
    won = stage("won", "p", 30, "success")
    lost = stage("lost", "p", 40, "failure")
    work = stage("work", "p", 10)

    def test_only_admins_reopen_a_closed_item(self) -> None:
        assert refusing_rule([REOPEN_ONLY_BY_ADMINS], self.won, self.work, frozenset({"manager"})) is not None
        assert refusing_rule([REOPEN_ONLY_BY_ADMINS], self.lost, self.work, frozenset({"admin"})) is None

    def test_moves_no_rule_matches_are_free(self) -> None:
        assert refusing_rule([REOPEN_ONLY_BY_ADMINS], self.work, self.won, frozenset()) is None
        assert refusing_rule([REOPEN_ONLY_BY_ADMINS], self.won, self.lost, frozenset({"manager"})) is None

    def test_a_rule_can_name_stages_instead_of_semantics(self) -> None:
        rule = TransitionRule(to_stage_ids=["lost"], roles=["head"])

        assert refusing_rule([rule], self.work, self.lost, frozenset({"manager"})) == rule
        assert refusing_rule([rule], self.work, self.lost, frozenset({"head", "manager"})) is None

    def test_a_rule_without_roles_is_invalid(self) -> None:
        with pytest.raises(ValueError):
            TransitionRule(to_semantics=["success"], roles=[])


class TestTunnelCycles:
    def test_a_tunnel_into_its_own_stage_is_a_cycle(self) -> None:
        assert cycle_through([], ("a", "a")) == ["a", "a"]

    def test_a_chain_has_no_cycle(self) -> None:
        assert cycle_through([("a", "b"), ("b", "c")], ("c", "d")) is None

    def test_closing_a_loop_names_every_stage_of_it(self) -> None:
        assert cycle_through([("a", "b"), ("b", "c"), ("x", "a")], ("c", "a")) == ["c", "a", "b", "c"]

    def test_branches_that_meet_again_are_not_a_cycle(self) -> None:
        assert cycle_through([("a", "b"), ("a", "c"), ("b", "d")], ("c", "d")) is None
