"""Development and embedded-default settings (`make demo`); production differs only by environment."""

from .base import *  # noqa: F403
