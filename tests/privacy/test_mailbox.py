import pytest

from accounts.mailbox import normalise_mailbox
from offers.models import OfferCode, mailbox_hash
from offers.services import offer_code_claim
from tests.factories import OfferFactory, ServiceFactory


@pytest.mark.parametrize(("given", "mailbox"), [
    ("  Jo.Bloggs+physio@GoogleMail.com ", "jobloggs@gmail.com"),
    ("j.o.bloggs@gmail.com", "jobloggs@gmail.com"),
    ("Jo.Bloggs+news@example.co.uk", "jo.bloggs@example.co.uk"),
    ("jo@example.com", "jo@example.com"),
])
def test_normalise_mailbox(given, mailbox):
    assert normalise_mailbox(given) == mailbox


def test_one_code_per_mailbox_whatever_the_spelling(db):
    OfferFactory(services=[ServiceFactory()])
    first = offer_code_claim(email="jo.bloggs@gmail.com")
    again = offer_code_claim(email="JoBloggs+second@googlemail.com")
    assert first.created and not again.created and again.code.pk == first.code.pk
    assert OfferCode.objects.get().mailbox_hash == mailbox_hash("jobloggs@gmail.com")
