"""/api/docs: the API reference for the developers of other clients, without an account, drawn by Swagger UI
from web/node_modules (no CDN) over the public OpenAPI document; without `npm ci` the page says what to run."""

from __future__ import annotations

from bdd_workflow.views import public as public_views


def test_the_reference_page_loads_swagger_ui_from_the_app_over_the_openapi_document(client, monkeypatch, tmp_path):
    for name, relative in (("swagger-ui/swagger-ui-bundle.js", "swagger-ui-dist/swagger-ui-bundle.js"),
                           ("swagger-ui/swagger-ui.css", "swagger-ui-dist/swagger-ui.css")):
        assert public_views.VENDOR_FILES[name] == relative
        installed = tmp_path / relative
        installed.parent.mkdir(parents=True, exist_ok=True)
        installed.write_text("/* swagger-ui */\n", encoding="utf-8")
    monkeypatch.setattr(public_views, "NODE_MODULES", tmp_path)

    page = client.get("/api/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "API 接口文档" in html
    assert 'src="/vendor/swagger-ui/swagger-ui-bundle.js"' in html and 'href="/vendor/swagger-ui/swagger-ui.css"' in html
    assert 'src="/static/api-docs.js"' in html and 'data-openapi-url="/api/v1/openapi.json"' in html
    assert "<script>" not in html  # the page's own script is a file: the Content-Security-Policy allows no inline one
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert client.get("/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/vendor/swagger-ui-dist/index.html").status_code == 404  # only the allowlisted files


def test_without_the_npm_packages_the_page_says_how_to_install_them(client, monkeypatch, tmp_path):
    monkeypatch.setattr(public_views, "NODE_MODULES", tmp_path)
    page = client.get("/api/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "npm ci" in html and "/api/v1/openapi.json" in html
    assert "swagger-ui-bundle.js" not in html
