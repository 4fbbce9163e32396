"""The API's own throttle; offer claim and validate use offers.throttles (one budget with the pages)."""

from config.throttling import SharedThrottle, client_ip


class BookingCreateThrottle(SharedThrottle):
    """Per account: holds block real slots, so one account cannot hold the whole diary."""

    scope = "booking_create"

    def ident(self, request) -> str | None:
        user = request.user
        return f"user:{user.pk}" if user and user.is_authenticated else f"ip:{client_ip(request)}"
