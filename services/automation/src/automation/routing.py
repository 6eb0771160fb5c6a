"""The automation service's routing table: every event it consumes, from which topic, and its handler.

Reading this module tells you everything the service reacts to. Each entry becomes one consumer
group (`automation.<name>`) started by `bootstrap.py`. Durable timers (`automation.timers`) are the
service's other input: they run robots when they are due. `FOLLOW_UPS` names the handler of the work
one handler asks of another in the same transaction (`automation.follow_ups`).
"""

from collections.abc import Awaitable, Callable

from conveyor_access.directory import DIRECTORY_HANDLE_BATCH, DIRECTORY_TOPICS
from conveyor_contracts import entities, notifications, pipelines
from conveyor_messaging.batches import Handler, in_turn, recording_in, route, route_mixed
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.follow_ups import FollowUpHandler, with_work_after_the_fetch
from conveyor_messaging.runtime import Subscription

from automation import follow_ups
from automation.handlers import (
    calendar_held,
    entity_types,
    process_events,
    processes,
    reactions,
    run_robot,
    when_items_changed_tell_their_processes,
    when_items_left_stages_cancel_their_robot_tasks,
)
from automation.handlers import when_deliveries_end_record_them_on_their_runs as deliveries

# The same store the service's backbone appends with: it holds SQL, no connection.
STORE = EventStore(source="/conveyor/automation")

Reaction = Callable[[Connection, EventStore, Envelope], Awaitable[None]]


def _recording(reaction: Reaction) -> Handler:
    async def handle(conn: Connection, event: Envelope) -> None:
        await reaction(conn, STORE, event)

    return handle


# Created and placed items come by the thousand in an import: their reactions take a whole run.
ITEMS_IN_BATCHES = {
    entities.ItemCreated.type_name: reactions.when_items_created_copy_them,
    pipelines.ItemPlaced.type_name: reactions.when_items_placed_schedule_robots,
    # Processes hear of a change once the copy is written (their ``item`` is the item as it now is).
    entities.ItemUpdated.type_name: in_turn(
        reactions.when_items_updated_refresh_copies_and_count_idle_time_again,
        when_items_changed_tell_their_processes.when_items_updated_tell_their_processes,
    ),
    # A move ends one visit and starts another: what the stage left opened closes, then the new one's robots.
    pipelines.ItemMovedToStage.type_name: in_turn(
        when_items_left_stages_cancel_their_robot_tasks.when_items_left_stages_cancel_their_robot_tasks,
        reactions.when_items_entered_stages_schedule_robots,
        when_items_changed_tell_their_processes.when_items_moved_tell_their_processes,
    ),
}
ITEMS = {
    entities.ItemDeleted.type_name: reactions.when_item_deleted_hold_its_robots,
    entities.ItemRestored.type_name: reactions.when_item_restored_release_its_robots,
}
DEFINITIONS = {
    entities.EntityTypeCreated.type_name: entity_types.when_entity_type_created_keep_its_code,
    entities.FieldAdded.type_name: entity_types.when_field_defined_keep_it,
    entities.FieldChanged.type_name: entity_types.when_field_defined_keep_it,
    pipelines.PipelineCreated.type_name: entity_types.when_pipeline_defined_keep_its_type,
    pipelines.PipelineChanged.type_name: entity_types.when_pipeline_defined_keep_its_type,
    entities.DictionaryCreated.type_name: reactions.when_dictionary_saved_keep_its_options,
    entities.DictionaryChanged.type_name: reactions.when_dictionary_saved_keep_its_options,
}
CALENDAR = {
    notifications.CalendarEntryScheduled.type_name: calendar_held.when_calendar_entry_scheduled_wait_for_its_end,
    notifications.CalendarEntryChanged.type_name: calendar_held.when_calendar_entry_scheduled_wait_for_its_end,
    notifications.CalendarEntryCancelled.type_name: calendar_held.when_calendar_entry_cancelled_it_is_not_held,
}
# How the e-mails and webhook calls robots and processes asked for ended: recorded on their runs.
DELIVERIES = {
    notifications.EmailSent.type_name: deliveries.when_emails_sent_record_them_on_their_runs,
    notifications.EmailFailed.type_name: deliveries.when_emails_failed_fail_their_runs,
    notifications.WebhookDelivered.type_name: deliveries.when_webhooks_delivered_record_them_on_their_runs,
    notifications.WebhookFailed.type_name: deliveries.when_webhooks_failed_fail_their_runs,
}

# Work one handler asks of another, in the asking transaction: handlers never import each other.
FOLLOW_UPS: dict[type, FollowUpHandler] = {
    follow_ups.RunRobotNow: run_robot.run_robot_now,
    follow_ups.StartProcess: processes.start_process_asked,
    follow_ups.DeliverEvent: process_events.deliver_event,
}
follow_ups.handled_by(FOLLOW_UPS)

# Items' fields and their stage visits share one consumer: both write the copy of the item, and one
# consumer applies what it fetched in one transaction, so the two can never deadlock on a row.
SUBSCRIPTIONS: list[Subscription] = [
    Subscription(
        name="items",
        topics=[
            entities.ItemCreated.topic(),
            pipelines.ItemPlaced.topic(),
            entities.FieldAdded.topic(),
            entities.DictionaryCreated.topic(),
            pipelines.PipelineCreated.topic(),
        ],
        # At-once robots run once the whole fetch is applied, in its transaction (follow_ups).
        handle_batch=with_work_after_the_fetch(
            route_mixed(
                {t: recording_in(STORE, r) for t, r in ITEMS_IN_BATCHES.items()},
                {t: _recording(r) for t, r in {**ITEMS, **DEFINITIONS}.items()},
            )
        ),
    ),
    Subscription(name="directory", topics=DIRECTORY_TOPICS, handle_batch=DIRECTORY_HANDLE_BATCH),
    # The notifications service's calendar: entries of items, for the "calendar entry held" trigger.
    Subscription(
        name="calendar",
        topics=[notifications.CalendarEntryScheduled.topic()],
        handle=route({t: _recording(r) for t, r in CALENDAR.items()}),
    ),
    Subscription(
        name="deliveries",
        topics=[notifications.EmailSent.topic(), notifications.WebhookDelivered.topic()],
        handle=route({t: _recording(r) for t, r in DELIVERIES.items()}),
    ),
]
