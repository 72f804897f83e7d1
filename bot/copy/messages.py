"""The Slack replies' and the operator's sentences under one name, for the modules written
against `bot.copy.messages` before the copy was split by surface (bot/copy/__init__ says what
lives where). It only re-exports: a sentence is defined once, in its surface module, and new
code imports that module.
"""

from __future__ import annotations

from bot.copy.alerts import *  # noqa: F403 - a re-export, see the docstring
from bot.copy.channel import *  # noqa: F403 - a re-export, see the docstring
from bot.copy.commands import *  # noqa: F403 - a re-export, see the docstring
from bot.copy.connect import *  # noqa: F403 - a re-export, see the docstring
from bot.copy.errors import *  # noqa: F403 - a re-export, see the docstring
from bot.copy.operator import *  # noqa: F403 - a re-export, see the docstring
from bot.copy.reports import *  # noqa: F403 - a re-export, see the docstring
from bot.copy.terminal import *  # noqa: F403 - a re-export, see the docstring
from bot.copy.usage_report import *  # noqa: F403 - a re-export, see the docstring
from bot.copy.words import *  # noqa: F403 - a re-export, see the docstring
