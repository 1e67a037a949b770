"""The officers' review console: inbox of unanswered questions, annotation, export, trends.

Run it with ``python -m bot.console`` (see :mod:`bot.console.__main__`). Nothing happens at
import time.
"""
