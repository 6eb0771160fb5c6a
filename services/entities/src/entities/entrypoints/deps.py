"""What every endpoint works with: the caller, the pool, the event store and the clock (from the kit)."""

from conveyor_kit.context import ContextDep as CtxDep
from conveyor_kit.context import RequestContext as Ctx

__all__ = ["Ctx", "CtxDep"]
