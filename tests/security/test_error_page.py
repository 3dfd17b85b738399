"""Issue 16, finding F: the error page's 返回上一页 works under the page's own Content-Security-Policy
(it was a javascript: link, which script-src 'self' blocks), and the site has a favicon (it was a 404)."""

from __future__ import annotations

import os
import re
import sys
import threading
from pathlib import Path

import pytest
from lxml import html as lxml_html
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent))
from holes_support import make_app, signed_in, text  # noqa: E402

CHROMIUM = os.environ.get("BDD_CHROMIUM", "/usr/bin/chromium")
LAUNCH_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def app(system):
    return make_app(system)


def back_button(response):
    doc = lxml_html.fromstring(text(response))
    links = [a for a in doc.xpath("//a") if a.text_content().strip() == "返回上一页"]
    assert len(links) == 1
    return links[0]


def assert_no_inline_script(page: str) -> None:
    """Nothing the CSP (script-src 'self') would block: no javascript: URL, no on* handler, no inline script."""
    doc = lxml_html.fromstring(page)
    assert "javascript:" not in page.lower()
    assert not [el for el in doc.iter() if isinstance(el.tag, str) and any(k.lower().startswith("on") for k in el.attrib)]
    assert all(script.get("src") for script in doc.xpath("//script"))


def test_the_error_pages_back_button_is_a_link_the_csp_allows(app, system):
    anon = app.test_client()
    missing = anon.get("/public/no-such-page", headers={"Referer": "http://localhost/public/apply?service=assist"})
    assert missing.status_code == 404
    assert "script-src 'self'" in missing.headers["Content-Security-Policy"]
    assert_no_inline_script(text(missing))
    assert back_button(missing).get("href") == "/public/apply?service=assist"

    # from another site, or with nothing to go back to: a page of ours, never the other site
    for referrer in ("https://evil.example/phish", "http://localhost.evil.example/x", "//evil.example/x",
                     "http://localhost//evil.example/x", "javascript:alert(1)", ""):
        response = anon.get("/public/no-such-page", headers={"Referer": referrer} if referrer else {})
        assert back_button(response).get("href") == "/public/", referrer

    staff = signed_in(app, system, "gaohongxia")
    forbidden = staff.get("/supervise/cases", headers={"Referer": "http://localhost/cases"})
    assert forbidden.status_code == 403
    assert_no_inline_script(text(forbidden))
    assert back_button(forbidden).get("href") == "/cases"
    assert back_button(staff.get("/no-such-page")).get("href") == "/"  # signed in, no referrer: the inbox


def test_the_site_has_a_favicon(app):
    anon = app.test_client()
    icon = anon.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.mimetype in ("image/x-icon", "image/vnd.microsoft.icon")
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    for page in ("/public/", "/login", "/public/no-such-page"):
        doc = lxml_html.fromstring(text(anon.get(page)))
        hrefs = doc.xpath('//head/link[contains(concat(" ", @rel, " "), " icon ")]/@href')
        assert hrefs, page
        for href in hrefs:
            linked = anon.get(href)
            assert linked.status_code == 200 and linked.mimetype.startswith("image/"), href


@pytest.fixture
def served(app):
    """The application behind a real HTTP server on a free port (threads; no `bdd serve` needed)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def test_in_a_browser_the_back_button_goes_back_without_a_csp_violation(served):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_FLAGS)
        try:
            def watched():
                page = browser.new_page()
                page.on("console", lambda message: blocked.append(message.text)
                        if "Content Security Policy" in message.text else None)
                return page

            blocked: list[str] = []
            # came from the application page: back to it
            page = watched()
            page.goto(f"{served}/public/apply")
            page.goto(f"{served}/public/no-such-page", referer=f"{served}/public/apply")
            assert "页面不存在" in page.content()
            page.get_by_text("返回上一页").click()
            page.wait_for_url(re.compile(r".*/public/apply$"), wait_until="commit", timeout=10_000)
            # a link from that page opened in a new tab (no history there): the link itself leads back
            tab = watched()
            tab.goto(f"{served}/public/no-such-page", referer=f"{served}/public/apply")
            tab.get_by_text("返回上一页").click()
            tab.wait_for_url(re.compile(r".*/public/apply$"), wait_until="commit", timeout=10_000)
            # typed into the address bar: to the public pages
            typed = watched()
            typed.goto(f"{served}/public/no-such-page")
            typed.get_by_text("返回上一页").click()
            typed.wait_for_url(re.compile(r".*/public/$"), wait_until="commit", timeout=10_000)
            assert blocked == []
        finally:
            browser.close()
