"""Request bodies. Amounts arrive as JSON numbers in shillings and become cents at once."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class CustomerIn(Body):
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=1, max_length=20)  # required (CONTRACT §4), normalised
    customer_id: str | None = Field(default=None, min_length=1, max_length=40)


class InvoiceIn(Body):
    customer_id: str = Field(min_length=1, max_length=40)
    amount: Decimal
    description: str | None = Field(default=None, max_length=500)


class SaleItemIn(Body):
    product_id: str = Field(min_length=1, max_length=100)
    product_name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=1_000_000)
    unit_price: Decimal


class SaleIn(Body):
    items: list[SaleItemIn] = Field(min_length=1, max_length=500)
    customer_id: str | None = Field(default=None, max_length=40)


class AllocateIn(Body):
    invoice_id: str | None = Field(default=None, max_length=40)
    customer_id: str | None = Field(default=None, max_length=40)


class ReviewIn(Body):
    note: str = Field(min_length=1, max_length=500)  # what the person decided, for the audit


class KeyIn(Body):
    role: str
    name: str = Field(min_length=1, max_length=100)
    owner: str | None = Field(default=None, max_length=100)  # the person; default: the caller's
