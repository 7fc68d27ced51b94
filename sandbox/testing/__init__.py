"""Helpers for testing against the sandbox: a live server on a free port, fresh shops."""
