"""Events the notifications service publishes (`conveyor.notifications.<aggregate>.<event>.v<N>`).

Each event is an `EventContract` subclass with `type_name=...`; its first docstring line is
the summary shown in docs/asyncapi.yaml. The service's issue adds them with its behaviour.
"""
