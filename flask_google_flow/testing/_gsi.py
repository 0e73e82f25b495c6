"""The fake Google's stand-in for the Google Identity Services client script.

Served at ``/gsi/client`` by the fake server, it reads Google's HTML API on
the page — the ``g_id_onload`` element's ``data-*`` attributes and every
``g_id_signin`` element — and, like Google's script:

* renders a "Sign in with Google" button in each ``g_id_signin`` element, and
  the One Tap prompt unless ``data-auto_prompt="false"``;
* offers the fake's accounts (``GET /gsi/accounts``); picking one fetches an
  ID token signed with the fake's key for ``data-client_id`` carrying
  ``data-nonce`` (``POST /gsi/credential``);
* sets a random ``g_csrf_token`` cookie and posts a form to
  ``data-login_uri`` with ``credential``, the same ``g_csrf_token`` and
  ``select_by`` (or calls the ``data-callback`` function instead).

It always posts from the page itself (``ux_mode=redirect`` included), needs
no Google account and no network, and draws with ``element.style`` only, so
a page's CSP needs ``script-src`` and ``connect-src`` for the fake's origin.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from ._model import OAuthError

if TYPE_CHECKING:
    from .fake_google import FakeGoogle

GSI_CLIENT_PATH = "/gsi/client"
GSI_ACCOUNTS_PATH = "/gsi/accounts"
GSI_CREDENTIAL_PATH = "/gsi/credential"

_CORS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}


def client(fake: FakeGoogle, request: Request) -> Response:
    """``GET /gsi/client``: the stand-in script."""
    response = Response(STAND_IN_SCRIPT, mimetype="text/javascript")
    response.headers.update(_CORS)
    return response


def accounts(fake: FakeGoogle, request: Request) -> Response:
    """``GET /gsi/accounts``: the accounts the prompt offers (email, name, picture)."""
    body = [
        {"email": a.email, "name": a.name, "given_name": a.given_name}
        for a in fake.accounts.values()
    ]
    response = Response(json.dumps(body), mimetype="application/json")
    response.headers.update(_CORS)
    return response


def credential(fake: FakeGoogle, request: Request) -> Response:
    """``POST /gsi/credential`` (``client_id``, ``account``, ``nonce``): a signed ID token."""
    form = request.form
    try:
        client_id = form.get("client_id") or ""
        if client_id not in fake.clients:
            raise OAuthError("invalid_client", "The OAuth client was not found.", 401)
        email = form.get("account") or ""
        if email not in fake.accounts:
            raise OAuthError("invalid_request", "Choose an account.")
        token = fake.gsi_credential(
            account=email, nonce=form.get("nonce") or None, client_id=client_id
        )
    except OAuthError as exc:
        body = {"error": exc.error, "error_description": exc.description}
        response = Response(json.dumps(body), status=exc.status, mimetype="application/json")
    else:
        response = Response(json.dumps({"credential": token}), mimetype="application/json")
    response.headers.update(_CORS)
    return response


STAND_IN_SCRIPT = r"""/* Fake Google Identity Services client (flask-google-flow testing). */
(function () {
  "use strict";
  var me = document.currentScript;
  var base = me.src.replace(/\/gsi\/client(\?.*)?$/, "");
  var TEXTS = {
    signin_with: "Sign in with Google", signup_with: "Sign up with Google",
    continue_with: "Continue with Google", signin: "Sign in"
  };
  var CONTEXTS = { signin: "Sign in to", signup: "Sign up to", use: "Use" };

  function style(el, rules) { for (var k in rules) { el.style[k] = rules[k]; } return el; }
  function node(tag, text, rules) {
    var el = document.createElement(tag);
    if (text) { el.textContent = text; }
    return style(el, rules || {});
  }
  function config() {
    var el = document.getElementById("g_id_onload");
    return el ? el.dataset : null;
  }
  function loadAccounts() {
    return fetch(base + "/gsi/accounts").then(function (r) { return r.json(); });
  }
  function randomHex() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  function hidden(form, name, value) {
    var input = document.createElement("input");
    input.type = "hidden"; input.name = name; input.value = value;
    form.appendChild(input);
  }
  function signIn(cfg, email, selectBy) {
    var body = new URLSearchParams();
    body.set("client_id", cfg.client_id || "");
    body.set("account", email);
    if (cfg.nonce) { body.set("nonce", cfg.nonce); }
    fetch(base + "/gsi/credential", { method: "POST", body: body })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (!data.credential) { throw new Error(data.error || "no credential"); }
        if (cfg.callback && typeof window[cfg.callback] === "function") {
          window[cfg.callback]({ credential: data.credential, select_by: selectBy });
          return;
        }
        var csrf = randomHex();
        document.cookie = "g_csrf_token=" + csrf + "; path=/; SameSite=Lax";
        var form = document.createElement("form");
        form.method = "post";
        form.action = cfg.login_uri;
        hidden(form, "credential", data.credential);
        hidden(form, "g_csrf_token", csrf);
        hidden(form, "select_by", selectBy);
        document.body.appendChild(form);
        form.submit();
      })
      .catch(function (err) { if (window.console) { console.error("fake GIS:", err); } });
  }
  function accountButton(cfg, account, label, selectBy) {
    var b = node("button", label, {
      display: "block", width: "100%", margin: "6px 0", padding: "8px 12px",
      border: "1px solid #dadce0", borderRadius: "4px", background: "#fff",
      color: "#202124", textAlign: "left", cursor: "pointer",
      font: "14px system-ui, sans-serif"
    });
    b.type = "button";
    b.setAttribute("data-fake-gsi-account", account.email);
    b.addEventListener("click", function () { signIn(cfg, account.email, selectBy); });
    return b;
  }
  function chooser(cfg) {
    loadAccounts().then(function (list) {
      var shade = node("div", "", {
        position: "fixed", left: "0", top: "0", right: "0", bottom: "0",
        background: "rgba(0,0,0,.4)", zIndex: "2147483646"
      });
      var box = node("div", "", {
        position: "fixed", left: "50%", top: "20%", transform: "translateX(-50%)",
        width: "340px", background: "#fff", borderRadius: "8px", padding: "16px",
        boxShadow: "0 4px 16px rgba(0,0,0,.3)", zIndex: "2147483647",
        font: "14px system-ui, sans-serif", color: "#202124"
      });
      box.setAttribute("role", "dialog");
      box.setAttribute("data-fake-gsi", "chooser");
      box.appendChild(node("div", "Fake Google", { fontWeight: "bold", marginBottom: "4px" }));
      box.appendChild(node("div", "Choose an account to continue to " + location.host,
                           { marginBottom: "8px" }));
      list.forEach(function (account) {
        box.appendChild(accountButton(cfg, account, account.name + " \u2014 " + account.email,
                                      "btn"));
      });
      var cancel = node("button", "Cancel", {
        marginTop: "8px", padding: "6px 12px", border: "1px solid #dadce0",
        borderRadius: "4px", background: "#fff", color: "#1a73e8", cursor: "pointer"
      });
      cancel.type = "button";
      cancel.addEventListener("click", function () { shade.remove(); box.remove(); });
      box.appendChild(cancel);
      document.body.appendChild(shade);
      document.body.appendChild(box);
    });
  }
  function renderButton(cfg, el) {
    var d = el.dataset;
    var dark = d.theme === "filled_blue" || d.theme === "filled_black";
    var b = node("button", d.type === "icon" ? "G" : (TEXTS[d.text] || TEXTS.signin_with), {
      display: "inline-flex", alignItems: "center", gap: "8px", padding: "8px 14px",
      border: "1px solid #dadce0", borderRadius: d.shape === "pill" ? "20px" : "4px",
      background: dark ? (d.theme === "filled_blue" ? "#1a73e8" : "#202124") : "#fff",
      color: dark ? "#fff" : "#3c4043", font: "500 14px system-ui, sans-serif",
      cursor: "pointer"
    });
    if (d.width) { b.style.width = d.width + "px"; }
    b.type = "button";
    b.setAttribute("data-fake-gsi", "button");
    b.addEventListener("click", function () { chooser(cfg); });
    el.appendChild(b);
  }
  function oneTap(cfg) {
    loadAccounts().then(function (list) {
      var parent = (cfg.prompt_parent_id && document.getElementById(cfg.prompt_parent_id))
        || document.body;
      var box = node("div", "", {
        position: parent === document.body ? "fixed" : "static", top: "16px", right: "16px",
        width: "320px", background: "#fff", border: "1px solid #dadce0",
        borderRadius: "8px", padding: "12px 16px", boxShadow: "0 2px 10px rgba(0,0,0,.2)",
        zIndex: "2147483645", font: "14px system-ui, sans-serif", color: "#202124"
      });
      box.setAttribute("role", "dialog");
      box.setAttribute("data-fake-gsi", "one-tap");
      var close = node("button", "\u00d7", {
        float: "right", border: "none", background: "none", color: "#5f6368",
        fontSize: "18px", cursor: "pointer", padding: "0 4px"
      });
      close.type = "button";
      close.setAttribute("aria-label", "Close");
      close.addEventListener("click", function () { box.remove(); });
      box.appendChild(close);
      var verb = CONTEXTS[cfg.context] || CONTEXTS.signin;
      box.appendChild(node("div", verb + " " + location.host + " with Google",
                           { fontWeight: "bold", marginBottom: "8px" }));
      if (cfg.use_fedcm_for_prompt === "true") {
        box.appendChild(node("div", "(FedCM prompt, simulated)",
                             { color: "#5f6368", fontSize: "12px", marginBottom: "4px" }));
      }
      list.forEach(function (account) {
        box.appendChild(accountButton(cfg, account, "Continue as " + account.given_name
                                      + " (" + account.email + ")", "user"));
      });
      parent.appendChild(box);
    });
  }
  function start() {
    var cfg = config();
    if (!cfg || !cfg.client_id) { return; }
    var buttons = document.querySelectorAll(".g_id_signin");
    Array.prototype.forEach.call(buttons, function (el) { renderButton(cfg, el); });
    if (cfg.auto_prompt !== "false") { oneTap(cfg); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
"""
