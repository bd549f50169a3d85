from __future__ import annotations

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from hearing.db.models import AuditEntry, Hearing
from hearing.services import Services
from hearing.web.ratelimit import SlidingWindow
from tests.conftest import Court_, csrf_token, login_as

pytestmark = pytest.mark.sqlite_only


@pytest.mark.parametrize("path", ["/signin", "/healthz", "/static/style.css", "/nowhere", "/hearings"])
def test_security_headers_on_every_response(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    if not path.startswith("/static/"):
        assert headers["cache-control"] == "no-store"


def test_pages_have_no_inline_script(client: TestClient) -> None:
    assert "<script>" not in client.get("/signin").text


def test_declared_oversized_body_is_refused_before_reading(client: TestClient, court: Court_) -> None:
    response = client.post(
        "/signin", content=b"x" * (64 * 1024 + 1), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"


def test_streamed_oversized_body_is_refused(client: TestClient, services: Services, court: Court_) -> None:
    login_as(client, services, court.users["clerk"])
    token = csrf_token(client, "/hearings/new")

    def chunks():
        yield f"csrf_token={token}&case_number=".encode()
        for _ in range(100):
            yield b"a" * 1024

    before = services.unit_of_work(lambda db: db.scalar(select(func.count()).select_from(Hearing)))
    response = client.post("/hearings", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert services.unit_of_work(lambda db: db.scalar(select(func.count()).select_from(Hearing))) == before


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"username": "judge"}'),
        ("text/plain", b"username=judge"),
        ("", b"username=judge"),
        ("application/x-www-form-urlencoded", b"\xff\xfe\x00garbage=%%%"),
        (
            "multipart/form-data; boundary=xyz",
            b'--xyz\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nhello\r\n--xyz--\r\n',
        ),
        ("multipart/form-data", b"no boundary at all"),
    ],
)
def test_malformed_form_bodies_get_a_clear_error(
    client: TestClient, services: Services, court: Court_, content_type: str, body: bytes
) -> None:
    login_as(client, services, court.users["judge"])
    before = services.unit_of_work(lambda db: db.scalar(select(func.count()).select_from(AuditEntry)))
    response = client.post(
        f"/hearings/{court.hearing_a}/transition",
        content=body,
        headers={"content-type": content_type, "accept": "application/json"},
    )
    assert 400 <= response.status_code < 500
    assert response.json()["error"] in {"invalid_input", "csrf_rejected", "bad_request"}
    after = services.unit_of_work(lambda db: db.scalar(select(func.count()).select_from(AuditEntry)))
    assert after == before


def test_too_many_or_repeated_fields_are_refused(client: TestClient, services: Services, court: Court_) -> None:
    login_as(client, services, court.users["judge"])
    token = csrf_token(client, "/hearings")
    many = "&".join(f"f{i}=1" for i in range(100))
    response = client.post(
        f"/hearings/{court.hearing_a}/transition",
        content=f"csrf_token={token}&{many}".encode(),
        headers={"content-type": "application/x-www-form-urlencoded", "accept": "application/json"},
    )
    assert response.status_code == 400
    repeated = client.post(
        f"/hearings/{court.hearing_a}/transition",
        content=f"csrf_token={token}&action=open&action=close".encode(),
        headers={"content-type": "application/x-www-form-urlencoded", "accept": "application/json"},
    )
    assert repeated.status_code == 400 and repeated.json()["error"] == "invalid_input"


def test_unknown_paths_and_methods_use_the_error_format(client: TestClient) -> None:
    missing = client.get("/api/nothing")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = client.delete("/signin", headers={"accept": "application/json"})
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    page = client.get("/nothing-here")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_sliding_window_forgets_old_events() -> None:
    window = SlidingWindow(limit=2, window=60)
    window.hit("a", now=0)
    window.hit("a", now=1)
    with pytest.raises(Exception, match="Too many"):
        window.hit("a", now=2)
    window.hit("b", now=2)
    window.hit("a", now=61)


def test_sliding_window_is_bounded_in_memory() -> None:
    window = SlidingWindow(limit=5, window=60, max_keys=100)
    for i in range(1000):
        window.hit(f"10.0.{i // 256}.{i % 256}", now=float(i))
    assert len(window._events) <= 100


def test_no_secret_reaches_the_logs(
    client: TestClient, services: Services, court: Court_, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from tests.conftest import PASSWORD, current_code

    caplog.set_level(logging.DEBUG)
    code = current_code(court.secrets["judge"])
    token = csrf_token(client)
    response = client.post(
        "/signin", data={"csrf_token": token, "username": "judge", "password": PASSWORD, "code": code}
    )
    session_cookie = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    client.get("/device/enroll?code=SECRET-ENROLLMENT-CODE")
    client.post(
        "/signin", data={"csrf_token": token, "username": "judge", "password": "wrong-but-secret-pw", "code": "000000"}
    )
    # Everything the server side logged; the test's own HTTP client logs URLs.
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    text = "".join(r.getMessage() + str(r.__dict__) for r in server)
    assert "request" in text  # the access log did run
    for secret in (PASSWORD, code, session_cookie, "SECRET-ENROLLMENT-CODE", "wrong-but-secret-pw", token):
        assert secret not in text
