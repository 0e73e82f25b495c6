"""Testing support: a fake Google authorization server and pytest fixtures."""
