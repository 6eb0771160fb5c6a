"""A type announced by the entities service gets its default pipeline; its items land on stages."""

from __future__ import annotations

from typing import Any as PipelinesApi  # the `api` fixture of conftest.py

import pytest

pytestmark = pytest.mark.integration


class TestDefaultPipeline:
    async def test_a_new_type_gets_general_with_the_default_stages(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()

        (general,) = await api.pipelines(type_id)

        assert general["name"] == "General" and general["is_default"]
        assert [(s["name"], s["semantic"]) for s in general["stages"]] == [
            ("New", "in_progress"),
            ("In progress", "in_progress"),
            ("Won", "success"),
            ("Lost", "failure"),
        ]

    async def test_an_item_created_over_kafka_lands_on_the_first_stage_of_the_default_pipeline(
        self, api: PipelinesApi
    ) -> None:
        type_id = await api.entity_type()
        (general,) = await api.pipelines(type_id)

        item = await api.item(type_id)

        assert item["pipeline_id"] == general["pipeline_id"]
        assert item["stage_id"] == general["stages"][0]["stage_id"]
        assert item["version"] == 1
