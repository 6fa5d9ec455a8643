"""The payment intent's state machine and the idempotency fingerprint."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import Money
from core.phone import Phone
from engines.payments import (
    CreatePayment,
    IntentStatus,
    InvalidPaymentTransitionError,
    Method,
    PaymentIntent,
    ProviderStatus,
)
from engines.payments.model import (
    OPEN_STATUSES,
    CallbackNotice,
    Observation,
    can_move,
    target_status,
)

NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)
JUMA = Phone("+254711000001")


def command(**changes: object) -> CreatePayment:
    values: dict[str, object] = {
        "idempotency_key": "k1",
        "method": Method.MPESA,
        "amount": Money(Decimal("1160.00"), "KES"),
        "customer": JUMA,
        "order_reference": "W62ACJ",
    }
    values.update(changes)
    return CreatePayment(**values)  # type: ignore[arg-type]


def intent(status: IntentStatus) -> PaymentIntent:
    return PaymentIntent(
        id=uuid.UUID(int=1),
        idempotency_key="k1",
        fingerprint=command().fingerprint(),
        direction=command().direction,
        method=Method.MPESA,
        provider="mpesa",
        customer=JUMA,
        amount=Money(Decimal("1160.00"), "KES"),
        status=status,
        created_at=NOW,
        updated_at=NOW,
    )


def test_the_same_request_has_the_same_fingerprint_and_any_change_another() -> None:
    first = command().fingerprint()
    assert command().fingerprint() == first
    assert command(amount=Money(Decimal("1160.01"), "KES")).fingerprint() != first
    assert command(method=Method.MOMO).fingerprint() != first
    assert command(customer=Phone("+254711000002")).fingerprint() != first
    assert command(order_reference="X").fingerprint() != first
    # The key itself is not part of the request.
    assert command(idempotency_key="k2").fingerprint() == first


def test_a_succeeded_payment_only_moves_to_reversed_and_that_is_final() -> None:
    done = intent(IntentStatus.SUCCEEDED)
    for target in set(IntentStatus) - {IntentStatus.REVERSED}:
        with pytest.raises(InvalidPaymentTransitionError):
            done.move(target, NOW)
    back = done.move(IntentStatus.REVERSED, NOW)
    for target in IntentStatus:
        with pytest.raises(InvalidPaymentTransitionError):
            back.move(target, NOW)


def test_money_returned_is_a_reversal_after_success_and_a_failure_before() -> None:
    assert target_status(IntentStatus.SUCCEEDED, ProviderStatus.REVERSED) is IntentStatus.REVERSED
    assert target_status(IntentStatus.PROCESSING, ProviderStatus.REVERSED) is IntentStatus.FAILED
    assert target_status(IntentStatus.REVERSED, ProviderStatus.SUCCEEDED) is None


def test_money_that_arrives_after_we_gave_up_is_still_recorded() -> None:
    assert intent(IntentStatus.FAILED).move(IntentStatus.SUCCEEDED, NOW).status == "succeeded"
    assert intent(IntentStatus.CANCELLED).move(IntentStatus.SUCCEEDED, NOW).status == "succeeded"
    assert target_status(IntentStatus.FAILED, ProviderStatus.SUCCEEDED) is IntentStatus.SUCCEEDED


def test_a_late_failure_does_not_undo_a_success() -> None:
    assert target_status(IntentStatus.SUCCEEDED, ProviderStatus.FAILED) is None
    assert target_status(IntentStatus.SUCCEEDED, ProviderStatus.PENDING) is None


def test_a_claimed_intent_is_unknown_until_the_provider_answers() -> None:
    assert can_move(IntentStatus.PENDING, IntentStatus.UNKNOWN)
    for answer, status in [
        (ProviderStatus.PENDING, IntentStatus.PROCESSING),
        (ProviderStatus.ACTION_REQUIRED, IntentStatus.REQUIRES_ACTION),
        (ProviderStatus.SUCCEEDED, IntentStatus.SUCCEEDED),
        (ProviderStatus.FAILED, IntentStatus.FAILED),
    ]:
        assert target_status(IntentStatus.UNKNOWN, answer) is status
    # "No record" alone decides nothing: only the requery may conclude after a grace period.
    assert target_status(IntentStatus.UNKNOWN, ProviderStatus.NOT_FOUND) is None


@given(st.lists(st.sampled_from(list(ProviderStatus)), max_size=12))
def test_any_sequence_of_provider_answers_keeps_a_success_and_only_moves_legally(
    answers: list[ProviderStatus],
) -> None:
    """A success is kept whatever comes after, except the provider's word that the money came
    back (a reversal), which is final."""
    status = IntentStatus.UNKNOWN
    succeeded = False
    for answer in answers:
        target = target_status(status, answer)
        if target is not None:
            assert can_move(status, target)
            status = target
        if succeeded:
            assert status in {IntentStatus.SUCCEEDED, IntentStatus.REVERSED}
        succeeded = succeeded or status is IntentStatus.SUCCEEDED
    if ProviderStatus.SUCCEEDED in answers:
        first = answers.index(ProviderStatus.SUCCEEDED)
        back = ProviderStatus.REVERSED in answers[first + 1 :]
        assert status is (IntentStatus.REVERSED if back else IntentStatus.SUCCEEDED)
    assert (status in OPEN_STATUSES) or status in {
        IntentStatus.SUCCEEDED,
        IntentStatus.FAILED,
        IntentStatus.CANCELLED,
        IntentStatus.REVERSED,
    }


@pytest.mark.parametrize(
    ("narration", "meant"),
    [
        ("NIP: NGOZI OKAFOR -order w62acj part", "W62ACJ"),  # a word of its own, as before
        ("NIP: NGOZI OKAFOR -ORDERW62ACJ", "W62ACJ"),
        ("NIP: NGOZI OKAFOR -pay-W62ACJ", "W62ACJ"),
        ("NIP: NGOZI OKAFOR -w62acj.", "W62ACJ"),
        ("NIP: NGOZI OKAFOR -X7QK2M W62ACJ", "X7QK2M"),  # words: the first of hers, as before
        ("NIP: NGOZI OKAFOR -X7QK2MW62ACJ", None),  # two glued: not for us to guess
        ("NIP: NGOZI OKAFOR -ORDERZZZZZZ", None),  # not one of hers
        ("NIP: NGOZI OKAFOR -", None),
    ],
)
def test_a_transfer_description_means_the_order_written_in_it_even_glued(
    narration: str, meant: str | None
) -> None:
    """'ORDERW62ACJ' or 'pay-W62ACJ' paid no order (only the number as a word of its own did):
    her transfer was taken by amount. One of her orders glued into it is the one meant."""
    notice = CallbackNotice(
        "evt", Observation(ProviderStatus.SUCCEEDED), account_number="1", narration=narration
    )

    assert notice.meant(["X7QK2M", "W62ACJ"]) == meant
