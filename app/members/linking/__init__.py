"""Linking a Slack member to a GitHub account with GitHub's own proof (the App's web flow).

``state`` signs the one-time link, ``oauth`` talks to GitHub's web flow, ``service`` stores the
link (and invites, cancels the previous invitation, tells the member and the admins), and
``views`` is the callback route ``/github/link``.
"""

CALLBACK_PATH = "/github/link"
