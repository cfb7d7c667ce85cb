"""Request bodies. Amounts arrive as JSON numbers in shillings and become cents at once.

Their class names are the OpenAPI component names (`CustomerIn`, `OrderIn`...): clients
and the fuzzer's contract rules refer to them, so a rename is a change of the API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PHONE_FORMATS = "07XXXXXXXX, 01XXXXXXXX, +2547…, 2547… or 7…; stored as 2547XXXXXXXX"
SHILLINGS = "Shillings as a JSON number, at most 2 decimals"


def example(value: dict[str, Any]) -> ConfigDict:
    """A body's example, shown (and sent by "Try it out") in the API docs."""
    return ConfigDict(json_schema_extra={"examples": [value]})


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class CustomerIn(Body):
    model_config = example({"name": "Wanjiku Kamau", "phone": "0722000000"})

    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=1, max_length=20, description=PHONE_FORMATS)
    customer_id: str | None = Field(
        default=None, min_length=1, max_length=40,
        description="Your own id for the customer; by default the next CUST-001, CUST-002…",
    )  # fmt: skip


class InvoiceIn(Body):
    model_config = example(
        {"customer_id": "CUST-001", "amount": 10000, "description": "February stock"}
    )

    customer_id: str = Field(min_length=1, max_length=40)
    amount: Decimal = Field(description=SHILLINGS)
    description: str | None = Field(default=None, max_length=500)


class SaleItemIn(Body):
    product_id: str = Field(min_length=1, max_length=100)
    product_name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=1_000_000)
    unit_price: Decimal = Field(description=SHILLINGS)


class SaleIn(Body):
    model_config = example(
        {"items": [{"product_id": "SKU-MILK-500", "product_name": "Milk 500 ml",
                    "quantity": 2, "unit_price": 65}],
         "customer_id": None}
    )  # fmt: skip

    items: list[SaleItemIn] = Field(min_length=1, max_length=500)
    customer_id: str | None = Field(default=None, max_length=40)


class AllocateIn(Body):
    model_config = example({"invoice_id": "INV-20260206-0001"})

    invoice_id: str | None = Field(
        default=None, max_length=40, description="Give exactly one of invoice_id or customer_id"
    )
    customer_id: str | None = Field(
        default=None, max_length=40, description="Puts the money on the customer's account"
    )


class ReviewIn(Body):
    model_config = example({"note": "Called the payer: a second payment for order 123"})

    note: str = Field(min_length=1, max_length=500)  # what the person decided, for the audit


class KeyIn(Body):
    model_config = example({"role": "operator", "name": "till-2", "owner": "Achieng Otieno"})

    role: str = Field(description="viewer, operator or admin")
    name: str = Field(min_length=1, max_length=100)
    owner: str | None = Field(
        default=None, max_length=100,
        description="The person the key belongs to; default: the caller's owner",
    )  # fmt: skip


class OrderIn(Body):
    model_config = example(
        {"customer_phone": "0722000000", "amount": 500, "delivery_location": "Kilimani, Nairobi",
         "items": [{"name": "Chapati", "quantity": 5}]}
    )  # fmt: skip

    customer_phone: str = Field(min_length=1, max_length=20, description=PHONE_FORMATS)
    amount: Decimal = Field(description="Whole shillings (STK Push takes no cents)")
    delivery_location: str = Field(min_length=1, max_length=300)
    items: list[dict[str, Any]] | None = Field(default=None, max_length=200)


class OrderPatch(Body):
    model_config = example({"status": "preparing"})

    status: str = Field(description="pending, confirmed, preparing, delivered or cancelled")


class PayIn(Body):
    model_config = example({"phone": "0722000000"})

    phone: str | None = Field(
        default=None, max_length=20, description="The phone to prompt; default: the order's"
    )
    account: str | None = Field(  # a collection account's name
        default=None, max_length=40, description="The collection account; default: `default`"
    )


class RefundIn(Body):
    model_config = example({"amount": 500, "reason": "Out of stock"})

    amount: Decimal | None = Field(default=None, description="Default: what remains unrefunded")
    reason: str | None = Field(default=None, max_length=300)
    command_id: str | None = Field(
        default=None, max_length=30,
        description="BusinessPayment (default), SalaryPayment or PromotionPayment",
    )  # fmt: skip


class PayoutIn(Body):
    model_config = example({"phone": "0722000000", "amount": 1000, "remarks": "Prize"})

    phone: str = Field(min_length=1, max_length=20, description=PHONE_FORMATS)
    amount: Decimal = Field(description="Whole shillings")
    command_id: str | None = Field(default=None, max_length=30)
    remarks: str | None = Field(default=None, max_length=100)


class RefundRequestIn(Body):
    model_config = example(
        {"receipt": "RKL51ZDR4F", "phone": "0722000000", "amount": 500,
         "reason": "Paid twice for the same order"}
    )  # fmt: skip

    receipt: str = Field(min_length=1, max_length=40, description="The M-Pesa receipt")
    phone: str = Field(min_length=1, max_length=20, description="The phone that paid")
    amount: Decimal | None = Field(default=None, description="Default: all of it")
    reason: str = Field(min_length=1, max_length=500)
