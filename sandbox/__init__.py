"""Genstore Sandbox: a local, offline, stateful emulator of Genstore's payment APIs."""

__version__ = "0.1.0"
