"""`make run`: a developer's or evaluator's machine. SQLite and a server-less broker by default."""

from config.env import env

from .base import *  # noqa: F403

DEBUG = env.boolean("DEBUG", default=True)
# Local only: a fixed key so sessions survive restarts. Production requires SECRET_KEY.
SECRET_KEY = env.string("SECRET_KEY", default="local-development-key-not-for-production-use-0123456789")
