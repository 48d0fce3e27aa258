"""The store's column sizes, written once: the models declare their columns with them, and
every check that must fit a value into a column (payload shapes, command arguments) uses them."""

SLACK_ID = 32  # U…/W… member ids and T… workspace ids
NAME = 200  # people's and teams' names, slugs, majors, positions, platforms
GITHUB_LOGIN = 100
EMAIL = 320
URL = 1000  # a profile image
BIO = 2000  # a biography (a Text column; the limit keeps replies within Slack's)
REQUEST_BODY = 1024 * 1024  # 1 MiB: Slack and GitHub payloads are far smaller; more gets 413
