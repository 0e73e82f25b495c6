import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_google_flow import GoogleFlow

db = SQLAlchemy()  # the app's own database


def create_app(config=None):
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ["SECRET_KEY"],  # the same on every worker and host
        GOOGLE_CLIENT_SECRETS_FILE="client_secret.json",
        SQLALCHEMY_DATABASE_URI=os.environ["DATABASE_URL"],  # postgresql+psycopg://...
        SQLALCHEMY_ENGINE_OPTIONS={
            "pool_pre_ping": True,  # a connection cut by a restart is replaced, not used
            "pool_timeout": 2,  # wait at most 2 s for a free pooled connection
            "connect_args": {
                "connect_timeout": 2,  # wait at most 2 s for the server to answer a connect
                "options": "-c statement_timeout=2000",  # and 2 s for any one query
            },
        },
        SESSION_TYPE="sqlalchemy",  # Flask-Session keeps sessions in a table
        SESSION_SQLALCHEMY=db,
    )
    app.config.update(config or {})
    db.init_app(app)
    # Let init_app call Session(app): it starts the app even while the
    # database is down, and creates the session table once it is back.
    GoogleFlow(app)
    return app
