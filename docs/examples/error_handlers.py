from flask import Flask, render_template_string

from flask_google_flow import AuthorizationDenied, GoogleFlow, GoogleFlowError

PAGE = "<h1>{{ error.title }}</h1><p>{{ error.description }}</p><a href='/authorize'>Try again</a>"


def create_app(config):
    app = Flask(__name__)
    app.config.update(config)
    GoogleFlow(app)

    @app.errorhandler(GoogleFlowError)  # every sign-in failure, in your own layout
    def sign_in_failed(error):
        return render_template_string(PAGE, error=error), error.code

    @app.errorhandler(AuthorizationDenied)  # a more specific handler wins
    def cancelled(error):
        return "No problem — you can keep browsing without signing in.", 200

    return app
