"""The pieces every answer is built of: money, times, lists and the one error shape.

Answers are validated against these models on the way out, so a model that is wrong is a
500 in the tests, not a lie in the docs. They keep any field a service adds that a model
does not name yet (`extra="allow"`): a new field is never dropped silently."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

# Shillings as a JSON number (the services make them from integer cents, for output only).
Kes = Annotated[float, Field(description="Shillings (KES), at most 2 decimals", examples=[500.0])]
KesOrNone = Annotated[
    float | None, Field(description="Shillings (KES), at most 2 decimals", examples=[500.0])
]
Time = Annotated[
    str,
    Field(
        description="ISO-8601 with offset (UTC)",
        examples=["2026-02-06T09:00:00+00:00"],
        json_schema_extra={"format": "date-time"},
    ),
]
TimeOrNone = Annotated[
    str | None,
    Field(
        description="ISO-8601 with offset (UTC)",
        examples=["2026-02-06T09:01:30+00:00"],
        json_schema_extra={"format": "date-time"},
    ),
]
SeedTime = Annotated[
    str,
    Field(
        description="`YYYY-MM-DD HH:MM:SS` in East Africa Time (UTC+3)",
        pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
        examples=["2026-02-06 12:00:00"],
    ),
]
Phone = Annotated[str, Field(description="2547XXXXXXXX or 2541XXXXXXXX", examples=["254722000000"])]
Cursor = Annotated[
    str | None,
    Field(
        description="Pass as `?cursor=` for the next page; null on the last page",
        examples=["WyIyMDI2LTAyLTA2VDA5OjAwOjAwKzAwOjAwIiwgIlBBWS0xMjMtMTY3NTY3MDQwMCJd"],
    ),
]


class Answer(BaseModel):
    """Base of every answer: fields a service adds beyond the model are kept."""

    model_config = ConfigDict(extra="allow")


Item = TypeVar("Item", bound=BaseModel)


class Page(Answer, Generic[Item]):
    """One page of a list, newest first: `?limit=` (default 50, at most 500) and
    `?cursor=` from the page before."""

    data: list[Item]
    next_cursor: Cursor


class Problem(Answer):
    """Every error answer: a sentence for a person and a stable code for a program."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{"error": "no payment 'PAY-C2B-RKL51ZDR4F'",
                                         "code": "payment_not_found"}]},
    )  # fmt: skip

    error: str = Field(description="What went wrong, in one line for a person")
    code: str = Field(description="A stable machine code (listed on each answer)")


class PayProblem(Problem):
    """A PIN prompt that did not go out says which payment it left and how."""

    payment_id: str | None = Field(default=None, examples=["PAY-123-1770368400"])
    status: str | None = Field(
        default=None, description="`failed` (refused) or `processing` (answer lost)"
    )


class RefundProblem(Problem):
    """A refund Daraja refused is kept `failed`; the answer names it."""

    success: bool | None = Field(default=None, examples=[False])
    refund_id: str | None = Field(default=None, examples=["RF-20260206-0001"])
    status: str | None = Field(default=None, examples=["failed"])
