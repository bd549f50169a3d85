"""`make run`: the demo's hearing "now" can be opened, on every re-run."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing import demo
from hearing.auth import devices
from hearing.cli.rig import read_token
from hearing.clock import utcnow
from hearing.config import Settings
from hearing.courtroom.config import load_rig
from hearing.db.models import Hearing, StaffUser
from hearing.docket import proceedings
from hearing.docket.lifecycle import HearingState, Transition
from hearing.services import Services
from tests.conftest import logged

# The demo is the embedded default (`make run`): SQLite.
pytestmark = pytest.mark.sqlite_only


def prepare(settings: Settings) -> int:
    printed: list[str] = []
    demo.prepare(settings, out=printed.append)
    found = re.search(r"hearing (\d+) is scheduled now", "\n".join(printed))
    assert found, printed
    return int(found.group(1))


def open_as_the_demo_judge(services: Services, hearing_id: int) -> HearingState:
    def work(db: Session) -> HearingState:
        judge = db.scalars(select(StaffUser).where(StaffUser.username == "judge")).one()
        return proceedings.transition(db, judge, demo.DEMO, hearing_id, Transition.OPEN, utcnow()).state

    return services.unit_of_work(work)


def test_the_demo_hearing_opens_now_and_after_a_rerun_on_another_day(settings: Settings) -> None:
    first = prepare(settings)
    with Services.from_settings(settings) as services:
        assert open_as_the_demo_judge(services, first) is HearingState.OPEN

        # Left open, and the demo is run again the next day.
        def yesterday(db: Session) -> None:
            hearing = db.get_one(Hearing, first)
            hearing.scheduled_start -= timedelta(days=1)
            hearing.scheduled_end -= timedelta(days=1)

        services.unit_of_work(yesterday)
    second = prepare(settings)
    assert second != first
    with Services.from_settings(settings) as services:
        assert services.unit_of_work(lambda db: db.get_one(Hearing, first).state) is HearingState.ADJOURNED
        assert [e.action for e in logged(services) if e.hearing_id == first][-1] == "hearing.adjourned"
        assert open_as_the_demo_judge(services, second) is HearingState.OPEN


def test_the_demo_writes_a_rig_that_signs_in_as_its_courtroom(settings: Settings) -> None:
    """`make run` starts the rig agent on this file (hearing/cli/serve.py): the
    example rig, pointed at the demo's server, with the rig device's token."""
    prepare(settings)
    config_file = settings.data_dir / "rig" / "rig.toml"
    config = load_rig(config_file)
    assert config.rig.server_url == settings.base_url
    assert [c.source.kind for c in config.cameras] == ["test"] * 5
    assert config.rig.token_file.stat().st_mode & 0o777 == 0o600
    token = read_token(config.rig.token_file)
    with Services.from_settings(settings) as services:
        endpoint = services.unit_of_work(lambda db: devices.authenticate(db, services.keys, token, utcnow()).name)
    assert endpoint == demo.RIG_DEVICE
    # Seeded again, the token is the new one: the old one no longer signs in.
    prepare(settings)
    assert read_token(config.rig.token_file) != token
