"""Development mode points the receiver at the fake Google's RISC configuration."""

from __future__ import annotations

from example_app import create_app, devmode


def test_dev_mode_receives_the_fakes_security_events(tmp_path):
    app = create_app(
        {"GOOGLE_FLOW_SESSION_DIR": str(tmp_path / "sessions"), "GOOGLE_FLOW_RISC_ENABLED": True},
        instance_path=str(tmp_path / "instance"),
    )
    fake = devmode.fake_google()
    assert app.config["GOOGLE_FLOW_RISC_CONFIGURATION_URL"] == fake.risc.configuration_url
    token = fake.risc_event("account-enabled", sub="1")
    assert app.test_client().post("/risc", data=token).status_code == 202
