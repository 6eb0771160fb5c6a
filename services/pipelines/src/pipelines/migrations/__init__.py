"""The pipelines database's schema history, applied by `python -m pipelines migrate`."""

from pathlib import Path

MIGRATIONS_PATH = Path(__file__).resolve().parent
