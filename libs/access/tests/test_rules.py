"""One access rule for every service: scopes from grants, and the checks that follow from them."""

from __future__ import annotations

import pytest
from conveyor_access import Action, Grant, Scope, Viewer, permits, scope_for, sql_condition

pytestmark = pytest.mark.unit

DOCS = "type-documents"
GRANTS = [
    Grant("manager", DOCS, Action.READ, Scope.OWN),
    Grant("manager", DOCS, Action.CREATE, Scope.ALL),
    Grant("manager", DOCS, Action.UPDATE, Scope.OWN),
    Grant("head", DOCS, Action.READ, Scope.DEPARTMENT_TREE),
    Grant("director", DOCS, Action.READ, Scope.ALL),
    Grant("manager", DOCS, Action.READ, Scope.NONE, pipeline_id="secret-pipeline"),
    Grant("auditor", DOCS, Action.READ, Scope.ALL, pipeline_id="audited-pipeline"),
]

alice = Viewer("alice", frozenset({"manager"}))
helen = Viewer(
    "helen",
    frozenset({"head", "manager"}),
    department_user_ids=frozenset({"alice"}),
    department_tree_user_ids=frozenset({"alice", "bob"}),
)


class TestScopeFor:
    def test_a_role_gets_the_scope_of_its_grant(self) -> None:
        assert scope_for(alice, GRANTS, entity_type_id=DOCS, action=Action.READ) is Scope.OWN

    def test_the_widest_of_several_roles_wins(self) -> None:
        assert scope_for(helen, GRANTS, entity_type_id=DOCS, action=Action.READ) is Scope.DEPARTMENT_TREE

    def test_no_grant_means_no_access(self) -> None:
        assert scope_for(alice, GRANTS, entity_type_id=DOCS, action=Action.DELETE) is Scope.NONE
        assert scope_for(alice, GRANTS, entity_type_id="other-type", action=Action.READ) is Scope.NONE

    def test_a_pipeline_grant_replaces_the_type_wide_one_for_that_pipeline(self) -> None:
        def read(viewer: Viewer, pipeline: str) -> Scope:
            return scope_for(viewer, GRANTS, entity_type_id=DOCS, action=Action.READ, pipeline_id=pipeline)

        auditor = Viewer("ann", frozenset({"auditor"}))
        assert read(alice, "secret-pipeline") is Scope.NONE
        assert read(alice, "any-other") is Scope.OWN
        assert read(auditor, "audited-pipeline") is Scope.ALL
        assert read(auditor, "any-other") is Scope.NONE

    def test_tenant_admins_may_do_everything(self) -> None:
        admin = Viewer("root", frozenset({"admin"}))
        assert scope_for(admin, [], entity_type_id=DOCS, action=Action.DELETE) is Scope.ALL


class TestPermits:
    @pytest.mark.parametrize(
        ("scope", "assignee", "expected"),
        [
            (Scope.ALL, "zoe", True),
            (Scope.NONE, "helen", False),
            (Scope.OWN, "helen", True),
            (Scope.OWN, "alice", False),
            (Scope.DEPARTMENT, "alice", True),
            (Scope.DEPARTMENT, "bob", False),
            (Scope.DEPARTMENT_TREE, "bob", True),
            (Scope.DEPARTMENT_TREE, "zoe", False),
            (Scope.OWN, None, False),
        ],
    )
    def test_each_scope_admits_exactly_its_items(self, scope: Scope, assignee: str | None, expected: bool) -> None:
        assert permits(scope, helen, assignee) is expected


class TestSqlCondition:
    def test_matches_permits_for_every_scope(self) -> None:
        assert sql_condition(Scope.ALL, helen, assignee_column="assignee_id", param=3) == ("TRUE", [])
        assert sql_condition(Scope.NONE, helen, assignee_column="assignee_id", param=3) == ("FALSE", [])
        assert sql_condition(Scope.OWN, helen, assignee_column="i.assignee_id", param=3) == (
            "i.assignee_id = $3",
            ["helen"],
        )
        text, params = sql_condition(Scope.DEPARTMENT_TREE, helen, assignee_column="assignee_id", param=5)
        assert text == "assignee_id = ANY($5::text[])"
        assert params == [["alice", "bob", "helen"]]
