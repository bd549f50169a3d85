"""`hearing recording ...` as an operator runs it (issue 14): verify names
the first bad segment of a modified, dropped, reordered, duplicated or
truncated recording; a recording's key moves with a KEK rotation; export
and purge refuse bad input and change nothing."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from hearing.actors import Actor
from hearing.config import load_settings
from hearing.db.models import Courtroom, CustodyFacility, Recording, RecordingState
from hearing.recording import crypto, service
from hearing.services import Services
from tests.conftest import CliRun, add_hearing

SYSTEM = Actor("system")
SEGMENTS = 4


@pytest.fixture
def sealed(cli: CliRun) -> tuple[int, Path]:
    """A sealed recording of four small segments, written as the recorder's writer does."""
    settings = load_settings()
    with Services.from_settings(settings) as svc:

        def hearing(db: object) -> int:
            room = db.scalar(select(Courtroom.id))  # type: ignore[attr-defined]
            facility = db.scalar(select(CustodyFacility.id))  # type: ignore[attr-defined]
            return add_hearing(db, room, facility, datetime.now(UTC))  # type: ignore[arg-type]

        hearing_id = svc.unit_of_work(hearing)
        begun = svc.unit_of_work(lambda db: service.begin(db, SYSTEM, hearing_id))
        folder = service.folder(settings.recording_dir, begun.recording_id)
        folder.mkdir(parents=True)
        for number in range(SEGMENTS):
            writer = crypto.SegmentWriter(
                folder / crypto.segment_name(number),
                begun.key,
                hearing_id=hearing_id,
                recording_id=begun.recording_id,
                segment=number,
            )
            writer.write(bytes([number]) * (crypto.CHUNK_BYTES + 100))
            done = writer.close()
            svc.unit_of_work(
                lambda db, done=done, number=number: service.segment_written(
                    db, begun.recording_id, done, float(number), 1.0
                )
            )
        svc.unit_of_work(lambda db: service.seal(db, SYSTEM, begun.recording_id, settings.recording_dir))
    return begun.recording_id, folder


def name(number: int) -> str:
    return crypto.segment_name(number)


def flip(folder: Path) -> None:
    path = folder / name(2)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))


def drop(folder: Path) -> None:
    (folder / name(1)).unlink()


def reorder(folder: Path) -> None:
    (folder / name(1)).rename(folder / "swap")
    (folder / name(2)).rename(folder / name(1))
    (folder / "swap").rename(folder / name(2))


def duplicate(folder: Path) -> None:
    shutil.copy(folder / name(3), folder / name(4))


def truncate(folder: Path) -> None:
    path = folder / name(3)
    path.write_bytes(path.read_bytes()[:-10])


@pytest.mark.parametrize(("damage", "first_bad"), [(flip, 2), (drop, 1), (reorder, 1), (duplicate, 4), (truncate, 3)])
def test_verify_names_the_first_bad_segment(
    cli: CliRun, sealed: tuple[int, Path], damage: Callable[[Path], None], first_bad: int
) -> None:
    recording_id, folder = sealed
    code, out, _ = cli("recording", "verify", str(recording_id))
    assert code == 0 and f"verified, {SEGMENTS} segments" in out
    damage(folder)
    code, _, err = cli("recording", "verify", str(recording_id))
    assert code == 1, err
    assert f"NOT verified at segment {first_bad}" in err, err


def test_a_recording_survives_a_kek_rotation_and_a_purge_shreds_it(cli: CliRun, sealed: tuple[int, Path]) -> None:
    recording_id, folder = sealed
    assert cli("keys", "rotate-kek")[0] == 0
    code, out, err = cli("recording", "verify", str(recording_id))
    assert code == 0, err
    assert cli("recording", "purge", "--older-than", "30")[1].startswith("0 recordings")
    code, out, _ = cli("recording", "purge", "--older-than", "0")
    assert code == 0 and f": {recording_id}" in out
    assert not folder.exists()
    with Services.from_settings(load_settings()) as svc:
        state = svc.unit_of_work(lambda db: (r := db.get_one(Recording, recording_id)) and (r.state, r.wrapped_key))
    assert state == (RecordingState.PURGED, None)
    # Its key is gone: nothing verifies or exports it again.
    code, _, err = cli("recording", "verify", str(recording_id))
    assert code == 2 and "recording_not_sealed" in err


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("recording", "verify", "999"), "recording_not_found"),
        (("recording", "export", "999", "--out", "x.mp4"), "recording_not_found"),
        (("recording", "export", "{id}", "--out", "x.avi"), "invalid_input"),
        (("recording", "purge", "--older-than", "-1"), "invalid_input"),
        (("recording", "purge", "--older-than", "99999999"), "invalid_input"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    cli: CliRun, sealed: tuple[int, Path], tmp_path: Path, args: tuple[str, ...], error: str
) -> None:
    recording_id, folder = sealed
    before = sorted(p.name for p in folder.iterdir())
    code, _, err = cli(*(a.replace("{id}", str(recording_id)) for a in args))
    assert code == 2 and f"error: {error}" in err, err
    assert sorted(p.name for p in folder.iterdir()) == before


def test_export_refuses_a_recording_that_does_not_verify(cli: CliRun, sealed: tuple[int, Path], tmp_path: Path) -> None:
    recording_id, folder = sealed
    flip(folder)
    out = tmp_path / "x.mp4"
    code, _, err = cli("recording", "export", str(recording_id), "--out", str(out))
    assert code == 2 and "recording_corrupt" in err and "segment 2" in err, err
    assert not out.exists()
