"""CONTRACT §8 edges, each found by trying: bodies capped before any work, ids and
amounts out of range, statements in other encodings or with absurd fields, formulas in
CSV cells, a bad allow-list entry. None of them may answer 500 or lose anything."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pesadesk.api.app import create_app
from pesadesk.db.session import Database
from pesadesk.testing import FrozenClock
from tests.helpers import CONFIRMATION, c2b_body, customer, invoice, pay
from tests.integration.api_support import (
    app_client,
    assert_error_body,
    log_rows,
    settings_with,
)

SAMPLE = (
    Path(__file__).resolve().parent.parent / "fixtures" / "statements" / "org-portal-sample.csv"
)
STATEMENTS = "/api/reconciliation/statements"
HEADER = (
    "Receipt No.,Completion Time,Initiation Time,Details,Transaction Status,Paid In,"
    "Withdrawn,Balance,Balance Confirmed,Reason Type,Other Party Info,Linked Transaction ID,"
    "A/C No.\n"
)


def test_refused_callbacks_keep_at_most_4_kib(db_url: str, db: Database) -> None:
    """A 2 MB body without the webhook token: 403, and only its first 4 KiB are kept."""
    settings = settings_with(db_url, security={"webhook_token": "s3cret"})
    with app_client(settings, db, FrozenClock()) as client:
        big = b'{"TransID": "' + b"A" * 2_000_000 + b'"}'
        answer = client.post(CONFIRMATION, content=big)
        assert answer.status_code == 403
    [row] = log_rows(db)
    assert (row.flagged, row.processed, row.error_kind) == (True, False, "refused")
    assert len(row.raw_body) == 4096


def test_api_bodies_are_capped_and_keyless_calls_refused_unread(client: TestClient) -> None:
    """Over 1 MiB of JSON is 413 (declared or streamed); no key at all is 401 first."""
    huge = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'", "phone": "0722000001"}'
    assert client.post("/api/customers", content=huge).status_code == 413

    def chunks() -> object:
        yield b'{"name": "'
        for _ in range(20):
            yield b"y" * 100_000
        yield b'"}'

    streamed = client.post("/api/customers", content=chunks())  # no Content-Length
    assert (streamed.status_code, streamed.json()["code"]) == (413, "payload_too_large")
    keyless = client.post("/api/customers", content=huge, headers={"Authorization": ""})
    assert keyless.status_code == 401
    assert client.get("/api/customers", params={"q": "x"}).status_code == 200  # nothing stuck


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/orders/9223372036854775808"),
        ("POST", "/api/orders/9223372036854775808/pay"),
        ("PATCH", "/api/orders/2147483648"),
        ("DELETE", "/api/keys/9223372036854775808"),
        ("GET", "/api/reconciliation/statements/9223372036854775808"),
        ("POST", "/api/webhooks/logs/9223372036854775808/reprocess"),
    ],
)
def test_ids_out_of_range_are_422_not_500(client: TestClient, method: str, path: str) -> None:
    """A path id no row can have is refused as invalid, with the error body."""
    answer = client.request(method, path, json={"status": "confirmed"})
    assert answer.status_code in (404, 422), answer.text
    assert_error_body(answer.json())


@pytest.mark.parametrize("amount", [1e20, "1e20", 10**15, -(10**15)])
def test_absurd_amounts_are_422(client: TestClient, amount: object) -> None:
    """An invoice for 10^20 shillings is refused, not overflowed."""
    cust = customer(client)
    answer = client.post("/api/invoices", json={"customer_id": cust, "amount": amount})
    assert answer.status_code == 422, answer.text
    assert_error_body(answer.json())


def _upload(client: TestClient, data: bytes) -> object:
    return client.post(STATEMENTS, files={"file": ("statement.csv", data, "text/csv")})


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252", "utf-8-sig"])
def test_statements_in_other_encodings_are_read(client: TestClient, encoding: str) -> None:
    """The sample saved by a spreadsheet in UTF-16 or Windows-1252 (with a name in
    accents) gives the same report as the UTF-8 original."""
    text = SAMPLE.read_text(encoding="utf-8").replace("JOHN DOE", "JOSÉ NJOROGÉ")
    answer = _upload(client, text.encode(encoding))
    assert answer.status_code == 201, answer.text  # type: ignore[attr-defined]
    report = answer.json()  # type: ignore[attr-defined]
    assert report["counts"]["rows"] == 6
    assert "QGK12XYZ9" in report["missing_in_pesadesk"]


@pytest.mark.parametrize(
    "row",
    [
        "QGK12XYZ1,01-02-2026 10:00,,x,Completed,99999999999999999999.00,,,,,,,A\n",
        "QGK12XYZ1,01-02-2026 10:00,,x,Completed," + "9" * 200_000 + ",,,,,,,A\n",
        "R" * 5000 + ",01-02-2026 10:00,,x,Completed,100.00,,,,,,,A\n",
    ],
    ids=["huge amount", "field over 128 KB", "5,000-character receipt"],
)
def test_absurd_statement_rows_are_a_clear_422(client: TestClient, row: str) -> None:
    """The file is refused as `invalid_statement` and nothing is imported."""
    answer = _upload(client, (HEADER + row).encode())
    assert answer.status_code == 422, answer.text  # type: ignore[attr-defined]
    assert_error_body(answer.json(), "invalid_statement")  # type: ignore[attr-defined]
    assert client.get(STATEMENTS).json()["data"] == []


def test_binary_junk_is_not_a_statement(client: TestClient) -> None:
    """Bytes that are no text in any of the three encodings: 422 invalid_statement."""
    answer = _upload(client, bytes(range(128, 256)) * 100)
    assert answer.status_code == 422
    assert_error_body(answer.json(), "invalid_statement")


def test_formulas_in_csv_cells_are_neutralised(client: TestClient) -> None:
    """A payer's account number `=cmd|' /C calc'!A0` reaches the CSV as text."""
    body = c2b_body("100.00", "=cmd|' /C calc'!A0")
    assert client.post(CONFIRMATION, json=body).status_code == 200
    cust = customer(client)
    pay(client, "50.00", invoice(client, cust, 50)["invoice_id"])
    text = client.get("/api/payments", params={"format": "csv"}).text
    rows = list(csv.DictReader(io.StringIO(text)))
    references = {row["reference"] for row in rows}
    assert "'=cmd|' /C calc'!A0" in references
    assert not any(ref.startswith(("=", "+", "-", "@")) for ref in references)
    assert all(not row["amount"].startswith("'") for row in rows)  # numbers stay numbers


def test_a_bad_allow_list_entry_stops_the_start(db_url: str, db: Database) -> None:
    """`webhook_ip_allowlist: ["not-a-cidr"]` cannot start a desk that answers every
    callback 500: the settings refuse it, and an app built from unchecked settings fails
    too, naming the entry."""
    with pytest.raises(ValueError, match="not-a-cidr"):
        settings_with(db_url, security={"webhook_ip_allowlist": ["not-a-cidr"]})
    settings = settings_with(db_url)
    unchecked = settings.model_copy(
        update={
            "security": settings.security.model_copy(
                update={"webhook_ip_allowlist": ["not-a-cidr"]}
            )
        }
    )
    with pytest.raises(ValueError, match="not-a-cidr"):
        create_app(unchecked, db=db, clock=FrozenClock(), background=False)
