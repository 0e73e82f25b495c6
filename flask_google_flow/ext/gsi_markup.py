"""Markup for Google Identity Services: the "Sign in with Google" button and One Tap.

``google_sign_in_button(**options)`` and ``google_one_tap(**options)`` are
Jinja globals (registered by ``init_app``), also reachable as
:meth:`GoogleFlow.sign_in_button <flask_google_flow.GoogleFlow.sign_in_button>`
and :meth:`GoogleFlow.one_tap <flask_google_flow.GoogleFlow.one_tap>`. They
return Google's HTML API: one ``<div id="g_id_onload">`` with
``data-client_id``, ``data-login_uri`` (the absolute ``POST /gsi`` URL) and
``data-nonce`` (this page's single-use nonce), a ``<div class="g_id_signin">``
for a button, and the GIS ``<script>`` (``GOOGLE_FLOW_GSI_SCRIPT_URL``) with
the page's CSP nonce. On one page each piece is emitted once: call
``google_one_tap()`` before ``google_sign_in_button()`` when a page has both
(or pass ``one_tap=True`` to the button).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import g, request, url_for
from markupsafe import Markup, escape

from .gsi import page_nonce
from .refresh import current_path
from .state import AppState, app_state

__all__ = ["BUTTON_OPTIONS", "ONLOAD_OPTIONS", "one_tap", "sign_in_button"]

#: Options of the ``g_id_onload`` element (Google's ``data-*`` names).
ONLOAD_OPTIONS = frozenset(
    {
        "auto_select",
        "cancel_on_tap_outside",
        "context",
        "ux_mode",
        "itp_support",
        "use_fedcm_for_prompt",
        "use_fedcm_for_button",
        "prompt_parent_id",
        "state_cookie_domain",
        "skip_prompt_cookie",
        "login_hint",
        "hd",
        "log_level",
    }
)
#: Options of a ``g_id_signin`` button (Google's ``data-*`` names).
BUTTON_OPTIONS = frozenset(
    {"type", "theme", "size", "text", "shape", "logo_alignment", "width", "locale"}
)

_EMITTED = "_google_flow_gsi_emitted"


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    raise TypeError(f"a GIS option must be a string, number or boolean, not {type(value).__name__}")


def _attributes(values: Mapping[str, object]) -> str:
    """`` data-name="value"`` for each option; names and values escaped."""
    return "".join(
        f' data-{escape(name)}="{escape(_value(value))}"'
        for name, value in values.items()
        if value is not None
    )


def _split(options: Mapping[str, object], allowed: frozenset[str]) -> dict[str, object]:
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(f"unknown GIS option(s): {', '.join(unknown)}")
    return dict(options)


def _csp_nonce(state: AppState, given: str | None) -> str | None:
    if given is not None:
        return given
    hook = state.settings.gsi_csp_nonce
    if hook is not None:
        return hook()
    value = getattr(request, "csp_nonce", None)  # Flask-Talisman sets it
    return value if isinstance(value, str) else None


def _markup(html: str) -> Markup:
    # Built above from literals and escape()d values only (str.format on Markup
    # escapes too, but costs several times more per page).
    return Markup(html)  # noqa: S704


def _emitted() -> set[str]:
    done = g.get(_EMITTED)
    if done is None:
        done = set()
        setattr(g, _EMITTED, done)
    return done


def _onload(state: AppState, next_url: str | None, auto_prompt: bool, options: dict) -> str:
    if "onload" in _emitted():
        if auto_prompt:
            raise RuntimeError(
                "google_one_tap() must come before google_sign_in_button() on a page "
                "(or pass one_tap=True to the button): a page has one g_id_onload element"
            )
        return ""
    _emitted().add("onload")
    settings = state.settings
    values: dict[str, object] = {
        "client_id": state.client_id,
        "login_uri": url_for(state.endpoint("gsi"), _external=True),
        "nonce": page_nonce(next_url),
        "auto_prompt": auto_prompt,
    }
    if auto_prompt:
        values["use_fedcm_for_prompt"] = settings.gsi_use_fedcm
    if settings.hosted_domain:
        values["hd"] = settings.hosted_domain
    values.update(options)
    return f'<div id="g_id_onload"{_attributes(values)}></div>\n'


def _script(state: AppState, csp_nonce: str | None) -> str:
    if "script" in _emitted():
        return ""
    _emitted().add("script")
    nonce = _csp_nonce(state, csp_nonce)
    nonce_attribute = f' nonce="{escape(nonce)}"' if nonce else ""
    url = escape(state.settings.gsi_script_url)
    return f'<script src="{url}" async defer{nonce_attribute}></script>\n'


def one_tap(*, next: str | None = None, csp_nonce: str | None = None, **options: object) -> Markup:
    """The One Tap prompt (FedCM where the browser has it) for the page being rendered.

    :param next: where to go after signing in (default: this page).
    :param csp_nonce: the page's CSP nonce for the ``<script>`` tag (default:
        ``GOOGLE_FLOW_GSI_CSP_NONCE``, else ``request.csp_nonce``).
    :param options: ``g_id_onload`` options by Google's names (``auto_select=True``,
        ``context="signin"``, ``cancel_on_tap_outside=False``...).
    :raises TypeError: an unknown option.
    """
    state = app_state()
    extra = _split(options, ONLOAD_OPTIONS)
    html = _onload(state, next if next is not None else current_path(), True, extra)
    return _markup(html + _script(state, csp_nonce))


def sign_in_button(
    *,
    next: str | None = None,
    csp_nonce: str | None = None,
    one_tap: bool = False,
    **options: object,
) -> Markup:
    """A "Sign in with Google" button for the page being rendered.

    :param next: where to go after signing in (default: this page).
    :param csp_nonce: as for :func:`one_tap`.
    :param one_tap: also show the One Tap prompt on this page.
    :param options: button options (``theme="filled_blue"``, ``text="signup_with"``,
        ``size``, ``shape``, ``width``, ``logo_alignment``, ``locale``, ``type``)
        and ``g_id_onload`` options (``ux_mode="redirect"``, ``context``...).
    :raises TypeError: an unknown option.
    """
    state = app_state()
    button = _split({k: v for k, v in options.items() if k in BUTTON_OPTIONS}, BUTTON_OPTIONS)
    onload = _split({k: v for k, v in options.items() if k not in BUTTON_OPTIONS}, ONLOAD_OPTIONS)
    html = _onload(state, next if next is not None else current_path(), one_tap, onload)
    button.setdefault("type", "standard")
    html += f'<div class="g_id_signin"{_attributes(button)}></div>\n'
    return _markup(html + _script(state, csp_nonce))
