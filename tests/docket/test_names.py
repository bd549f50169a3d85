"""Site and staff names go through the one free-text rule in the services
themselves, whichever edge calls them (the CLI also checks its arguments)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hearing.actors import SYSTEM
from hearing.auth import users
from hearing.auth.roles import Role
from hearing.db.models import AuditEntry, Court, CustodyFacility, StaffUser
from hearing.docket import sites
from hearing.errors import InvalidInput
from hearing.services import Services
from tests.conftest import PASSWORD


def _count(services: Services, model: type) -> int:
    return services.unit_of_work(lambda db: db.scalar(select(func.count()).select_from(model)))


@pytest.mark.parametrize("name", ["Arresthuset \u202eVest", "Arrest\u2029huset", "\ufeffArresthuset", "Arrest\x85"])
def test_a_site_name_that_would_lie_on_screen_is_refused(services: Services, name: str) -> None:
    before = (_count(services, CustodyFacility), _count(services, Court), _count(services, AuditEntry))
    with pytest.raises(InvalidInput):
        services.unit_of_work(lambda db: sites.ensure_facility(db, SYSTEM, name))
    with pytest.raises(InvalidInput):
        services.unit_of_work(lambda db: sites.ensure_court(db, SYSTEM, name))
    assert (_count(services, CustodyFacility), _count(services, Court), _count(services, AuditEntry)) == before


def test_a_site_name_is_kept_in_nfc_and_found_as_typed(services: Services) -> None:
    services.unit_of_work(lambda db: sites.ensure_facility(db, SYSTEM, "Arresthuset Ga\u030ardsted"))
    found = services.unit_of_work(lambda db: sites.facility_named(db, "Arresthuset Gårdsted").name)
    assert found == "Arresthuset Gårdsted"
    again = services.unit_of_work(lambda db: sites.facility_named(db, "Arresthuset Ga\u030ardsted").name)
    assert again == found


@pytest.mark.parametrize("name", ["Eve \u202eHolm", "Eve\u2028Holm", "Eve\u200d", "Eve\x7f"])
def test_a_display_name_that_would_lie_on_screen_is_refused(services: Services, name: str) -> None:
    before = (_count(services, StaffUser), _count(services, AuditEntry))
    with pytest.raises(InvalidInput) as refused:
        services.unit_of_work(
            lambda db: users.add_user(
                db, services.keys, SYSTEM, username="eve", display_name=name, role=Role.CLERK, password=PASSWORD
            )
        )
    assert refused.value.field == "display_name"
    assert (_count(services, StaffUser), _count(services, AuditEntry)) == before
