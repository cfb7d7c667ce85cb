from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Operator, State, Viewer
from pesadesk.api.schemas import CustomerIn
from pesadesk.payments.views import customer_view
from pesadesk.receivables import customers

router = APIRouter(prefix="/api/customers", tags=["customers"])


@router.post("", status_code=201)
async def create_customer(body: CustomerIn, state: State, _: Operator) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        with state.db.write() as session:
            new = customers.NewCustomer(body.name, body.phone, body.customer_id)
            return customer_view(customers.create_customer(session, new=new, clock=state.clock))

    return await run_in_threadpool(work)


@router.get("/{customer_id}")
async def get_customer(customer_id: str, state: State, _: Viewer) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        with state.db.read() as session:
            return customer_view(customers.find_customer(session, customer_id))

    return await run_in_threadpool(work)
