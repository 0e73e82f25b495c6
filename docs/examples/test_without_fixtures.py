from quickstart_app import create_app

from flask_google_flow.testing import FakeGoogle


def test_sign_in_without_the_fixtures(tmp_path):
    fake = FakeGoogle()
    with fake.intercept():  # requests to Google's URLs reach the fake, in-process
        app = create_app(
            {"GOOGLE_CLIENT_CONFIG": fake.client_config(), "GOOGLE_FLOW_SESSION_DIR": str(tmp_path)}
        )
        client = app.test_client()
        location = client.get("/authorize").headers["Location"]  # the redirect to "Google"
        callback = fake.approve(location, account=fake.add_account("alice@example.com"))
        client.get(callback.removeprefix("http://localhost"))  # back to /oauth2callback
        assert client.get("/").get_data(as_text=True).startswith("Hello Alice (")
