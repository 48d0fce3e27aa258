"""Teams mirrored with GitHub: plain services over (store, github, config).

GitHub is the source of truth. A change made here goes to the GitHub API first and to the
database only when GitHub said yes; a change made on GitHub arrives as a webhook and is mirrored.

- app.teams.mirror: the local side of mirroring (rename-safe upsert, promotion/demotion);
- app.teams.refresh: ``refresh(store, github, config)`` pages through every GitHub list and
  makes the database match (idempotent: a second run changes nothing);
- app.teams.webhooks: handlers for the ``organization``, ``team`` and ``membership`` events;
- app.teams.operations / app.teams.export: the logic of ``/rocket team …`` and ``export emails``;
- app.teams.jobs: the scheduled refresh.
"""

from app.teams.refresh import RefreshReport, refresh

__all__ = ["RefreshReport", "refresh"]
