"""The in-process fixtures the members' command tests share: a store on each database, the
fake GitHub, and a Services bundle on both."""

from tests.support import db
from tests.support import fake_github as fake_support
from tests.support import rocket as rocket_support

database_url = db.database_url
store = db.store
fake_github = fake_support.fake_github
context = rocket_support.context
