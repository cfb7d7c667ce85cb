from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Operator, Paging, State, Viewer
from pesadesk.api.problems import answers, explain
from pesadesk.api.schemas import CustomerIn
from pesadesk.api.schemas.receivables import Customer, CustomerList, CustomerStatement
from pesadesk.core.errors import (
    CustomerNotFound,
    DuplicateCustomer,
    DuplicatePhone,
    InvalidInput,
    InvalidPhone,
)
from pesadesk.receivables import service
from pesadesk.receivables.customers import NewCustomer

router = APIRouter(prefix="/api/customers", tags=["customers"])


@router.post(
    "", status_code=201, response_model=Customer,
    responses=answers(
        InvalidPhone, explain(InvalidInput, "name must not be empty"), DuplicateCustomer,
        DuplicatePhone,
    ),
)  # fmt: skip
async def create_customer(body: CustomerIn, state: State, _: Operator) -> dict[str, Any]:
    """A customer; `customer_id` defaults to the next `CUST-001`, `CUST-002`… One customer
    a phone number."""
    new = NewCustomer(body.name, body.phone, body.customer_id)
    return await run_in_threadpool(service.create_customer, state.db, new=new, clock=state.clock)


@router.get("", response_model=CustomerList)
async def list_customers(
    state: State, _: Viewer, paging: Paging, q: str | None = None
) -> dict[str, Any]:
    """Customers, newest first; `q` finds part of a name, phone or customer id."""
    page = await run_in_threadpool(service.list_customers, state.db, q=q, page=paging)
    return page.body()


@router.get("/{customer_id}", response_model=Customer, responses=answers(CustomerNotFound))
async def get_customer(customer_id: str, state: State, _: Viewer) -> dict[str, Any]:
    """`balance` is what the customer owes; below zero is credit."""
    return await run_in_threadpool(service.get_customer, state.db, customer_id)


@router.get(
    "/{customer_id}/statement", response_model=CustomerStatement,
    responses=answers(CustomerNotFound),
)  # fmt: skip
async def customer_statement(customer_id: str, state: State, _: Viewer) -> dict[str, Any]:
    """The statement of account: invoices, payments, credit and refunds, with balances."""
    return await run_in_threadpool(service.customer_statement, state.db, customer_id)
