"""Events out (CONTRACT §10): the event list, webhook endpoints, their delivery log, and
redelivery. Thin: parse, authorise, call one service in a thread."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Admin, Paging, RowId, State, Viewer
from pesadesk.api.filters import parse_bound
from pesadesk.api.schemas import Body
from pesadesk.events import endpoints, history

router = APIRouter(tags=["events"])


class EndpointIn(Body):
    url: str = Field(min_length=1, max_length=2000)
    events: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        min_length=1, max_length=20
    )


class RedeliverIn(Body):
    endpoint_id: int | None = Field(default=None, ge=0, le=2_147_483_647)


@router.get("/api/events")
async def list_events(
    state: State, _: Viewer, paging: Paging, type: str | None = None, since: str | None = None
) -> dict[str, Any]:
    """Events newest first; `type` filters by kind, `since` (date or ISO time) by age."""
    start = parse_bound(since, end=False)
    page = await run_in_threadpool(
        lambda: history.list_events(state.db, paging, type=type, since=start)
    )
    return page.body()


@router.get("/api/events/{event_id}")
async def get_event(event_id: str, state: State, _: Viewer) -> dict[str, Any]:
    return await run_in_threadpool(history.get_event, state.db, event_id)


@router.post("/api/events/{event_id}/redeliver", status_code=202)
async def redeliver(
    event_id: str, state: State, _: Admin, body: RedeliverIn | None = None
) -> dict[str, Any]:
    """Send the event again (same `webhook-id`) to one endpoint or every one taking it."""
    target = body.endpoint_id if body is not None else None
    return await run_in_threadpool(
        lambda: history.redeliver(
            state.db, event_id=event_id, endpoint_id=target, clock=state.clock
        )
    )


@router.post("/api/webhook-endpoints", status_code=201)
async def create_endpoint(body: EndpointIn, state: State, who: Admin) -> dict[str, Any]:
    """A new endpoint; its `secret` (`whsec_...`) is in this answer and nowhere again."""
    return await run_in_threadpool(
        lambda: endpoints.create(
            state.db, url=body.url, events=body.events, actor=who, clock=state.clock
        )
    )


@router.get("/api/webhook-endpoints")
async def list_endpoints(state: State, _: Admin, paging: Paging) -> dict[str, Any]:
    page = await run_in_threadpool(endpoints.list_endpoints, state.db, paging)
    return page.body()


@router.get("/api/webhook-endpoints/{endpoint_id}")
async def get_endpoint(endpoint_id: RowId, state: State, _: Admin) -> dict[str, Any]:
    return await run_in_threadpool(endpoints.get, state.db, endpoint_id)


@router.delete("/api/webhook-endpoints/{endpoint_id}", status_code=204)
async def delete_endpoint(endpoint_id: RowId, state: State, who: Admin) -> Response:
    await run_in_threadpool(
        lambda: endpoints.delete(state.db, endpoint_id=endpoint_id, actor=who, clock=state.clock)
    )
    return Response(status_code=204)


@router.post("/api/webhook-endpoints/{endpoint_id}/enable")
async def enable_endpoint(endpoint_id: RowId, state: State, who: Admin) -> dict[str, Any]:
    """Turn a disabled endpoint back on."""
    return await run_in_threadpool(
        lambda: endpoints.enable(state.db, endpoint_id=endpoint_id, actor=who, clock=state.clock)
    )


@router.get("/api/webhook-endpoints/{endpoint_id}/deliveries")
async def deliveries(endpoint_id: RowId, state: State, _: Admin, paging: Paging) -> dict[str, Any]:
    """Every try at this endpoint, newest first: status code, time taken, error."""
    page = await run_in_threadpool(history.deliveries, state.db, endpoint_id, paging)
    return page.body()
