"""API v1's offer endpoints (api.md "Offers"): /api/v1/offers/claim/, mine/ and validate/.

Routed by booking.api.urls (one "api" namespace for v1); the rules are in offers.services.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from booking.api import serializers as s
from booking.api.views import E401, E403, E429, OFFER_REFUSALS, _error, _service, _valid

from . import services as offer_services
from .exceptions import OfferRefused
from .throttles import OfferClaimThrottle, OfferValidateIPThrottle, OfferValidateUserThrottle

CLAIMED_DETAIL = "Check your inbox: if this address can have a code, we've emailed it there."


class OfferClaim(APIView):
    # Anyone may claim; no session means no CSRF check is needed for an anonymous write.
    authentication_classes = []
    permission_classes = []
    throttle_classes = [OfferClaimThrottle]

    @extend_schema(
        operation_id="offers_claim",
        request=s.OfferClaimSerializer,
        responses={
            202: OpenApiResponse(s.OfferClaimedSerializer, description="The same for every valid address (new, known, "
                                 "returning patient): the code goes only by email."),
            400: _error("Invalid email, or no offer is running.", ("invalid", "Some fields are invalid."),
                        ("no_offer", "There is no offer running at the moment."), serializer=s.FieldErrorSerializer),
            429: E429,
        },
        tags=["offers"],
    )
    def post(self, request):
        data = _valid(s.OfferClaimSerializer, request.data)
        claim = offer_services.offer_code_claim(email=data["email"])
        offer = claim.code.offer
        return Response({"detail": CLAIMED_DETAIL, "percent_off": offer.percent_off,
                         "validity_hours": offer.validity_hours}, status=status.HTTP_202_ACCEPTED)


class OfferMine(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="offers_mine",
        responses={200: s.OfferCodeSerializer, 401: E401,
                   404: _error("No code issued to your address, or your email address is not verified yet.",
                               ("not_found", "Not found."))},
        tags=["offers"],
    )
    def get(self, request):
        code = offer_services.offer_code_mine(patient=request.user)
        if code is None:
            raise Http404
        return Response(s.OfferCodeSerializer(code).data)


class OfferValidate(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [OfferValidateUserThrottle, OfferValidateIPThrottle]

    @extend_schema(
        operation_id="offers_validate",
        request=s.OfferValidateSerializer,
        responses={
            200: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="OfferValidation",
                    serializers=[s.OfferValidResultSerializer, s.OfferRefusedResultSerializer],
                    resource_type_field_name=None,
                ),
                description=f"`valid: true` with the price, or `valid: false` with `code` one of {OFFER_REFUSALS}.",
                examples=[
                    OpenApiExample("valid", value={"valid": True, "percent_off": 20, "discount_pence": 1500,
                                                   "amount_due_pence": 6000, "expires_at": "2027-01-12T10:00:00+00:00"}),
                    OpenApiExample("refused", value={"valid": False, "code": "used",
                                                     "detail": "This offer code has already been used."}),
                ],
            ),
            400: _error("Invalid input or unknown service.", ("invalid", "Some fields are invalid."), serializer=s.FieldErrorSerializer),
            401: E401,
            403: E403,
            429: E429,
        },
        tags=["offers"],
    )
    def post(self, request):
        data = _valid(s.OfferValidateSerializer, request.data)
        service = _service(data["service"])
        try:
            quote = offer_services.offer_code_validate(code_text=data["code"], patient=request.user, service=service)
        except OfferRefused as refusal:
            return Response({"valid": False, **refusal.as_dict()})
        return Response(
            {
                "valid": True,
                "percent_off": quote.percent_off,
                "discount_pence": quote.discount_pence,
                "amount_due_pence": quote.amount_due_pence,
                "expires_at": s.iso(quote.code.expires_at),
            }
        )
