"""Sign in with Google for Flask, and a google_auth_oauthlib-compatible flow layer."""

from __future__ import annotations

__version__ = "0.1.0"
