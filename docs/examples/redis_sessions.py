import os

import redis
from flask import Flask

from flask_google_flow import GoogleFlow


def create_app():
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ["SECRET_KEY"],
        GOOGLE_CLIENT_SECRETS_FILE="client_secret.json",
        SESSION_TYPE="redis",
        SESSION_REDIS=redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")),
    )
    GoogleFlow(app)  # sets up Flask-Session with Redis, pending sign-ins included
    return app
