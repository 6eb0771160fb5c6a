"""Moving items: versions, conflicts, rights, transition rules, history, commands over Kafka."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from typing import Any as PipelinesApi  # the `api` fixture of conftest.py

import pytest
from conveyor_contracts.directory import RoleGrantsSet
from conveyor_contracts.pipelines import MoveItem

pytestmark = pytest.mark.integration


async def stages_of(api: PipelinesApi, type_id: str) -> dict[str, str]:
    (general,) = await api.pipelines(type_id)
    return {s["name"]: s["id"] for s in general["stages"]}


class TestMoveItem:
    async def test_a_move_with_the_current_version_lands_and_bumps_the_version(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        stages = await stages_of(api, type_id)
        item = await api.item(type_id)

        response = await api.client.post(
            f"/v1/placements/{item['item_id']}/move",
            json={"to_stage_id": stages["In progress"]},
            headers={**api.headers(), "If-Match": '"1"'},
        )

        assert response.status_code == 200, response.text
        assert response.json()["stage_id"] == stages["In progress"]
        assert response.headers["ETag"] == '"2"'

    async def test_of_two_concurrent_moves_one_wins_and_the_other_gets_412(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        stages = await stages_of(api, type_id)
        item = await api.item(type_id)

        responses = await asyncio.gather(
            *(
                api.client.post(
                    f"/v1/placements/{item['item_id']}/move",
                    json={"to_stage_id": stages[name]},
                    headers={**api.headers(), "If-Match": '"1"'},
                )
                for name in ("Won", "Lost")
            )
        )

        assert sorted(r.status_code for r in responses) == [200, 412]
        loser = next(r for r in responses if r.status_code == 412)
        assert loser.headers["content-type"] == "application/problem+json"
        assert loser.json()["type"].endswith("/version-mismatch")
        history = (
            await api.client.get(f"/v1/placements/{item['item_id']}/stage-history", headers=api.headers())
        ).json()
        assert len(history["visits"]) == 2

    async def test_a_stale_version_is_412_and_changes_nothing(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        stages = await stages_of(api, type_id)
        item = await api.item(type_id)

        response = await api.client.post(
            f"/v1/placements/{item['item_id']}/move",
            json={"to_stage_id": stages["Won"]},
            headers={**api.headers(), "If-Match": '"7"'},
        )

        assert response.status_code == 412
        assert response.json()["type"].endswith("/version-mismatch")
        assert (response.json()["expected_version"], response.json()["current_version"]) == (7, 1)
        after = (await api.client.get(f"/v1/placements/{item['item_id']}", headers=api.headers())).json()
        assert after["stage_id"] == stages["New"] and after["version"] == 1

    @pytest.mark.parametrize(
        ("body", "if_match", "status"),
        [
            ({"to_stage_id": "no-such-stage"}, '"1"', 422),
            ({"to_stage_id": "x"}, '"-1"', 400),
            ({"to_stage_id": "x", "surprise": 1}, '"1"', 422),
            ({"to_stage_id": "x", "expected_version": 1}, None, 422),  # the version goes in If-Match only
            ({"to_stage_id": "x"}, None, 428),
        ],
    )
    async def test_bad_input_is_a_problem_and_changes_nothing(
        self, api: PipelinesApi, body: dict[str, object], if_match: str | None, status: int
    ) -> None:
        type_id = await api.entity_type()
        item = await api.item(type_id)
        headers = {**api.headers(), **({"If-Match": if_match} if if_match else {})}

        response = await api.client.post(f"/v1/placements/{item['item_id']}/move", json=body, headers=headers)

        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        after = (await api.client.get(f"/v1/placements/{item['item_id']}", headers=api.headers())).json()
        assert after["version"] == 1

    async def test_another_tenants_item_is_404(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        stages = await stages_of(api, type_id)
        item = await api.item(type_id)
        stranger = api.headers(tenant="tenant-other")

        moved = await api.client.post(
            f"/v1/placements/{item['item_id']}/move",
            json={"to_stage_id": stages["Won"]},
            headers={**stranger, "If-Match": '"1"'},
        )
        history = await api.client.get(f"/v1/placements/{item['item_id']}/stage-history", headers=stranger)

        assert (moved.status_code, history.status_code) == (404, 404)


class TestRightsAndRules:
    async def test_a_manager_moves_only_their_own_items_and_cannot_see_others(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        stages = await stages_of(api, type_id)
        grants = RoleGrantsSet(role="manager", entity_type_id=type_id, actions={"read": "own", "update": "own"})
        await api.publish(grants, subject=f"role-manager-{type_id}")
        mine = await api.item(type_id, assignee="manager-1")
        theirs = await api.item(type_id, assignee="manager-2")
        manager = api.headers(user="manager-1", roles=("manager",))

        async def move_mine() -> Any:
            return await api.client.post(
                f"/v1/placements/{mine['item_id']}/move",
                json={"to_stage_id": stages["Won"]},
                headers={**manager, "If-Match": '"1"'},
            )

        own = await api.eventually(move_mine, lambda r: r.status_code != 404)  # the grants travel through Kafka
        other = await api.client.post(
            f"/v1/placements/{theirs['item_id']}/move",
            json={"to_stage_id": stages["Won"]},
            headers={**manager, "If-Match": '"1"'},
        )

        assert own.status_code == 200, own.text
        assert other.status_code == 404

    async def test_only_admins_reopen_a_won_item(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        (general,) = await api.pipelines(type_id)
        stages = {s["name"]: s["id"] for s in general["stages"]}
        await api.publish(
            RoleGrantsSet(role="manager", entity_type_id=type_id, actions={"read": "all", "update": "all"}),
            subject=f"role-manager-{type_id}",
        )
        rule = {"from_semantics": ["success", "failure"], "to_semantics": ["in_progress"], "roles": ["admin"]}
        changed = await api.client.patch(
            f"/v1/pipelines/{general['id']}", json={"transition_rules": [rule]}, headers=api.headers()
        )
        assert changed.status_code == 200, changed.text
        item = await api.item(type_id)
        won = await api.client.post(
            f"/v1/placements/{item['item_id']}/move",
            json={"to_stage_id": stages["Won"]},
            headers={**api.headers(), "If-Match": '"1"'},
        )
        assert won.status_code == 200
        manager = api.headers(user="manager-1", roles=("manager",))

        async def reopen() -> Any:
            return await api.client.post(
                f"/v1/placements/{item['item_id']}/move",
                json={"to_stage_id": stages["New"]},
                headers={**manager, "If-Match": '"2"'},
            )

        refused = await api.eventually(reopen, lambda r: r.status_code != 404)
        by_admin = await api.client.post(
            f"/v1/placements/{item['item_id']}/move",
            json={"to_stage_id": stages["New"]},
            headers={**api.headers(), "If-Match": '"2"'},
        )

        assert refused.status_code == 403, refused.text
        assert by_admin.status_code == 200


class TestHistoryAndCommands:
    async def test_the_history_shows_every_visit_with_times_and_movers(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        stages = await stages_of(api, type_id)
        item = await api.item(type_id)
        for version, name in enumerate(["In progress", "New", "Won"], start=1):
            response = await api.client.post(
                f"/v1/placements/{item['item_id']}/move",
                json={"to_stage_id": stages[name]},
                headers={**api.headers(user="alice"), "If-Match": f'"{version}"'},
            )
            assert response.status_code == 200, response.text

        history = (
            await api.client.get(f"/v1/placements/{item['item_id']}/stage-history", headers=api.headers())
        ).json()

        visits = history["visits"]
        assert [v["stage_name"] for v in visits] == ["New", "In progress", "New", "Won"]
        assert all(v["left_at"] is not None for v in visits[:-1]) and visits[-1]["left_at"] is None
        assert [v["entered_by"] for v in visits[1:]] == ["user:alice"] * 3
        assert visits[0]["left_by"] == "user:alice"

    async def test_a_move_command_over_kafka_moves_once_per_idempotency_key(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        stages = await stages_of(api, type_id)
        item = await api.item(type_id)
        key = f"robot-{uuid.uuid4().hex}"

        for target in ("Won", "Lost"):  # the second command repeats the key: it must do nothing
            command = MoveItem(idempotency_key=key, item_id=item["item_id"], to_stage_id=stages[target])
            await api.publish(command, subject=item["item_id"])

        async def fetch() -> dict[str, Any]:
            return (await api.client.get(f"/v1/placements/{item['item_id']}", headers=api.headers())).json()  # type: ignore[no-any-return]

        moved = await api.eventually(fetch, lambda i: i["version"] == 2)
        await asyncio.sleep(1.0)
        again = await fetch()
        assert moved["stage_id"] == stages["Won"]
        assert again["version"] == 2
