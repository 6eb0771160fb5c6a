"""Root conftest: every test tier shares the infrastructure fixtures of conveyor_testing."""

pytest_plugins = ["conveyor_testing.plugin"]
