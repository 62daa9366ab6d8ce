"""Development and embedded-default settings (`make demo`); production differs only by environment.

DEBUG stays off here too (base's default): `make demo` shows the product's own 404/500 pages and
WhiteNoise serves the collected static files. Only an explicit DEBUG=true turns it on. Without a
SECRET_KEY the key is generated once into var/secret_key.
"""

from .base import *  # noqa: F403
from .base import _generated_secret_key

SECRET_KEY = SECRET_KEY or _generated_secret_key()  # noqa: F405
