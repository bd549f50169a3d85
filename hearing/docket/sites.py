"""The court's places: courtrooms and the custody facilities they reach."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.db.models import Court, Courtroom, CustodyFacility
from hearing.errors import NotFound
from hearing.fields import free_text

NAME_MAX = 200


def _name(value: str, what: str) -> str:
    return free_text(value, field="name", limit=NAME_MAX, label=f"A {what} name")


Site = TypeVar("Site", Court, Courtroom, CustodyFacility)


def _ensure(db: Session, actor: Actor, model: type[Site], kind: str, **identity: object) -> Site:
    """The site with this identity, created (and audited) if it is new."""
    site = db.scalar(select(model).filter_by(**identity))
    if site is None:
        site = model(**identity)
        db.add(site)
        db.flush()
        append(db, actor, Action.SITE_ADDED, site=kind, site_id=site.id, name=identity["name"])
    return site


def ensure_court(db: Session, actor: Actor, name: str) -> Court:
    return _ensure(db, actor, Court, "court", name=_name(name, "court"))


def ensure_courtroom(db: Session, actor: Actor, court: Court, name: str) -> Courtroom:
    return _ensure(db, actor, Courtroom, "courtroom", court_id=court.id, name=_name(name, "courtroom"))


def ensure_facility(db: Session, actor: Actor, name: str) -> CustodyFacility:
    return _ensure(db, actor, CustodyFacility, "custody_facility", name=_name(name, "custody facility"))


def courtroom_named(db: Session, name: str) -> Courtroom:
    name = _name(name, "courtroom")  # as it was stored
    room = db.scalar(select(Courtroom).where(Courtroom.name == name))
    if room is None:
        raise NotFound(f"No courtroom named {name}.")
    return room


def facility_named(db: Session, name: str) -> CustodyFacility:
    name = _name(name, "custody facility")
    facility = db.scalar(select(CustodyFacility).where(CustodyFacility.name == name))
    if facility is None:
        raise NotFound(f"No custody facility named {name}.")
    return facility


def set_pause_on_drop(db: Session, actor: Actor, court_name: str, pause: bool) -> Court:
    """Whether the court's hearings pause by themselves when the custody
    room's or the booth's link drops (plan B, hearing/docket/interruptions.py)."""
    name = _name(court_name, "court")
    court = db.scalar(select(Court).where(Court.name == name))
    if court is None:
        raise NotFound(f"No court named {name}.")
    court.pause_on_drop = pause
    append(db, actor, Action.COURT_PAUSE_ON_DROP_SET, site_id=court.id, name=name, pause_on_drop=pause)
    return court
