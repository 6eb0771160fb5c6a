"""Keep the labels of list fields' options (the entities service owns them), so the board's cards show
labels beside option ids without asking that service."""

from __future__ import annotations

from collections.abc import Sequence

from conveyor_contracts.entities import DictionaryChanged, DictionaryCreated, FieldAdded, FieldChanged, Option
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope

from pipelines.adapters import list_labels


def _labels(options: Sequence[Option] | None) -> dict[str, str]:
    # Hidden options keep their labels: items may still hold them.
    return {option.id: option.label for option in options or ()}


async def when_fields_defined_keep_list_labels(conn: Connection, envelopes: Sequence[Envelope]) -> None:
    """A fetch of field definitions (added or changed, each the whole definition) in one statement;
    only list fields are kept."""
    defined = [
        (e, (FieldAdded if e.type == FieldAdded.type_name else FieldChanged).model_validate(e.data)) for e in envelopes
    ]
    await list_labels.keep_fields(
        conn,
        [
            (e.tenant_id, d.entity_type_id, d.field.code, _labels(d.field.options), d.field.dictionary_id)
            for e, d in defined
            if d.field.kind == "list"
        ],
    )


async def when_dictionaries_defined_keep_their_labels(conn: Connection, envelopes: Sequence[Envelope]) -> None:
    """A fetch of dictionaries (created or changed, each with its whole option list) in one statement."""
    defined = [
        (e, (DictionaryCreated if e.type == DictionaryCreated.type_name else DictionaryChanged).model_validate(e.data))
        for e in envelopes
    ]
    await list_labels.keep_dictionaries(conn, [(e.tenant_id, d.dictionary_id, _labels(d.options)) for e, d in defined])
