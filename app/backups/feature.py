"""The backups feature: the scheduled ``db backup`` (app.backups.job)."""

from __future__ import annotations

from app.backups import job
from app.feature import Feature

FEATURE = Feature(name="backups", jobs=(job.JOB,))
