"""`rocket2 doctor`: ask Slack, GitHub, the public URL and the store whether this deploy is
wired as app.platforms declares; each check says ok, warn or fail, with a one-line fix."""
