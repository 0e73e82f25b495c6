"""Undo what ``store`` saved when the sign-in could not be finished (docs/errors.md)."""

from flask import Flask

from flask_google_flow.signals import login_failed

forgotten: list[str] = []  # stands for your database


def forget_login(sub: str) -> None:
    """Your own clean-up of what ``store`` saved for *sub*."""
    forgotten.append(sub)


def watch_half_done_sign_ins(app: Flask) -> None:
    @login_failed.connect_via(app, weak=False)
    def undo_half_done_sign_in(app, error, store_ran, id_info, reason, **extra):
        if store_ran:  # store() returned, but the session could not be written
            app.logger.warning("sign-in of %s not finished (%s)", id_info["sub"], reason)
            forget_login(id_info["sub"])
