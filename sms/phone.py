"""UK phone numbers: parse what people type, store E.164."""

import phonenumbers


class InvalidPhone(ValueError):
    pass


def normalise_uk_mobile(text: str) -> str:
    """'07412 345678', '+44 7412 345678', '0044 7412345678' -> '+447412345678'; anything else: InvalidPhone."""
    try:
        number = phonenumbers.parse((text or "").strip(), "GB")
    except phonenumbers.NumberParseException as error:
        raise InvalidPhone("Enter a UK mobile number, e.g. 07412 345678.") from error
    if not phonenumbers.is_valid_number(number) or phonenumbers.region_code_for_number(number) != "GB":
        raise InvalidPhone("Enter a valid UK mobile number, e.g. 07412 345678.")
    if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
        raise InvalidPhone("That is not a mobile number: texts need a mobile (07...).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
