"""The Flask layer: :class:`~flask_google_flow.ext.extension.GoogleFlow` and what it runs.

Built on the framework-neutral flow layer (:mod:`flask_google_flow.flow`,
:mod:`flask_google_flow.core`); nothing there imports this package. Leaf
modules reach the per-app state through ``current_app.extensions`` (see
:mod:`flask_google_flow.ext.state`) instead of importing the extension.
"""
