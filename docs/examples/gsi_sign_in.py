from flask import Flask, render_template_string

from flask_google_flow import GoogleFlow

google_flow = GoogleFlow()
CALENDAR = "https://www.googleapis.com/auth/calendar.readonly"

PAGE = """<!doctype html>
<title>Welcome</title>
{% if current_user %}Hello {{ current_user.name }}
{% else %}
  {{ google_one_tap() }}
  {{ google_sign_in_button(theme="filled_blue", text="continue_with", next="/") }}
{% endif %}
"""

users = {}  # your database, keyed by the Google account id ("sub")


@google_flow.store
def save(credentials, id_info):
    # credentials is None after POST /gsi (the button, One Tap): an ID token only.
    # After the redirect flow (/oauth2callback) it holds the OAuth tokens.
    users[id_info["sub"]] = {"email": id_info["email"], "credentials": credentials}


def create_app(config):
    app = Flask(__name__)
    app.config.update(config)
    google_flow.init_app(app)

    @app.route("/")
    def home():
        return render_template_string(PAGE, current_user=google_flow.user)

    @app.route("/calendar")
    @google_flow.required(scopes=[CALENDAR])  # after GIS: the redirect flow, account preselected
    def calendar():
        return "your calendar..."  # google_flow.authorized_session().get(...)

    return app
