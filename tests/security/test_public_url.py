"""Issue 16, finding E: the public permalink and QR codes come from BDD_PUBLIC_URL (settings.public_url),
never from the Host header a client sends; without the variable, the development server's own address."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from sqlalchemy import select

from bdd_workflow.config import Settings
from bdd_workflow.db.models import Staff
from bdd_workflow.services.identity import actor_of
from bdd_workflow.views.public import qr_data_uri
from bdd_workflow.views.web_common import new_session_values

sys.path.insert(0, str(Path(__file__).resolve().parent))
from holes_support import PHONE, make_app, text  # noqa: E402

PUBLIC = "https://zwfw.chengan.example.gov.cn"
EVIL = "evil.example"


@pytest.fixture
def app(system):
    system.settings.public_url = PUBLIC
    return make_app(system)


def token_at(client, url: str, base_url: str) -> str:
    """The CSRF token of the page at ``url`` fetched through ``base_url`` (the session cookie is that host's)."""
    page = client.get(url, base_url=base_url)
    assert page.status_code == 200
    return re.search(r'name="csrf_token"\s+value="([^"]+)"', text(page)).group(1)


def qr_sources(html: str) -> list[str]:
    return [src.replace("&#34;", '"').replace("&amp;", "&") for src in re.findall(r'<img[^>]*src="(data:image/svg[^"]+)"', html)]


def test_links_and_qr_codes_use_the_configured_address_whatever_the_host_header(app, system, desk):
    anon = app.test_client()
    token = token_at(anon, "/public/apply", f"http://{EVIL}")
    applied = anon.post("/public/apply", base_url=f"http://{EVIL}", data={
        "csrf_token": token, "applicant_name": "李桂兰", "applicant_phone": PHONE, "applicant_type": "personal",
        "service": "assist", "matter_code": "GR-007", "address": ""}, headers={"X-Forwarded-Host": EVIL})
    assert applied.status_code == 200
    page = text(applied)
    number = re.search(r"/public/cases/([A-Z0-9]+)", page).group(1)
    link = f"{PUBLIC}/public/cases/{number}"
    assert link in page and EVIL not in page
    assert qr_data_uri(link) in qr_sources(page)  # the QR code encodes that very address
    assert qr_data_uri(f"http://{EVIL}/public/cases/{number}") not in qr_sources(page)

    # the printed documents (代办服务委托书 and the others) carry the same link and code
    case = desk.start("proxy", by="xuzhiqiang", matter_code="GR-007")
    staff = app.test_client()
    with system.db.unit_of_work(write=False) as session:
        actor = actor_of(session.scalars(select(Staff).where(Staff.username == "xuzhiqiang")).one())
    with staff.session_transaction(base_url=f"http://{EVIL}") as data:  # signed in on the host the client chose
        data.update(new_session_values(system, actor))
    for slug in ("entrustment", "completion-receipt", "notice"):
        printed = staff.get(f"/documents/cases/{case['id']}/{slug}", base_url=f"http://{EVIL}")
        assert printed.status_code == 200, slug
        html = text(printed)
        link = f"{PUBLIC}/public/cases/{case['number']}"
        assert link in html and EVIL not in html, slug
        assert qr_data_uri(link) in qr_sources(html), slug

    # the status page's permalink too
    token = token_at(anon, "/public/status", f"http://{EVIL}")
    found = anon.post("/public/status", base_url=f"http://{EVIL}",
                      data={"csrf_token": token, "number": number, "phone": PHONE})
    assert found.status_code == 200
    assert f"{PUBLIC}/public/cases/{number}" in text(found) and EVIL not in text(found)


def test_bdd_public_url_is_read_checked_and_defaults_to_the_development_server(monkeypatch, tmp_path):
    def settings() -> Settings:
        return Settings(instance_dir=tmp_path, secret_key="test-secret")

    for name in ("BDD_PUBLIC_URL", "BDD_HOST", "BDD_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert settings().public_url == "http://127.0.0.1:5000"  # ./scripts/run's address
    monkeypatch.setenv("BDD_PORT", "8080")
    monkeypatch.setenv("BDD_HOST", "0.0.0.0")
    assert settings().public_url == "http://127.0.0.1:8080"
    monkeypatch.setenv("BDD_PUBLIC_URL", "https://zwfw.chengan.example.gov.cn/bdd/")
    assert settings().public_url == "https://zwfw.chengan.example.gov.cn/bdd"
    for bad in ("zwfw.chengan.gov.cn", "ftp://x.example", "https://user@x.example", "https://x.example/?a=1",
                "https://x.example/#top", "javascript:alert(1)", "https:///path", "https://x .example"):
        monkeypatch.setenv("BDD_PUBLIC_URL", bad)
        with pytest.raises(ValueError, match="BDD_PUBLIC_URL"):
            settings()


def test_a_mounted_application_links_under_the_configured_prefix_once(app, system):
    system.settings.public_url = PUBLIC + "/bdd"
    anon = app.test_client()
    base = "http://localhost/bdd"  # behind a proxy that passes SCRIPT_NAME=/bdd
    token = token_at(anon, "/public/apply", base)
    applied = anon.post("/public/apply", base_url=base, data={
        "csrf_token": token, "applicant_name": "李桂兰", "applicant_phone": PHONE, "applicant_type": "personal",
        "service": "assist", "matter_code": "GR-007", "address": ""})
    assert applied.status_code == 200
    page = text(applied)
    assert re.search(re.escape(PUBLIC) + r"/bdd/public/cases/[A-Z0-9]+", page)
    assert "/bdd/bdd/" not in page
