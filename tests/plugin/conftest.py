"""The plugin's tests run pytest inside pytest with ``pytester``."""

from __future__ import annotations

pytest_plugins = ["pytester"]
