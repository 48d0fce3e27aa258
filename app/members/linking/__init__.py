"""Linking a Slack member to a GitHub account with GitHub's own proof (the App's web flow).

``state`` signs the one-time link, ``oauth`` talks to GitHub's web flow, ``member`` names the
Slack member as Slack does, ``links`` stores the link (invites, recomputes the role, tells the
channel and the member), ``factor`` asks for the second factor when the account gives power,
``previous`` retires the earlier account; the route ``/github/link`` is app.web.linking.
"""

CALLBACK_PATH = "/github/link"
