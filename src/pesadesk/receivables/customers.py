"""Customers: the accounts that invoices are raised against and credit is kept on."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pesadesk.core.clock import Clock
from pesadesk.core.errors import (
    CustomerNotFound,
    DuplicateCustomer,
    DuplicatePhone,
    InvalidInput,
)
from pesadesk.core.phone import normalize_phone, phone_hash
from pesadesk.db.models import Customer
from pesadesk.shared import ids

_MAX_ID_ATTEMPTS = 50


@dataclass(frozen=True)
class NewCustomer:
    name: str
    phone: str | None = None
    customer_id: str | None = None


def create_customer(session: Session, *, new: NewCustomer, clock: Clock) -> Customer:
    """Insert a customer; without an id the next free `CUST-NNN` is taken."""
    name = new.name.strip()
    if not name:
        raise InvalidInput("name must not be empty")
    phone = normalize_phone(new.phone) if new.phone else None
    now = clock.now()
    wanted = ids.normalize_reference(new.customer_id) if new.customer_id else None
    if wanted is not None and not wanted:
        raise InvalidInput("customer_id must not be blank")
    for _ in range(_MAX_ID_ATTEMPTS):
        candidate = wanted or ids.customer_id(session)
        customer = Customer(
            customer_id=candidate,
            name=name,
            phone=phone,
            phone_hash=phone_hash(phone) if phone else None,
            balance_cents=0,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(customer)
                session.flush()
        except IntegrityError as exc:
            if phone is not None and "phone" in str(exc.orig).lower():
                raise DuplicatePhone(f"another customer already has phone {phone}") from None
            if wanted:
                raise DuplicateCustomer(f"customer {wanted} already exists") from None
            continue  # a hand-made id took this number; try the next one
        return customer
    raise DuplicateCustomer("could not find a free customer id")


def find_customer(session: Session, customer_id: str) -> Customer:
    customer = session.execute(
        select(Customer).where(Customer.customer_id == ids.normalize_reference(customer_id))
    ).scalar_one_or_none()
    if customer is None:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    return customer
