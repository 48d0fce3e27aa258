"""Backups of the SQLite store: online snapshots (``db backup``), restores (``db restore``), the
scheduled backup job, and continuous replication with Litestream (``db replicate``).

See docs/operators/backups.md and docs/decisions/0026-litestream-and-a-daily-backup.md.
"""
