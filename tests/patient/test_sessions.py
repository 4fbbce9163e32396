"""accounts.sessions: Django's database sessions read by one statement; what a session shows is unchanged."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from accounts.sessions import SessionStore
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_engine_is_ours():
    assert settings.SESSION_ENGINE == "accounts.sessions"


def test_a_saved_session_reads_back_and_an_unknown_key_reads_empty_without_a_key():
    store = SessionStore()
    store["answer"] = {"n": 42, "when": "2027-01-12"}
    store.save()
    assert SessionStore(store.session_key).load() == {"answer": {"n": 42, "when": "2027-01-12"}}
    unknown = SessionStore("x" * 32)
    assert unknown.load() == {} and unknown.session_key is None


def test_an_expired_session_is_not_read():
    store = SessionStore()
    store["answer"] = 1
    store.set_expiry(60)
    store.save()
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert SessionStore(store.session_key).load() == {}
    assert Session.objects.filter(session_key=store.session_key).exists()  # clearsessions removes it, as Django's


def test_signing_in_and_out_through_the_pages(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("accounts:profile")).status_code == 200
    client.post(reverse("account_logout"))
    assert client.get(reverse("accounts:profile")).status_code == 302  # to the login page


def test_a_session_past_its_expiry_is_signed_out(client):
    client.force_login(UserFactory())
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 1)):
        assert client.get(reverse("accounts:profile")).status_code == 302
