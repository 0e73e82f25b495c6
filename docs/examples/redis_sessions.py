import os

from flask import Flask

from flask_google_flow import GoogleFlow
from flask_google_flow.ext.resilience import fail_fast_redis


def create_app():
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ["SECRET_KEY"],  # the same on every worker and host
        GOOGLE_CLIENT_SECRETS_FILE="client_secret.json",
        SESSION_TYPE="redis",
        # A redis.Redis client that gives up in about a second (see deployment).
        SESSION_REDIS=fail_fast_redis(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")),
    )
    GoogleFlow(app)  # sets up Flask-Session with Redis, pending sign-ins included
    return app
