"""How model names become table, column, URL and file names, and the names pages show.

``Expense`` → table ``expense``, API path ``expense``; ``SpentOn`` → column ``spent_on``,
shown as ``Spent on``; screen ``EditExpense`` → page ``edit-expense.html``. Model names are
PascalCase (checked by the model), so the results are plain lowercase ASCII words joined by
``_`` or ``-`` (or spaces, for the shown names).
"""

from __future__ import annotations

import re

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``SpentOn`` → ``spent_on``; ``HTTPCode`` → ``http_code``."""
    return _WORD_BOUNDARY.sub("_", name).lower()


def display_name(name: str) -> str:
    """How the pages name a model element: ``SpentOn`` → ``Spent on``."""
    return snake_case(name).replace("_", " ").capitalize()


def kebab_case(name: str) -> str:
    """``EditExpense`` → ``edit-expense``."""
    return snake_case(name).replace("_", "-")


def table_name(entity: str) -> str:
    return snake_case(entity)


def column_name(attribute: str) -> str:
    return snake_case(attribute)


def api_path(entity: str) -> str:
    """The entity's path under ``/api/``."""
    return kebab_case(entity)


def page_name(screen: str) -> str:
    """The screen's HTML file under ``static/screens/``."""
    return kebab_case(screen) + ".html"
