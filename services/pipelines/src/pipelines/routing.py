"""The pipelines service's routing table: every event it consumes, from which topic, and its handler.

Reading this module tells you everything the service reacts to. Each entry becomes one consumer
group (`pipelines.<name>`) started by `bootstrap.py`. `FOLLOW_UPS` names the handler of the work one
handler asks of another in the same transaction (`pipelines.follow_ups`).
"""

from collections.abc import Awaitable, Callable

from conveyor_access.directory import DIRECTORY_HANDLE_BATCH, DIRECTORY_TOPICS
from conveyor_contracts import entities
from conveyor_contracts.pipelines import MoveItem
from conveyor_messaging.batches import Handler, recording_in, route, route_batches, route_mixed
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.follow_ups import FollowUpHandler
from conveyor_messaging.runtime import Subscription

from pipelines import follow_ups
from pipelines.handlers import follow_tunnels, move_item, place_item, reactions
from pipelines.handlers.when_items_created_place_them import when_items_created_place_them
from pipelines.handlers.when_list_fields_defined_keep_their_labels import (
    when_dictionaries_defined_keep_their_labels,
    when_fields_defined_keep_list_labels,
)

# The same store the service's backbone appends with: it holds SQL, no connection.
STORE = EventStore(source="/conveyor/pipelines")

Reaction = Callable[[Connection, EventStore, Envelope], Awaitable[None]]


def _recording(reaction: Reaction) -> Handler:
    async def handle(conn: Connection, event: Envelope) -> None:
        await reaction(conn, STORE, event)

    return handle


# Entity types and items share one consumer: an item may only be placed once its type's
# pipeline exists, and one consumer applies what it fetched in one transaction.
# Set-based reactions take every new event of their type in a fetch (conveyor_messaging.batches).
ENTITIES_IN_BATCHES = {
    entities.ItemCreated.type_name: when_items_created_place_them,
    entities.ItemUpdated.type_name: reactions.when_items_updated_refresh_their_cards,
}
ENTITIES = {
    entities.EntityTypeCreated.type_name: reactions.when_entity_type_created_open_default_pipeline,
    entities.EntityTypeChanged.type_name: reactions.when_entity_type_changed_follow_its_pipelines_setting,
    entities.ItemDeleted.type_name: reactions.when_item_deleted_hide_its_card,
    entities.ItemRestored.type_name: reactions.when_item_restored_show_its_card,
    entities.ItemPurged.type_name: reactions.when_item_purged_forget_it,
}
COMMANDS = {MoveItem.type_name: reactions.when_move_commanded_move_item}
# The labels of list values on the board's cards. A consumer of its own: new, it read these topics from
# their start, so it copied the types and dictionaries defined before it too.
LIST_LABELS = {
    entities.FieldAdded.type_name: when_fields_defined_keep_list_labels,
    entities.FieldChanged.type_name: when_fields_defined_keep_list_labels,
    entities.DictionaryCreated.type_name: when_dictionaries_defined_keep_their_labels,
    entities.DictionaryChanged.type_name: when_dictionaries_defined_keep_their_labels,
}

# Work one handler asks of another, in the asking transaction: handlers never import each other.
FOLLOW_UPS: dict[type, FollowUpHandler] = {
    follow_ups.FollowTunnels: follow_tunnels.follow_tunnels,
    follow_ups.MoveThroughTunnel: move_item.move_through_tunnel,
    follow_ups.PlaceWaitingItems: place_item.place_waiting_items,
}
follow_ups.handled_by(FOLLOW_UPS)

SUBSCRIPTIONS: list[Subscription] = [
    Subscription(
        name="entities",
        topics=[entities.EntityTypeCreated.topic(), entities.ItemCreated.topic()],
        handle_batch=route_mixed(
            {t: recording_in(STORE, r) for t, r in ENTITIES_IN_BATCHES.items()},
            {t: _recording(r) for t, r in ENTITIES.items()},
        ),
    ),
    Subscription(
        name="commands",
        topics=[MoveItem.topic()],
        handle=route({t: _recording(r) for t, r in COMMANDS.items()}),
    ),
    Subscription(name="directory", topics=DIRECTORY_TOPICS, handle_batch=DIRECTORY_HANDLE_BATCH),
    Subscription(
        name="field-labels",
        topics=[entities.FieldAdded.topic(), entities.DictionaryCreated.topic()],
        handle_batch=route_batches(LIST_LABELS),
    ),
]
