"""What the service's handlers are given from outside: the clock."""

from conveyor_kit.clock import Clock

__all__ = ["Clock"]
