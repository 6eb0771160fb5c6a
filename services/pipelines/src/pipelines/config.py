"""Settings of the pipelines service: environment variables prefixed `PIPELINES_`."""

from conveyor_kit.settings import DatabaseUrl, ServiceSettings
from pydantic_settings import SettingsConfigDict


class Settings(ServiceSettings):
    """The pipelines service's settings; see docs/service-kit.md for every variable."""

    model_config = SettingsConfigDict(env_prefix="PIPELINES_")

    port: int = 8002
    database_url: DatabaseUrl = "postgresql://conveyor@127.0.0.1:15432/conveyor_pipelines"
