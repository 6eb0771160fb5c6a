"""`python -m pipelines serve|migrate`."""

from conveyor_kit.serve import service_main

from pipelines.config import Settings
from pipelines.entrypoints.http import create
from pipelines.migrations import MIGRATIONS_PATH

if __name__ == "__main__":
    raise SystemExit(service_main(Settings, create, MIGRATIONS_PATH))
