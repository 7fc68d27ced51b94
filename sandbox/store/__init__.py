"""The one store: SQLite (stdlib, WAL) shared by every worker process."""
