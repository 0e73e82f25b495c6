import json
import sqlite3

from google.oauth2.credentials import Credentials

from flask_google_flow import GoogleFlow

google_flow = GoogleFlow()
DATABASE = "app.sqlite3"


def db():
    connection = sqlite3.connect(DATABASE)
    connection.execute(
        "CREATE TABLE IF NOT EXISTS google_credentials (sub TEXT PRIMARY KEY, data TEXT NOT NULL)"
    )
    return connection


@google_flow.store
def save(credentials, id_info):
    # After sign-in, and after every token refresh: key by the Google account id.
    with db() as connection:
        connection.execute(
            "INSERT INTO google_credentials (sub, data) VALUES (?, ?) "
            "ON CONFLICT(sub) DO UPDATE SET data = excluded.data",
            (id_info["sub"], credentials.to_json()),
        )


@google_flow.load
def load(sub):
    row = db().execute("SELECT data FROM google_credentials WHERE sub = ?", (sub,)).fetchone()
    return Credentials.from_authorized_user_info(json.loads(row[0])) if row else None


@google_flow.delete
def delete(sub):
    with db() as connection:
        connection.execute("DELETE FROM google_credentials WHERE sub = ?", (sub,))
