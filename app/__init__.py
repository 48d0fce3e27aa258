"""Rocket 2: the club's Slack bot, mirrored to its GitHub organisation.

The application factory is ``app.factory.create_app``; the package itself imports nothing, so
the Gunicorn master and the ``rocket2`` command load only what they use.
"""
