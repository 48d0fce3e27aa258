"""Local stand-ins for Slack and GitHub, so every command can be tried with no accounts.

Dev mode only: ``rocket2 dev standins`` serves them on the loopback address the dev ``.env``
names in SLACK_API_URL (the page, Slack's Web API under ``/api/``, response_urls under
``/respond/``, GitHub's REST API under ``/github/``); ``rocket2 dev send`` and ``rocket2 dev
event`` drive them. They talk to Rocket 2 over HTTP only, as Slack and GitHub do.
"""
