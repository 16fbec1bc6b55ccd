"""Where compiled plans (server.graphql.compiled) run: before strawberry for a query
seen before (``run_plan``, called by ``LiveSchema.execute``), and inside strawberry's
execution the first time (the ``CompiledExecution`` extension, after validation).

Either way a plan that gives up (``Fallback``) leaves the query to graphql-core,
which runs it again from the start: plans only answer read-only queries.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension

from server.auth import AuthError
from server.graphql.compiled import Fallback, Plan, PlanCache, PlanTimeout
from server.graphql.context import GraphQLContext

__all__ = ["PLAN_FAILED", "CompiledExecution", "run_plan", "run_plan_now", "timeout_error"]

# Set while LiveSchema runs a query the normal way after its cached plan gave up,
# so CompiledExecution does not try the same plan again.
PLAN_FAILED: ContextVar[bool] = ContextVar("graphql_plan_failed", default=False)


def timeout_error(limit: float) -> GraphQLError:
    return GraphQLError(
        f"the operation ran longer than the limit timeout_seconds={limit:g}",
        extensions={"code": "TIMEOUT", "limit": "timeout_seconds", "max": limit})


def _refused(ctx: GraphQLContext) -> bool:
    try:
        ctx.require("reader", "this operation")  # RoleGate's check
    except AuthError:
        return True
    return False


def run_plan_now(plans: PlanCache, plan: Plan, variables: dict[str, Any] | None,
                 ctx: GraphQLContext, root_value: Any,
                 operation_extensions: Any) -> ExecutionResult | None:
    """``run_plan`` for a store called inline (in memory): its resolvers never wait,
    so the plan runs to its end right here, without a coroutine around it."""
    if _refused(ctx):
        return None
    limit = ctx.limits.timeout_seconds
    # graph.core.paused_gc, written out (its context manager costs more than a small
    # answer's plan): a long answer's allocations would rescan the whole graph
    collecting = gc.isenabled()
    gc.disable()
    try:
        data = plan.execute_now(variables, ctx, root_value, operation_extensions, limit)
    except PlanTimeout:
        return ExecutionResult(data=None, errors=[timeout_error(limit)])
    except Fallback:
        plans.fell_back += 1
        return None
    finally:
        if collecting:
            gc.enable()
    plans.answered += 1
    return ExecutionResult(data=data, errors=None)


async def run_plan(plans: PlanCache, plan: Plan, variables: dict[str, Any] | None,
                   ctx: GraphQLContext, root_value: Any,
                   operation_extensions: Any) -> ExecutionResult | None:
    """The plan's result, or None when graphql-core must run the query (the plan gave
    up, or the caller is refused: RoleGate then says why)."""
    if ctx.inline_store:
        return run_plan_now(plans, plan, variables, ctx, root_value, operation_extensions)
    if _refused(ctx):
        return None
    limit = ctx.limits.timeout_seconds
    try:
        async with asyncio.timeout(limit):
            data = await plan.execute(variables, ctx, root_value, operation_extensions, limit)
    except (PlanTimeout, TimeoutError):
        return ExecutionResult(data=None, errors=[timeout_error(limit)])
    except Fallback:
        plans.fell_back += 1
        return None
    plans.answered += 1
    return ExecutionResult(data=data, errors=None)


class CompiledExecution(SchemaExtension):
    """Runs a validated query through its plan the first time it is seen (so every
    query, the tests' included, takes the plan when it can); later requests find
    the plan in LiveSchema.execute before strawberry runs."""

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        ctx, plans = ec.context, getattr(ec.schema, "plans", None)
        if (ec.result is None and isinstance(ctx, GraphQLContext)
                and isinstance(plans, PlanCache) and ec.graphql_document is not None
                and not PLAN_FAILED.get()):
            plan = plans.compile(ec.query, ec.operation_name, ec.graphql_document)
            if plan is not None:
                ec.result = await run_plan(plans, plan, ec.variables, ctx, ec.root_value,
                                           ec.operation_extensions)
        yield
