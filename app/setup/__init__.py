"""`rocket2 setup`: create the Slack app and the GitHub App from the declaration of what
Rocket 2 needs (app.platforms), and write the values they give into the env file.

Each command module imports what it runs only when it runs, so `rocket2 --help` stays fast.
"""
