"""Alembic's entry point; the shared async implementation lives in conveyor_kit."""

from conveyor_kit.migrations import run_env

run_env()
