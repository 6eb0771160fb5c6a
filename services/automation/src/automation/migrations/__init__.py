"""The automation database's schema history, applied by `python -m automation migrate`."""

from pathlib import Path

MIGRATIONS_PATH = Path(__file__).resolve().parent
