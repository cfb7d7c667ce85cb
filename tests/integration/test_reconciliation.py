"""Statement import and the automatic match report, over the API on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pesadesk.reconcile.statement import StatementError, StatementHeader, read_statement
from pesadesk.testing import FrozenClock
from tests.helpers import CONFIRMATION, c2b_body, customer, invoice

SAMPLE = Path(__file__).parent.parent / "fixtures" / "statements" / "org-portal-sample.csv"
HEADER = (
    "Receipt No.,Completion Time,Initiation Time,Details,Transaction Status,Paid In,Withdrawn,"
    "Balance,Balance Confirmed,Reason Type,Other Party Info,Linked Transaction ID,A/C No.\n"
)


def confirm(client: TestClient, txn: str, amount: str, ref: str, when: str) -> None:
    body = c2b_body(amount, ref, txn=txn)
    body["TransTime"] = when
    assert client.post(CONFIRMATION, json=body).status_code == 200


def upload(client: TestClient, text: str, name: str = "statement.csv") -> dict:  # type: ignore[type-arg]
    answer = client.post(
        "/api/reconciliation/statements", files={"file": (name, text.encode(), "text/csv")}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_sample_statement_report(client: TestClient, clock: FrozenClock) -> None:
    """Against the sample: one match, one amount mismatch, one status mismatch, the rest
    missing here, and a pesadesk payment in the period that the statement lacks."""
    cust = customer(client)
    invoice(client, cust, 10_000)
    confirm(client, "QGK12XYZ9", "5000.00", cust, "20260203143022")  # matches
    confirm(client, "QGK12XYZ8", "3000.00", cust, "20260203110210")  # statement says 3,500
    confirm(client, "QGK12XYZ4", "1200.00", cust, "20260201100001")  # statement: Failed
    confirm(client, "QGK99EXTRA", "700.00", cust, "20260202120000")  # not in statement
    confirm(client, "QGK00OUTSIDE", "50.00", cust, "20260210120000")  # outside the period
    report = upload(client, SAMPLE.read_text())
    assert report["period"] == {
        "from": "2026-01-31T21:00:00+00:00",
        "to": "2026-02-03T20:59:59+00:00",
    }
    assert report["matched"] == ["QGK12XYZ9"]
    assert report["amount_mismatches"] == [
        {"receipt": "QGK12XYZ8", "statement_amount": 3500.0, "pesadesk_amount": 3000.0}
    ]
    assert report["status_mismatches"] == [
        {"receipt": "QGK12XYZ4", "statement_status": "Failed", "pesadesk_status": "completed"}
    ]
    assert sorted(report["missing_in_pesadesk"]) == ["QGK12XYZ5", "QGK12XYZ6"]
    assert report["missing_in_statement"] == ["QGK99EXTRA"]
    assert report["counts"]["rows"] == 6
    assert report["counts"]["withdrawal_rows"] == 1
    stored = client.get(f"/api/reconciliation/statements/{report['id']}").json()
    assert stored["matched"] == report["matched"]
    listed = client.get("/api/reconciliation/statements").json()["data"]
    assert [entry["id"] for entry in listed] == [report["id"]]
    assert listed[0]["rows"] == 6
    assert "matched" not in listed[0]  # listings stay small; the lists are in the report


def test_missing_rows_can_be_imported_as_payments(client: TestClient) -> None:
    """Rows the statement has and pesadesk lacks become C2B payments, allocated as a
    confirmation would be; importing twice adds nothing."""
    cust = customer(client)
    inv = invoice(client, cust, 3850)
    text = HEADER + (
        f'QGK55MISS1,01-02-2026 16:20,01-02-2026 16:20,Pay Bill,Completed,"3,850.00",,'
        f'"16,350.00",true,Pay Bill Online,254799***999 - PETER OTIENO,,{inv["invoice_id"]}\n'
    )
    report = upload(client, text)
    assert report["missing_in_pesadesk"] == ["QGK55MISS1"]
    first = client.post(f"/api/reconciliation/statements/{report['id']}/import-missing")
    assert first.status_code == 200, first.text
    assert first.json() == {"imported": ["QGK55MISS1"], "skipped": []}
    payment = client.get("/api/payments/PAY-C2B-QGK55MISS1").json()
    assert (payment["status"], payment["amount"], payment["invoice_id"]) == (
        "completed", 3850.0, inv["invoice_id"],
    )  # fmt: skip
    assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["status"] == "PAID"
    again = client.post(f"/api/reconciliation/statements/{report['id']}/import-missing")
    assert again.json() == {"imported": [], "skipped": ["QGK55MISS1"]}


def test_imported_payments_count_on_the_statement_day(client: TestClient) -> None:
    """A payment imported today from a statement row of 1 Feb is paid at 1 Feb 16:20 EAT
    and counted on 1 Feb by the stats and the payment filters, not on the import day; its
    log row says it came from a statement."""
    text = HEADER + (
        'QGK55MISS2,01-02-2026 16:20,01-02-2026 16:20,Pay Bill,Completed,"700.00",,'
        '"16,350.00",true,Pay Bill Online,254799***999 - PETER OTIENO,,NOBODY\n'
    )
    report = upload(client, text)
    client.post(f"/api/reconciliation/statements/{report['id']}/import-missing")
    payment = client.get("/api/payments/PAY-C2B-QGK55MISS2").json()
    assert payment["paid_at"] == "2026-02-01 16:20:00"
    day = client.get("/api/stats", params={"from": "2026-02-01", "to": "2026-02-01"}).json()
    today = client.get("/api/stats", params={"from": "2026-02-06"}).json()
    assert (day["total_payments"], day["payment_revenue"]) == (1, 700.0)
    assert today["total_payments"] == 0
    listed = client.get("/api/payments", params={"from": "2026-02-01", "to": "2026-02-01"})
    assert [p["id"] for p in listed.json()] == ["PAY-C2B-QGK55MISS2"]
    [entry] = client.get("/api/webhooks/logs", params={"external_id": "QGK55MISS2"}).json()["data"]
    assert (entry["origin"], entry["processed"]) == ("statement", True)


def test_statement_without_preamble_uses_row_times_as_period(client: TestClient) -> None:
    """No preamble: the header is the first line, and the period spans the rows' times."""
    text = HEADER + (
        "QGK1ROW01,05-02-2026 10:00:00,,x,Completed,100.00,,,true,,,,A\n"
        'QGK2ROW02,06-02-2026 11:30,,x,Completed,"1,100.50",,,true,,,,B\n'
    )
    report = upload(client, text)
    assert report["period"]["from"] == "2026-02-05T07:00:00+00:00"
    assert report["period"]["to"] == "2026-02-06T08:30:00+00:00"
    assert report["missing_in_pesadesk"] == ["QGK1ROW01", "QGK2ROW02"]


def test_not_a_statement_is_refused(client: TestClient) -> None:
    """A file without the statement header is a 422 with a clear message, and nothing is stored."""
    answer = client.post(
        "/api/reconciliation/statements",
        files={"file": ("x.csv", b"name,amount\nfoo,1\n", "text/csv")},
    )
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_statement"
    assert client.get("/api/reconciliation/statements").json()["data"] == []


def test_statement_upload_needs_admin(client: TestClient) -> None:
    """A viewer may read reports but not import a statement."""
    key = client.post("/api/keys", json={"role": "viewer", "name": "v"}).json()["key"]
    answer = client.post(
        "/api/reconciliation/statements",
        files={"file": ("s.csv", SAMPLE.read_bytes(), "text/csv")},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 403


def test_parser_reads_odd_rows() -> None:
    """Times without seconds, quoted thousands and negative withdrawals parse exactly."""
    header = StatementHeader()
    rows = list(read_statement(SAMPLE.read_text().splitlines(keepends=True), header))
    by_receipt = {row.receipt: row for row in rows}
    assert by_receipt["QGK12XYZ9"].paid_in_cents == 500_000
    assert by_receipt["QGK12XYZ7"].withdrawn_cents == 50_000
    assert by_receipt["QGK12XYZ5"].completed_at is not None
    assert by_receipt["QGK12XYZ5"].completed_at.isoformat() == "2026-02-01T13:20:00+00:00"
    assert not by_receipt["QGK12XYZ4"].completed
    with pytest.raises(StatementError, match="not an amount"):
        list(
            read_statement(
                [HEADER, "RKL51ZDR41,01-02-2026 10:00,,x,Completed,abc,,,,,,,\n"], header
            )
        )
