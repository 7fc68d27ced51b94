"""The generated OpenAPI documents, served as JSON/YAML; interactive docs at ``/docs`` (Swagger
UI, its assets shipped in the swagger-ui-bundle package: no CDN, works offline) and a plain
table of every endpoint at ``/docs/endpoints``."""

from __future__ import annotations

import html
import json
from typing import Any

import yaml
from flask import Blueprint, Flask, Response, current_app, send_from_directory

from sandbox.errors import NotFound

docs = Blueprint("sandbox-docs", __name__)


def spec_dict(app: Flask, name: str) -> dict[str, Any]:
    return app.extensions["sandbox_apis"][name].document().to_dict()


def spec_yaml(app: Flask, name: str) -> str:
    return yaml.safe_dump(spec_dict(app, name), sort_keys=False, allow_unicode=True, width=100)


def _document(name: str, kind: str) -> str:
    """Rendered once per process: the specs never change after start-up."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache = app.extensions.setdefault("sandbox_spec_cache", {})
    if (name, kind) not in cache:
        spec = spec_dict(app, name)
        cache[name, kind] = json.dumps(spec, indent=2) if kind == "json" else spec_yaml(app, name)
    return cache[name, kind]


@docs.get("/openapi/<name>.<any(json,yaml):kind>")
def openapi(name: str, kind: str):
    if name not in current_app.extensions["sandbox_apis"]:
        known = ", ".join(current_app.extensions["sandbox_apis"])
        raise NotFound(f"No OpenAPI document '{name}' (known: {known})")
    mimetype = "application/json" if kind == "json" else "application/yaml"
    return Response(_document(name, kind), mimetype=mimetype)


@docs.get("/docs")
def interactive_docs():
    """Swagger UI over the three documents, "Try it out" against this sandbox."""
    apis = current_app.extensions["sandbox_apis"]
    urls = [{"url": f"/openapi/{name}.json", "name": api.spec.title} for name, api in apis.items()]
    return Response(_SWAGGER_PAGE.replace("__URLS__", html.escape(json.dumps(urls))),
                    mimetype="text/html")  # fmt: skip


@docs.get("/docs/assets/<any('swagger-ui.css', 'swagger-ui-bundle.js', "
          "'swagger-ui-standalone-preset.js', 'favicon-32x32.png'):asset>")  # fmt: skip
def swagger_asset(asset: str):
    from swagger_ui_bundle import swagger_ui_path  # only when the docs are opened

    return send_from_directory(str(swagger_ui_path), asset, max_age=3600)


@docs.get("/docs/init.js")
def swagger_init():
    return Response(_SWAGGER_INIT, mimetype="text/javascript")


_SWAGGER_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Genstore Sandbox API docs</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" href="/docs/assets/favicon-32x32.png">
<style>body{margin:0} .sandbox-links{font-family:system-ui,sans-serif;padding:.6em 1.5em;
background:#f3f5f8;border-bottom:1px solid #ddd}</style></head><body>
<p class="sandbox-links">Genstore Sandbox · <a href="/_sandbox/ui">dashboard</a> ·
<a href="/docs/endpoints">every endpoint on one page</a> · pick a document at the top right;
"Authorize" takes a shop's access token (the demo shop's are in fixtures/default.yaml)</p>
<div id="swagger-ui" data-urls="__URLS__"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script></body></html>"""

_SWAGGER_INIT = """"use strict";
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  urls: JSON.parse(root.dataset.urls),
  "urls.primaryName": new URLSearchParams(location.search).get("api") || undefined,
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
  persistAuthorization: true,
  tryItOutEnabled: false,
});
"""


@docs.get("/docs/endpoints")
def docs_page():
    app = current_app._get_current_object()
    sections = [_render(name, spec_dict(app, name)) for name in app.extensions["sandbox_apis"]]
    return Response(_PAGE.format(body="\n".join(sections)), mimetype="text/html")


def _render(name: str, spec: dict[str, Any]) -> str:
    info = spec["info"]
    rows = []
    for path, operations in spec.get("paths", {}).items():
        for method, op in operations.items():
            if method == "parameters":
                continue
            codes = ", ".join(op.get("responses", {}))
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code>"
                f"</td><td>{html.escape(op.get('summary', ''))}<br><small>"
                f"{html.escape(op.get('description', ''))}</small></td><td>{codes}</td></tr>"
            )
    return (
        f"<h2>{html.escape(info['title'])}</h2><p>{html.escape(info.get('description', ''))}</p>"
        f'<p><a href="/openapi/{name}.json">{name}.json</a> · '
        f'<a href="/openapi/{name}.yaml">{name}.yaml</a></p>'
        f"<table><tr><th>Method</th><th>Path</th><th>What</th><th>Responses</th></tr>"
        f"{''.join(rows)}</table>"
    )


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Genstore Sandbox API</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:.4em;
text-align:left;vertical-align:top}}code{{background:#f4f4f4;padding:0 .2em}}</style></head>
<body><h1>Genstore Sandbox</h1><p>Every endpoint the sandbox serves, from the same OpenAPI
documents code generators use. The <a href="/_sandbox/ui">dashboard</a> shows payments
moving.</p>{body}</body></html>"""


@docs.get("/")
def home():
    """Where the start banner's base URL leads: the docs, and each API's document."""
    apis = current_app.extensions["sandbox_apis"]
    items = [
        ("/_sandbox/ui", "The dashboard: payments moving through both sides, and actions"),
        ("/docs", "Interactive API docs (Swagger UI): try any call against this sandbox"),
        ("/docs/endpoints", "Every endpoint the sandbox serves, on one page"),
    ]
    items += [(f"/openapi/{name}.yaml", api.spec.title) for name, api in apis.items()]
    items.append(("/_sandbox/health", "Health: version, shops, the worker that answered"))
    links = "".join(
        f'<li><a href="{html.escape(href)}">{html.escape(href)}</a>: {html.escape(text)}</li>'
        for href, text in items
    )
    return Response(_PAGE.format(body=f"<ul>{links}</ul>"), mimetype="text/html")


def register_docs(app: Flask) -> None:
    app.register_blueprint(docs)
