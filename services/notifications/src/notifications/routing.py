"""The notifications service's routing table: every event it consumes, from which topic, and its handler.

Reading this module tells you everything the service reacts to. Each entry becomes one consumer
group (`notifications.<name>`) started by `bootstrap.py`.
"""

from collections.abc import Awaitable, Callable

import conveyor_contracts  # noqa: F401  (registers every contract, for the webhook topics)
from conveyor_access.directory import DIRECTORY_HANDLE_BATCH, DIRECTORY_TOPICS
from conveyor_contracts import automation, entities, notifications, pipelines
from conveyor_messaging.batches import Handler, recording_in, route, route_mixed
from conveyor_messaging.contracts import registry
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.runtime import Subscription

from notifications.handlers import commands, stage_changes, task_notices, webhooks

# The same store the service's backbone appends with: it holds SQL, no connection.
STORE = EventStore(source="/conveyor/notifications")

Reaction = Callable[[Connection, EventStore, Envelope], Awaitable[None]]


def _recording(reaction: Reaction) -> Handler:
    async def handle(conn: Connection, event: Envelope) -> None:
        await reaction(conn, STORE, event)

    return handle


COMMANDS: dict[str, Reaction] = {
    notifications.Notify.type_name: commands.when_notify_commanded_notify_users,
    notifications.SendEmail.type_name: commands.when_email_commanded_send_it,
    notifications.CreateCalendarEntry.type_name: commands.when_calendar_entry_commanded_schedule_it,
    notifications.UpdateCalendarEntry.type_name: commands.when_calendar_entry_change_commanded_change_it,
    notifications.CancelCalendarEntry.type_name: commands.when_calendar_entry_cancel_commanded_cancel_it,
    notifications.CallWebhook.type_name: commands.when_webhook_call_commanded_queue_it,
}

# Automation's tasks: whoever a task reaches is told (its user, a role's candidates, a delegate).
TASKS: dict[str, Reaction] = {
    automation.TaskCreated.type_name: task_notices.when_task_created_tell_its_assignees,
    automation.TaskDelegated.type_name: task_notices.when_task_delegated_tell_the_new_assignee,
}

# Items' people and stage names share one consumer with the moves, so a move never overtakes its item.
# Created items come by the thousand in an import, updates and moves by the hundred a second on a busy
# board: their reactions take a whole fetch at once.
ITEMS_IN_BATCHES = {
    entities.ItemCreated.type_name: stage_changes.when_items_created_remember_their_people,
    entities.ItemUpdated.type_name: stage_changes.when_items_updated_follow_their_people,
    pipelines.ItemMovedToStage.type_name: stage_changes.when_items_moved_to_stages_tell_their_people,
}
ITEMS: dict[str, Reaction] = {
    entities.ItemPurged.type_name: stage_changes.when_item_deleted_forget_its_people,
    pipelines.PipelineCreated.type_name: stage_changes.when_stage_named_remember_it,
    pipelines.StageAdded.type_name: stage_changes.when_stage_named_remember_it,
    pipelines.StageChanged.type_name: stage_changes.when_stage_named_remember_it,
}

# Outgoing webhooks may subscribe to any domain event; commands and the webhooks' own events are not offered.
WEBHOOK_TOPICS = sorted(
    {
        c.topic()
        for c in registry
        if not c.topic().endswith("_command") and c.topic() != notifications.WebhookDelivered.topic()
    }
)

SUBSCRIPTIONS: list[Subscription] = [
    Subscription(
        name="commands",
        topics=sorted(
            {
                t.topic()
                for t in (
                    notifications.Notify,
                    notifications.SendEmail,
                    notifications.CreateCalendarEntry,
                    notifications.CallWebhook,
                )
            }
        ),
        handle=route({t: _recording(r) for t, r in COMMANDS.items()}),
    ),
    Subscription(
        name="items",
        topics=[entities.ItemCreated.topic(), pipelines.ItemMovedToStage.topic(), pipelines.PipelineCreated.topic()],
        handle_batch=route_mixed(
            {t: recording_in(STORE, r) for t, r in ITEMS_IN_BATCHES.items()},
            {t: _recording(r) for t, r in ITEMS.items()},
        ),
        batch_wait_ms=100,  # every item event, for the occasional stage-change notice: batches are cheaper
    ),
    Subscription(
        name="tasks",
        topics=[automation.TaskCreated.topic()],
        handle=route({t: _recording(r) for t, r in TASKS.items()}),
    ),
    Subscription(name="directory", topics=DIRECTORY_TOPICS, handle_batch=DIRECTORY_HANDLE_BATCH),
    # It reads every domain topic: fetched one event at a time, its fetches (75 partitions each) cost
    # the service more than all else it does; a webhook may leave 100 ms later (bench/README.md, system).
    Subscription(
        name="webhooks",
        topics=WEBHOOK_TOPICS,
        handle_batch=recording_in(STORE, webhooks.when_events_published_queue_webhooks),
        batch_wait_ms=100,
    ),
]
