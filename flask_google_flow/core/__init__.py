"""The framework-neutral core under the flow layer: it never imports Flask.

Client secrets, loopback hosts and the loopback redirect server, provider
endpoints and the pooled HTTP client, ID-token verification, the ``next`` rule
and scope names. :mod:`flask_google_flow.flow`, :mod:`~flask_google_flow.helpers`,
:mod:`~flask_google_flow.interactive` and :mod:`~flask_google_flow.cli` are
built on it, and so is the Flask layer, :mod:`flask_google_flow.ext`.
"""
