import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_google_flow import GoogleFlow

db = SQLAlchemy()  # the app's own database object, with its own models


def create_app():
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ["SECRET_KEY"],  # the same on every worker and host
        GOOGLE_CLIENT_SECRETS_FILE="client_secret.json",
        # e.g. postgresql+psycopg://app@db.internal/app
        SQLALCHEMY_DATABASE_URI=os.environ["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS={
            "pool_pre_ping": True,  # a connection cut by a database restart is replaced
            "pool_timeout": 5,  # wait at most 5 s for a free pooled connection
            "connect_args": {"connect_timeout": 3},  # give up connecting after 3 s
        },
        SESSION_TYPE="sqlalchemy",
        SESSION_SQLALCHEMY=db,
    )
    db.init_app(app)
    GoogleFlow(app)  # sessions in table "sessions", pending sign-ins in "google_flow_pending"
    return app
