"""pytest plugin (``pytest11`` entry point) with fixtures for apps using GoogleFlow."""
