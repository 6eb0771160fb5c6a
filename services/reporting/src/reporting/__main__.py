"""`python -m reporting serve|migrate`."""

from conveyor_kit.serve import service_main

from reporting.config import Settings
from reporting.entrypoints.http import create
from reporting.migrations import MIGRATIONS_PATH

if __name__ == "__main__":
    raise SystemExit(service_main(Settings, create, MIGRATIONS_PATH))
