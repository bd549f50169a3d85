"""The court's places: courtrooms and the custody facilities they reach."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.audit.actions import Action
from hearing.audit.log import Actor, append
from hearing.db.models import Court, Courtroom, CustodyFacility
from hearing.errors import InvalidInput, NotFound


def _name(value: str, what: str) -> str:
    value = value.strip()
    if not 0 < len(value) <= 200 or any(ord(ch) < 32 for ch in value):
        raise InvalidInput(f"A {what} name is 1-200 printable characters.", field="name")
    return value


def ensure_court(db: Session, actor: Actor, name: str) -> Court:
    name = _name(name, "court")
    court = db.scalar(select(Court).where(Court.name == name))
    if court is None:
        court = Court(name=name)
        db.add(court)
        db.flush()
        append(db, actor, Action.SITE_ADDED, site="court", site_id=court.id, name=name)
    return court


def ensure_courtroom(db: Session, actor: Actor, court: Court, name: str) -> Courtroom:
    name = _name(name, "courtroom")
    room = db.scalar(select(Courtroom).where(Courtroom.court_id == court.id, Courtroom.name == name))
    if room is None:
        room = Courtroom(court_id=court.id, name=name)
        db.add(room)
        db.flush()
        append(db, actor, Action.SITE_ADDED, site="courtroom", site_id=room.id, name=name)
    return room


def ensure_facility(db: Session, actor: Actor, name: str) -> CustodyFacility:
    name = _name(name, "custody facility")
    facility = db.scalar(select(CustodyFacility).where(CustodyFacility.name == name))
    if facility is None:
        facility = CustodyFacility(name=name)
        db.add(facility)
        db.flush()
        append(db, actor, Action.SITE_ADDED, site="custody_facility", site_id=facility.id, name=name)
    return facility


def courtroom_named(db: Session, name: str) -> Courtroom:
    room = db.scalar(select(Courtroom).where(Courtroom.name == name))
    if room is None:
        raise NotFound(f"No courtroom named {name}.")
    return room


def facility_named(db: Session, name: str) -> CustodyFacility:
    facility = db.scalar(select(CustodyFacility).where(CustodyFacility.name == name))
    if facility is None:
        raise NotFound(f"No custody facility named {name}.")
    return facility
