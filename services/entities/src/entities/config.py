"""Settings of the entities service: environment variables prefixed `ENTITIES_`."""

from conveyor_kit.settings import DatabaseUrl, ServiceSettings
from pydantic_settings import SettingsConfigDict


class Settings(ServiceSettings):
    """The entities service's settings; see docs/service-kit.md for every variable."""

    model_config = SettingsConfigDict(env_prefix="ENTITIES_")

    port: int = 8001
    database_url: DatabaseUrl = "postgresql://conveyor@127.0.0.1:15432/conveyor_entities"
    # Appended to every consumer group name (`entities.placements<suffix>`): a deployment that keeps
    # its own database beside another one on the same Kafka (a test, a blue/green copy) needs its
    # own groups, or the two would split the partitions between them.
    consumer_group_suffix: str = ""
