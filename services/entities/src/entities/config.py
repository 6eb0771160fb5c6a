"""Settings of the entities service: environment variables prefixed `ENTITIES_`."""

from conveyor_kit.settings import DatabaseUrl, ServiceSettings
from pydantic_settings import SettingsConfigDict


class Settings(ServiceSettings):
    """The entities service's settings; see docs/service-kit.md for every variable."""

    model_config = SettingsConfigDict(env_prefix="ENTITIES_")

    port: int = 8001
    database_url: DatabaseUrl = "postgresql://conveyor@127.0.0.1:15432/conveyor_entities"
