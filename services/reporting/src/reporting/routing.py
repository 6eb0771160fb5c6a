"""The reporting service's routing table: every event it consumes, from which topic, and its handler.

Reading this module tells you everything the service reacts to. Each entry becomes one consumer
group (`reporting.<name>`) started by `bootstrap.py`.
"""

from conveyor_messaging.runtime import Subscription

SUBSCRIPTIONS: list[Subscription] = []
