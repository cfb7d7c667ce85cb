"""The initiator (organisation) APIs: B2C, Transaction Status, Account Balance, Reversal.

Each answers synchronously that it accepted the request; the outcome arrives later at
the ResultURL (parsed by `pesadesk.daraja.callbacks`). B2C and Reversal move money and
are sent once; the lookups are retried like any lookup.
"""

from __future__ import annotations

from pesadesk.core.phone import normalize_phone
from pesadesk.daraja.base import DarajaBase, required, secret, shillings
from pesadesk.daraja.errors import DarajaRequestInvalid
from pesadesk.daraja.schemas import (
    AccountBalanceRequest,
    AsyncAccepted,
    B2CCommand,
    B2CRequest,
    ReversalRequest,
    TransactionStatusRequest,
)

__all__ = ["OrgApi"]


def _check_remarks(remarks: str) -> None:
    if not 2 <= len(remarks) <= 100:
        raise DarajaRequestInvalid("Remarks must have 2 to 100 characters")


class OrgApi(DarajaBase):
    """B2C payments, Transaction Status, Account Balance and Reversal."""

    def _initiator(self) -> tuple[str, str]:
        name = required(self.config.initiator_name, "payments.b2c.initiator_name")
        credential = secret(self.config.security_credential, "payments.b2c.security_credential")
        return name, credential

    def _result_urls(self, result_url: str | None, timeout_url: str | None) -> tuple[str, str]:
        return (
            required(result_url or self.config.result_url, "result URL"),
            required(timeout_url or self.config.timeout_url, "queue timeout URL"),
        )

    async def b2c_payment(
        self,
        *,
        originator_conversation_id: str,
        phone: str,
        amount_cents: int,
        remarks: str,
        command_id: B2CCommand = "BusinessPayment",
        occasion: str | None = None,
        result_url: str | None = None,
        timeout_url: str | None = None,
    ) -> AsyncAccepted:
        """Pay a customer (refunds). Our OriginatorConversationID makes a resend a duplicate."""
        if not originator_conversation_id:
            raise DarajaRequestInvalid("OriginatorConversationID must not be empty")
        _check_remarks(remarks)
        if occasion is not None and not 1 <= len(occasion) <= 100:
            raise DarajaRequestInvalid("Occassion must have 1 to 100 characters")
        name, credential = self._initiator()
        results, timeouts = self._result_urls(result_url, timeout_url)
        request = B2CRequest(
            originator_conversation_id=originator_conversation_id,
            initiator_name=name,
            security_credential=credential,
            command_id=command_id,
            amount=shillings(amount_cents),
            party_a=required(self.config.shortcode, "payments.b2c.shortcode"),
            party_b=normalize_phone(phone),
            remarks=remarks,
            queue_timeout_url=timeouts,
            result_url=results,
            occasion=occasion,
        )
        path = "/mpesa/b2c/v3/paymentrequest"
        response = await self._post(path, request, money=True)
        return self._parse(AsyncAccepted, response, path)

    async def transaction_status(
        self,
        *,
        transaction_id: str | None = None,
        originator_conversation_id: str | None = None,
        party_a: str | None = None,
        identifier_type: str = "4",
        remarks: str = "Status check",
        occasion: str | None = None,
        result_url: str | None = None,
        timeout_url: str | None = None,
    ) -> AsyncAccepted:
        """Ask for a transaction's fate by receipt or by our OriginatorConversationID."""
        if not transaction_id and not originator_conversation_id:
            raise DarajaRequestInvalid("give a TransactionID or an OriginatorConversationID")
        name, credential = self._initiator()
        results, timeouts = self._result_urls(result_url, timeout_url)
        request = TransactionStatusRequest(
            initiator=name,
            security_credential=credential,
            transaction_id=transaction_id,
            original_conversation_id=originator_conversation_id,
            party_a=required(party_a or self.config.shortcode, "PartyA"),
            identifier_type=identifier_type,
            result_url=results,
            queue_timeout_url=timeouts,
            remarks=remarks,
            occasion=occasion,
        )
        path = "/mpesa/transactionstatus/v1/query"
        response = await self._post(path, request, money=False)
        return self._parse(AsyncAccepted, response, path)

    async def account_balance(
        self,
        *,
        remarks: str = "Balance check",
        party_a: str | None = None,
        result_url: str | None = None,
        timeout_url: str | None = None,
    ) -> AsyncAccepted:
        """Ask for the shortcode's balances; they arrive at the ResultURL."""
        name, credential = self._initiator()
        results, timeouts = self._result_urls(result_url, timeout_url)
        request = AccountBalanceRequest(
            initiator=name,
            security_credential=credential,
            party_a=required(party_a or self.config.shortcode, "PartyA"),
            remarks=remarks,
            queue_timeout_url=timeouts,
            result_url=results,
        )
        path = "/mpesa/accountbalance/v1/query"
        response = await self._post(path, request, money=False)
        return self._parse(AsyncAccepted, response, path)

    async def reversal(
        self,
        *,
        transaction_id: str,
        amount_cents: int,
        remarks: str,
        receiver_party: str | None = None,
        occasion: str | None = None,
        result_url: str | None = None,
        timeout_url: str | None = None,
    ) -> AsyncAccepted:
        """Reverse a C2B/STK receipt. Sent once: it moves money."""
        _check_remarks(remarks)
        name, credential = self._initiator()
        results, timeouts = self._result_urls(result_url, timeout_url)
        request = ReversalRequest(
            initiator=name,
            security_credential=credential,
            transaction_id=transaction_id,
            amount=shillings(amount_cents),
            receiver_party=required(receiver_party or self.config.shortcode, "ReceiverParty"),
            result_url=results,
            queue_timeout_url=timeouts,
            remarks=remarks,
            occasion=occasion,
        )
        path = "/mpesa/reversal/v1/request"
        response = await self._post(path, request, money=True)
        return self._parse(AsyncAccepted, response, path)
