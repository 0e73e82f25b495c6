"""@app.errorhandler(GoogleFlowError) - the documented catch-all - sees every subclass."""

from __future__ import annotations

import inspect

import pytest
from flask import Flask

from flask_google_flow import errors

CONCRETE = sorted(
    (
        cls
        for cls in vars(errors).values()
        if inspect.isclass(cls)
        and issubclass(cls, errors.GoogleFlowError)
        and cls is not errors.GoogleFlowError
        and cls is not errors.ReauthorizationRequired  # needs an argument; tested below
    ),
    key=lambda cls: cls.__name__,
)


@pytest.mark.parametrize("error_class", CONCRETE, ids=lambda cls: cls.__name__)
def test_one_handler_for_the_base_class_catches_every_error(error_class):
    app = Flask(__name__)

    @app.errorhandler(errors.GoogleFlowError)
    def handled(error):
        return f"handled {error.error_code}", error.code

    @app.route("/fail")
    def fail():
        raise error_class()

    response = app.test_client().get("/fail")
    assert response.status_code == error_class.code
    assert response.get_data(as_text=True) == f"handled {error_class.error_code}"


def test_the_catch_all_sees_4xx_5xx_and_the_reauthorization_redirect():
    app = Flask(__name__)
    seen = []

    @app.errorhandler(errors.GoogleFlowError)
    def handled(error):
        seen.append(error.code)
        return error.get_response() if error.code == 401 else ("x", error.code)

    @app.route("/reauth")
    def reauth():
        raise errors.ReauthorizationRequired("/authorize?next=%2F")

    response = app.test_client().get("/reauth")
    assert seen == [401]
    assert response.status_code == 302
    assert response.headers["Location"] == "/authorize?next=%2F"


def test_without_a_handler_each_error_keeps_its_own_status_page():
    app = Flask(__name__)

    @app.route("/fail")
    def fail():
        raise errors.UnknownStateError()

    response = app.test_client().get("/fail")
    assert response.status_code == 400
    assert response.headers["Referrer-Policy"] == "no-referrer"
