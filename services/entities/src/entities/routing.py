"""The entities service's routing table: every event it consumes, from which topic, and its handler.

Reading this module tells you everything the service reacts to. Each entry becomes one consumer
group (`entities.<name>`) started by `bootstrap.py`.
"""

from conveyor_contracts.entities import (
    CreateItem,
    ItemCreated,
    ItemDeleted,
    ItemPurged,
    ItemRestored,
    ItemUpdated,
    UpdateItemFields,
)
from conveyor_contracts.entities_links import ItemLinked, ItemUnlinked
from conveyor_contracts.pipelines import ItemMovedToStage, ItemPlaced
from conveyor_messaging.batches import route_batches, route_mixed
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.runtime import Subscription

from entities.handlers.carry_out_item_commands import (
    when_item_commands_arrive_carry_them_out,
)
from entities.handlers.rollup_reactions import (
    when_child_items_changed_roll_up_their_parents,
    when_items_were_linked_or_unlinked_roll_up_the_parent,
)
from entities.handlers.when_item_placed_keep_the_placement import (
    when_items_moved_keep_their_new_stages,
    when_items_placed_keep_their_placements,
)

# The same source as the backbone's own store; it holds SQL text only and connects to nothing.
STORE = EventStore(source="/conveyor/entities")

ITEM_COMMANDS = (CreateItem.type_name, UpdateItemFields.type_name)

SUBSCRIPTIONS: list[Subscription] = [
    Subscription(
        name="item-commands",
        topics=[CreateItem.topic()],
        # A robot's field change follows most moves: a fetch of commands is claimed and settled at once.
        handle_batch=route_batches(dict.fromkeys(ITEM_COMMANDS, when_item_commands_arrive_carry_them_out(STORE))),
    ),
    Subscription(
        name="placements",
        topics=[ItemPlaced.topic()],
        # An import's items are placed by the thousand and a busy board moves hundreds a second: both
        # are copied a fetch at a time, one statement each.
        handle_batch=route_batches(
            {
                ItemPlaced.type_name: when_items_placed_keep_their_placements,
                ItemMovedToStage.type_name: when_items_moved_keep_their_new_stages,
            }
        ),
    ),
    Subscription(
        name="rollups",
        topics=[ItemCreated.topic(), ItemLinked.topic()],
        # Every item event reaches it; most are of types no rule rolls up, which a run skips together.
        handle_batch=route_mixed(
            dict.fromkeys(
                [t.type_name for t in (ItemCreated, ItemUpdated, ItemDeleted, ItemRestored, ItemPurged)],
                when_child_items_changed_roll_up_their_parents(STORE),
            ),
            {
                ItemLinked.type_name: when_items_were_linked_or_unlinked_roll_up_the_parent(STORE),
                ItemUnlinked.type_name: when_items_were_linked_or_unlinked_roll_up_the_parent(STORE),
            },
        ),
    ),
]
