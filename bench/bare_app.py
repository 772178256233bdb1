"""The ingest baseline: a bare Flask app that answers every delivery 202.

No signature check, no JSON parsing, no Redis: what gunicorn and Flask cost on
their own, served with the same gunicorn workers, threads and worker class as
the Procfile's `web` process.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify


def create_app() -> Flask:
    app = Flask("bare")

    @app.post("/api/github/webhooks")
    def webhook() -> tuple[Response, int]:
        return jsonify({"message": "queued"}), 202

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        return jsonify({"message": "ok"}), 200

    return app
