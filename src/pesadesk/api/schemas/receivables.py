"""Answers about what customers owe: customers, invoices, POS sales, statements."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from pesadesk.api.schemas.common import Answer, Kes, Page, Phone, Time
from pesadesk.core.statuses import InvoiceStatus, SaleStatus

CustomerId = Annotated[str, Field(examples=["CUST-001"])]
InvoiceId = Annotated[str, Field(examples=["INV-20260206-0001"])]


class Customer(Answer):
    """A customer and what they owe."""

    customer_id: CustomerId
    name: str = Field(examples=["Wanjiku Kamau"])
    phone: Phone | None
    balance: Kes = Field(description="What the customer owes; below zero is credit")
    credit: Kes = Field(description="Money held for the customer (never below zero)")
    created_at: Time


class Invoice(Answer):
    """An invoice: `UNPAID`, `PARTIALLY_PAID`, `PAID` or `CANCELLED`."""

    invoice_id: InvoiceId
    customer_id: CustomerId | None
    status: InvoiceStatus
    amount: Kes = Field(examples=[10000.0])
    amount_paid: Kes = Field(examples=[3000.0])
    balance: Kes = Field(description="amount - amount_paid", examples=[7000.0])
    description: str | None = Field(examples=["February stock"])
    created_at: Time
    updated_at: Time


class SaleItem(Answer):
    """One line of a sale."""

    product_id: str = Field(examples=["SKU-MILK-500"])
    product_name: str = Field(examples=["Milk 500 ml"])
    quantity: int = Field(examples=[2])
    unit_price: Kes = Field(examples=[65.0])
    line_total: Kes = Field(examples=[130.0])


class Sale(Answer):
    """A point-of-sale sale; once paid, `PAID` with the invoice made for it."""

    pos_id: str = Field(examples=["POS-20260206-0001"])
    status: SaleStatus
    total: Kes = Field(examples=[130.0])
    invoice_id: str | None = Field(
        description="The invoice made for the sale once it is paid", examples=[None]
    )
    customer_id: CustomerId | None
    items: list[SaleItem]
    created_at: Time


class StatementLine(Answer):
    """One journal that touched what the customer owes."""

    date: Time
    kind: str = Field(
        description="invoice, payment, credit_applied or refund", examples=["payment"]
    )
    reference: str = Field(examples=["PAY-C2B-RKL51ZDR4F"])
    description: str = Field(examples=["Payment PAY-C2B-RKL51ZDR4F"])
    debit: Kes = Field(description="What this line added to the amount owed", examples=[0.0])
    credit: Kes = Field(description="What this line paid off", examples=[3000.0])
    balance: Kes = Field(description="Owed after this line; below zero is credit")


class CustomerStatement(Answer):
    """The statement of account: every invoice, payment, credit and refund in order."""

    customer: Customer
    lines: list[StatementLine]
    balance: Kes = Field(description="Owed now; below zero is credit", examples=[7000.0])


class CustomerList(Page[Customer]):
    """Customers, newest first."""


class InvoiceList(Page[Invoice]):
    """Invoices, newest first."""
