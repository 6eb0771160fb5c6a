"""Settings of the entities service: environment variables prefixed `ENTITIES_`."""

import tempfile
from pathlib import Path

from conveyor_kit.settings import DatabaseUrl, ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

IMPORT_UPLOADS = "/v1/imports/files"


class Settings(ServiceSettings):
    """The entities service's settings; see docs/service-kit.md for every variable."""

    model_config = SettingsConfigDict(env_prefix="ENTITIES_")

    port: int = 8001
    database_url: DatabaseUrl = "postgresql://conveyor@127.0.0.1:15432/conveyor_entities"
    # Import uploads stream to disk and into the database in parts, so their limit is far above
    # every other body's (`max_body_bytes`, 1 MiB); the kit applies it to this one path only.
    large_body_paths: dict[str, int] = Field(default_factory=lambda: {IMPORT_UPLOADS: 2 * 1024**3})
    # Where uploads are written as they arrive and read by dry runs and imports (a cache: the
    # database keeps every file's parts).
    import_spool_dir: Path = Path(tempfile.gettempdir()) / "conveyor-entities-imports"
    # Local copies untouched this long are removed when the service starts (rebuilt when needed).
    import_spool_retention_hours: float = Field(default=24.0, gt=0)

    @property
    def max_import_bytes(self) -> int:
        return self.large_body_paths.get(IMPORT_UPLOADS, self.max_body_bytes)
