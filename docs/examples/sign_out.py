from flask import Flask, render_template_string, request

from flask_google_flow import GoogleFlow
from flask_google_flow.ext.signals import credentials_revoked, logged_out

PAGE = """
{% if google_flow.user %}
  <p>Signed in as {{ google_flow.user.email }}</p>
  <form method="post" action="{{ url_for('google_flow.logout') }}">
    <input type="hidden" name="next" value="/">
    <button>Sign out</button>
  </form>
  <form method="post" action="{{ url_for('google_flow.revoke') }}">
    <input type="hidden" name="next" value="/">
    <button>Disconnect your Google account</button>
  </form>
{% else %}
  <a href="{{ url_for('google_flow.authorize', next='/') }}">Sign in with Google</a>
{% endif %}
<p>{{ notice }}</p>
"""

# After POST /revoke the browser lands on next?google_flow_revoke=<outcome>.
NOTICES = {
    "revoked": "Access removed, at Google and here.",
    "invalid": "Access had already been removed at Google; removed here too.",
    "failed": "Removed here, but Google did not answer: also remove this app at "
    "https://myaccount.google.com/permissions.",
    "none": "Nothing was connected.",
}


def create_app(config):
    app = Flask(__name__)
    app.config.update(config)
    google_flow = GoogleFlow(app)

    @app.route("/")
    def home():
        notice = NOTICES.get(request.args.get("google_flow_revoke"), "")
        return render_template_string(PAGE, google_flow=google_flow, notice=notice)

    @logged_out.connect_via(app)
    def audit_logout(sender, sub, **extra):
        sender.logger.info("signed out: %s", sub)

    @credentials_revoked.connect_via(app)
    def audit_revoke(sender, sub, revoked, outcome, **extra):
        sender.logger.info("revoked for %s: %s", sub, outcome)

    return app
