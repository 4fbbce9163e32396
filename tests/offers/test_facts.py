"""Offers sits below booking and payments: the two facts its rules need come from them (README,
Architecture), handed over in their apps' ready()."""

import pytest

from booking import services as booking_services
from offers import services as offers
from payments import services as payments_services


def test_the_owning_apps_provide_the_offer_facts_at_start_up():
    assert offers._been_to_clinic is payments_services.has_had_first_session
    assert offers._hold_is_live is booking_services.booking_hold_is_live


def test_a_fact_nobody_provided_is_a_clear_error_not_a_silent_no(monkeypatch):
    monkeypatch.setattr(offers, "_been_to_clinic", None)
    with pytest.raises(RuntimeError, match="been_to_clinic was never provided"):
        offers.has_had_first_session(object())
