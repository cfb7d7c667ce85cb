"""The API's request bodies and answers, as pydantic models: FastAPI validates with them
and builds the OpenAPI document from them. The bodies are importable from here; the
answers from their modules (`common`, `receivables`, `payments`, `moneyout`, `admin`,
`callbacks`)."""

from pesadesk.api.schemas.bodies import (
    AllocateIn,
    Body,
    CustomerIn,
    InvoiceIn,
    KeyIn,
    OrderIn,
    OrderPatch,
    PayIn,
    PayoutIn,
    RefundIn,
    RefundRequestIn,
    ReviewIn,
    SaleIn,
    SaleItemIn,
)

__all__ = [
    "AllocateIn", "Body", "CustomerIn", "InvoiceIn", "KeyIn", "OrderIn", "OrderPatch", "PayIn",
    "PayoutIn", "RefundIn", "RefundRequestIn", "ReviewIn", "SaleIn", "SaleItemIn",
]  # fmt: skip
