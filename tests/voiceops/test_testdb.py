"""tests/testdb.py: the DELETE teardown leaves what Django's flush + post_migrate would."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, Permission

from calls.models import Customer
from tests.factories import CustomerFactory
from tests.testdb import _fixture_teardown


@pytest.mark.django_db(transaction=True)
def test_the_teardown_empties_the_tables_and_keeps_the_roles_and_permissions() -> None:
    CustomerFactory()
    Group.objects.all().delete()  # as a test might: the teardown makes the roles again
    permissions = Permission.objects.count()
    _fixture_teardown(SimpleNamespace(_databases_names=lambda include_mirrors: ["default"]))
    assert not Customer.objects.exists()
    assert Group.objects.exists() and Permission.objects.count() == permissions
