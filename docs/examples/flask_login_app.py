"""Google sign-in as the way users log in to a Flask-Login app."""

from flask import Flask, render_template_string
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)

from flask_google_flow import GoogleFlow
from flask_google_flow.signals import credentials_revoked, logged_out, login_succeeded

DRIVE = "https://www.googleapis.com/auth/drive.readonly"

google_flow = GoogleFlow()
login_manager = LoginManager()
# @login_required sends anonymous users through Google, back to the page they wanted.
login_manager.login_view = "google_flow.authorize"

USERS: dict[str, "User"] = {}  # your database, keyed by the Google account id (sub)


class User(UserMixin):
    def __init__(self, sub: str, email: str, name: str) -> None:
        self.id = sub  # Flask-Login keeps this id in the session
        self.email = email
        self.name = name


@login_manager.user_loader
def load_user(user_id: str) -> "User | None":
    return USERS.get(user_id)


def sign_in(app, id_info, **extra):
    """After every successful Google sign-in: create or update the user, log them in."""
    user = USERS.get(id_info["sub"]) or User(id_info["sub"], "", "")
    user.email = id_info.get("email", "")
    user.name = id_info.get("name", "")
    USERS[user.id] = user
    login_user(user)


def sign_out(app, **extra):
    """After POST /logout or /revoke: Flask-Login forgets the user (and its remember cookie)."""
    logout_user()


PAGE = """
{% if current_user.is_authenticated %}
  <p>Hello {{ current_user.name }}</p>
  <form method="post" action="{{ url_for('google_flow.logout') }}"><button>Log out</button></form>
{% else %}
  <a href="{{ url_for('google_flow.authorize', next='/') }}">Log in with Google</a>
{% endif %}
"""


def create_app(config):
    app = Flask(__name__)
    app.config.update(GOOGLE_FLOW_EXTRA_SCOPES=[DRIVE], **config)
    google_flow.init_app(app)
    login_manager.init_app(app)
    login_succeeded.connect(sign_in, app)
    logged_out.connect(sign_out, app)
    credentials_revoked.connect(sign_out, app)

    @app.route("/")
    def home():
        return render_template_string(PAGE)

    @app.route("/account")
    @login_required  # a user of *your* app: Flask-Login's session
    def account():
        return {"email": current_user.email}

    @app.route("/files")
    @login_required
    @google_flow.required(scopes=[DRIVE])  # and Google credentials with the Drive scope
    def files():
        return "your files..."

    return app
