"""/health/ for load balancers: JSON 200 while the database answers, JSON 503 when it does not."""

from __future__ import annotations

from django.db import OperationalError, connection
from django.urls import reverse


def test_health_is_ok_while_the_database_answers(client, db):
    response = client.get(reverse("health"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True}


def test_health_is_503_when_the_database_does_not_answer(client, db, monkeypatch):
    def refuse():
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    with monkeypatch.context() as patch:  # undone before the test database is rolled back
        patch.setattr(connection, "ensure_connection", refuse)
        response = client.get(reverse("health"))

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "unavailable", "database": False}
