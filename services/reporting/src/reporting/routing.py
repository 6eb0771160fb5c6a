"""The reporting service's routing table: every event it consumes, from which topic, and its reaction.

Reading this module tells you everything the service reacts to. ``PROJECTIONS`` feeds one consumer
group (`reporting.projections`) that applies each fetch as a batch (``adapters/consumer.py``); a new
service's events are projected by adding their topic to ``PROJECTION_TOPICS`` and their types here.
``SUBSCRIPTIONS`` are ordinary per-event consumers started by the backbone (the directory copy).
"""

from conveyor_access.directory import DIRECTORY_HANDLE_BATCH, DIRECTORY_TOPICS
from conveyor_contracts import automation, entities, entities_links, pipelines
from conveyor_messaging.runtime import Subscription

from reporting.handlers import Projection, catalogue, items, processes, stages

PROJECTIONS: dict[str, Projection] = {
    entities.EntityTypeCreated.type_name: catalogue.when_entity_type_defined_name_it,
    entities.EntityTypeChanged.type_name: catalogue.when_entity_type_defined_name_it,
    entities.FieldAdded.type_name: catalogue.when_field_defined_label_its_values,
    entities.FieldChanged.type_name: catalogue.when_field_defined_label_its_values,
    pipelines.PipelineCreated.type_name: catalogue.when_pipeline_changed_follow_its_stages,
    pipelines.PipelineChanged.type_name: catalogue.when_pipeline_changed_follow_its_stages,
    pipelines.StageAdded.type_name: catalogue.when_pipeline_changed_follow_its_stages,
    pipelines.StageChanged.type_name: catalogue.when_pipeline_changed_follow_its_stages,
    pipelines.StagesReordered.type_name: catalogue.when_pipeline_changed_follow_its_stages,
    pipelines.StageDeleted.type_name: catalogue.when_pipeline_changed_follow_its_stages,
    entities_links.ProductCreated.type_name: catalogue.when_product_defined_name_it,
    entities_links.ProductChanged.type_name: catalogue.when_product_defined_name_it,
    entities.ItemCreated.type_name: items.when_items_created_record_them,
    entities.ItemUpdated.type_name: items.when_items_updated_follow_their_values,
    entities.ItemDeleted.type_name: items.when_items_binned_or_restored_mark_them,
    entities.ItemRestored.type_name: items.when_items_binned_or_restored_mark_them,
    entities.ItemPurged.type_name: items.when_items_purged_forget_them,
    entities_links.ItemLinked.type_name: items.when_items_linked_remember_the_parent,
    entities_links.ItemUnlinked.type_name: items.when_items_linked_remember_the_parent,
    entities_links.ItemBoundToProduct.type_name: items.when_items_bound_to_products_remember_them,
    pipelines.ItemPlaced.type_name: stages.when_items_entered_stages_time_their_visits,
    pipelines.ItemMovedToStage.type_name: stages.when_items_entered_stages_time_their_visits,
    automation.ProcessTemplateSaved.type_name: processes.when_templates_saved_name_them,
    automation.ProcessStarted.type_name: processes.when_processes_start_or_end_follow_them,
    automation.ProcessFinished.type_name: processes.when_processes_start_or_end_follow_them,
    automation.TaskCreated.type_name: processes.when_process_tasks_change_time_their_steps,
    automation.TaskCompleted.type_name: processes.when_process_tasks_change_time_their_steps,
    automation.TaskDelegated.type_name: processes.when_process_tasks_change_time_their_steps,
}

PROJECTION_TOPICS: list[str] = sorted(
    {
        entities.EntityTypeCreated.topic(),
        entities.ItemCreated.topic(),
        entities_links.ItemLinked.topic(),
        entities_links.ProductCreated.topic(),
        pipelines.PipelineCreated.topic(),
        pipelines.ItemPlaced.topic(),
        automation.ProcessTemplateSaved.topic(),
        automation.ProcessStarted.topic(),
        automation.TaskCreated.topic(),
    }
)

# Consumer groups the service runs besides SUBSCRIPTIONS (name → topics; the group is
# ``reporting.<name><suffix>``), so tests can start them at the end of their topics too.
BATCH_CONSUMERS: dict[str, list[str]] = {"projections": PROJECTION_TOPICS}

SUBSCRIPTIONS: list[Subscription] = [
    Subscription(name="directory", topics=DIRECTORY_TOPICS, handle_batch=DIRECTORY_HANDLE_BATCH),
]
