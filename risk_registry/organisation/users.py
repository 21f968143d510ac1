"""The user types the code is annotated with.

The project uses Django's own user model (no ``AUTH_USER_MODEL`` of its own), so ``User`` is
``django.contrib.auth.models.User``. Code that may be handed ``request.user`` before a login check
takes ``AnyUser``; views behind ``login_required`` may annotate their request as
``AuthenticatedRequest``.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as User
from django.http import HttpRequest

AnyUser: TypeAlias = User | AnonymousUser


class AuthenticatedRequest(HttpRequest):
    """A request past ``login_required``: its user is a real account (for the type checker only)."""

    user: User
