"""Runs the permission harness (tests/harness.py): every case × every persona, anonymous visitors,
and the completeness of the matrix against the URL resolver."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.harness import (
    CASES,
    EXEMPT_NAMESPACES,
    PERSONAS,
    Scene,
    Writes,
    point_form,
    table_counters,
    writes_between,
)


def _params():
    for case in CASES:
        for persona in PERSONAS:
            marks = ()
            if case.method == "get" and persona in case.get_writes:
                marks = (pytest.mark.xfail(strict=True, reason=case.get_writes_why),)
            yield pytest.param(case, persona, id=f"{case.route}:{case.label}-{persona}", marks=marks)


def _request(client, case, scene):
    if case.setup is not None:
        case.setup(scene)
    url = case.url(scene)
    data = case.data(scene) if case.data else None
    before = table_counters()
    response = getattr(client, case.method)(url, data) if data is not None else getattr(client, case.method)(url)
    return response, writes_between(before, table_counters())


@pytest.mark.parametrize(("case", "persona"), list(_params()))
def test_permission(world, client, case, persona):
    client.force_login(getattr(world, persona))
    scene = Scene(world, persona, client)
    try:
        response, wrote = _request(client, case, scene)
        expected = case.expected[persona]
        assert response.status_code == expected, f"{case.label} as {persona}: {response.status_code}, not {expected}"
        if case.location:
            assert response["Location"].startswith(case.location)
        if persona in case.effect_personas:
            case.effect.check(scene, wrote)
        else:
            assert wrote == {}, f"{case.label} as {persona} ({response.status_code}) wrote {wrote}"
    finally:
        scene.close()


ANONYMOUS = list({(case.route, case.method): case for case in CASES}.values())  # one request per route and method


@pytest.mark.parametrize("case", ANONYMOUS, ids=[f"{c.route}:{c.method}" for c in ANONYMOUS])
def test_anonymous_is_sent_to_log_in(world, client, case):
    scene = Scene(world, None, client)
    try:
        response, wrote = _request(client, case, scene)
    finally:
        scene.close()
    assert response.status_code == 302
    assert response["Location"].startswith(f"{case.location or '/accounts/login/'}?next=")
    assert wrote == {}


def _routes(patterns, namespace=None):
    """(URL name, view) of every route of the resolver, with its namespace."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, namespace, pattern.callback


def test_every_login_protected_route_is_in_the_matrix():
    """Route completeness: a new page is not reachable until the matrix says who may use it."""
    covered = {case.route for case in CASES}
    missing = sorted(
        str(name)
        for name, namespace, view in _routes(get_resolver().url_patterns)
        if getattr(view, "login_required", True) and namespace not in EXEMPT_NAMESPACES and name not in covered
    )
    assert missing == [], f"routes in no permission case: {missing}"
    every_name = {name for name, _namespace, _view in _routes(get_resolver().url_patterns)}
    assert covered <= every_name, f"cases of routes that do not exist: {covered - every_name}"


def test_every_case_is_written_for_every_persona():
    for case in CASES:
        assert set(case.expected) == set(PERSONAS), case.label
        if case.method == "post" and case.allowed:
            assert case.effect is not None, f"{case.label}: an allowed POST states its effect"
        if case.method == "get" and case.effect is not None:
            assert case.effect == Writes(("organisation.AuditEntry",)), (
                f"{case.label}: a GET writes no more than its audit"
            )
        assert case.effect_personas <= case.allowed, case.label
        assert case.get_writes <= case.allowed, f"{case.label}: only an allowed GET can write"


def test_csrf_is_enforced(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.holder)
    before = table_counters()
    response = client.post(f"/risks/{world.draft.pk}/edit/", point_form(Scene(world, "holder", client), "无令牌"))
    assert response.status_code == 403
    assert writes_between(before, table_counters()) == {}
