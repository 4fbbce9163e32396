"""The shared rate limiter: page and API count against the same budget in the shared cache."""

from datetime import datetime, UTC

import pytest
import time_machine
from django.test import override_settings
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from offers.throttles import (
    OfferClaimThrottle,
    OfferValidateUserThrottle,
    RateLimited,
    rate_limit_hit,
    throttle_claim,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FROZEN = datetime(2027, 1, 11, 8, 0, 20, tzinfo=UTC)

RATES = {"DEFAULT_THROTTLE_RATES": {"offer_claim": "2/minute", "offer_validate_ip": "5/minute", "offer_validate_user": "1/minute"}}


class ClaimView(APIView):
    throttle_classes = [OfferClaimThrottle]

    def post(self, request):
        return Response({"ok": True})


class ValidateView(APIView):
    throttle_classes = [OfferValidateUserThrottle]

    def post(self, request):
        return Response({"ok": True})


@override_settings(REST_FRAMEWORK=RATES)
@time_machine.travel(FROZEN, tick=False)  # fixed windows: no minute boundary mid-test
def test_limit_counts_per_scope_and_ident():
    rate_limit_hit(scope="offer_claim", ident="a")
    rate_limit_hit(scope="offer_claim", ident="a")
    with pytest.raises(RateLimited) as limited:
        rate_limit_hit(scope="offer_claim", ident="a")
    assert 0 < limited.value.retry_after <= 60
    rate_limit_hit(scope="offer_claim", ident="b")
    rate_limit_hit(scope="offer_validate_ip", ident="a")


@override_settings(REST_FRAMEWORK=RATES)
@time_machine.travel(FROZEN, tick=False)  # fixed windows: no minute boundary mid-test
def test_drf_throttle_answers_429_and_shares_the_pages_budget():
    factory = APIRequestFactory()
    page_request = factory.post("/offer/", REMOTE_ADDR="10.2.2.2")
    throttle_claim(page_request)  # one claim on the page...
    assert ClaimView.as_view()(factory.post("/api/v1/offers/claim/", REMOTE_ADDR="10.2.2.2")).status_code == 200
    response = ClaimView.as_view()(factory.post("/api/v1/offers/claim/", REMOTE_ADDR="10.2.2.2"))
    assert response.status_code == 429  # ...and one on the API use the IP's two
    assert int(response["Retry-After"]) > 0


@override_settings(REST_FRAMEWORK=RATES)
@time_machine.travel(FROZEN, tick=False)  # fixed windows: no minute boundary mid-test
def test_drf_user_throttle_ignores_anonymous_and_limits_accounts():
    from rest_framework.test import force_authenticate

    factory = APIRequestFactory()
    assert ValidateView.as_view()(factory.post("/v/")).status_code == 200
    assert ValidateView.as_view()(factory.post("/v/")).status_code == 200
    user = UserFactory()
    first = factory.post("/v/")
    force_authenticate(first, user=user)
    assert ValidateView.as_view()(first).status_code == 200
    second = factory.post("/v/")
    force_authenticate(second, user=user)
    assert ValidateView.as_view()(second).status_code == 429
