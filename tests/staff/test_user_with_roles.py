"""accounts.backends: the signed-in user is loaded with their group names and practitioner row in
one query, and the role checks of the request ask the database nothing more."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts import roles
from accounts.backends import user_with_roles
from tests.factories import ReceptionistFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_user_in_two_groups_comes_with_both_names_and_no_practitioner_in_one_query(django_assert_num_queries):
    user = ReceptionistFactory()
    user.groups.add(Group.objects.get_or_create(name="Manager")[0])
    with django_assert_num_queries(1):
        loaded = user_with_roles(user.pk)
        assert roles.is_reception(loaded) and roles.is_manager(loaded)
        assert roles.practitioner_for(loaded) is None
        assert roles.is_staff_member(loaded)


def test_a_physiotherapist_comes_with_their_row_and_no_group(physios, django_assert_num_queries):
    physio = physios[0]
    with django_assert_num_queries(1):
        loaded = user_with_roles(physio.user_id)
        assert roles.practitioner_for(loaded) == physio
        assert not roles.is_reception(loaded) and not roles.is_manager(loaded)
        assert loaded._group_names == frozenset()


def test_an_unknown_id_is_no_user():
    assert user_with_roles(10**9) is None


def test_a_role_taken_away_counts_from_the_next_request(client):
    user = ReceptionistFactory()
    client.force_login(user)
    assert client.get(reverse("staff:today")).status_code == 200
    user.groups.clear()
    assert client.get(reverse("staff:today")).status_code == 403


def test_a_patient_page_reads_session_and_user_only(client, django_assert_max_num_queries):
    client.force_login(UserFactory())
    client.get(reverse("accounts:profile"))
    with django_assert_max_num_queries(2) as ctx:
        client.get(reverse("privacy:notice"))
    assert any("accounts_user" in q["sql"] for q in ctx.captured_queries)


def test_every_field_reads_as_the_orm_reads_it(physios):
    """The hand-written statement against the ORM: same values, same types (SQLite returns datetimes as text)."""
    physio = physios[0]
    user = physio.user
    user.last_login = user.date_joined
    user.save(update_fields=["last_login"])
    loaded = user_with_roles(user.pk)
    expected = type(user).objects.get(pk=user.pk)
    for field in type(user)._meta.concrete_fields:
        value = getattr(loaded, field.attname)
        assert value == getattr(expected, field.attname) and type(value) is type(getattr(expected, field.attname)), field
    practitioner = type(physio).objects.get(pk=physio.pk)
    for field in type(physio)._meta.concrete_fields:
        assert getattr(loaded.practitioner, field.attname) == getattr(practitioner, field.attname), field
    assert loaded.practitioner.user is loaded and not loaded._state.adding and loaded._state.db == "default"
