"""The control side: ``/_sandbox/...`` for tests, the CLI and the dashboard."""
