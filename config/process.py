"""A web worker's memory, settled once it has loaded what every request uses.

CPython's cyclic garbage collector runs a full collection once enough objects have outlived two
younger ones, and a full collection walks every object the process holds: the modules, classes,
URL patterns and compiled templates loaded at start (about 180,000 objects here), which never
become garbage. Measured on the register page of a big bureau (docs/performance.md, "Province pages,
round 4"), such a collection stopped a request for 80–95 ms about once in thirteen requests:
most of the pages' 95th percentile. A worker therefore loads what every request uses, collects
once and moves all of it out of the collector's sight (``gc.freeze``); the young generation's
threshold is raised so that a request's own short-lived objects are mostly freed by their
reference counts before a collection looks at them.

``config.wsgi`` calls ``settle()`` when gunicorn loads it (once per worker, or once before the
fork with ``--preload``); ``benchmark_pages`` calls it too, so that it measures pages in a process
set up like a worker.
"""

from __future__ import annotations

import gc
from pathlib import Path

from django.conf import settings
from django.template import engines
from django.urls import get_resolver
from django.utils import translation

# (young, middle, old): CPython's default is (700, 10, 10). A request of the register page
# allocates about 230,000 container objects; with 700 it ran eight young collections, each of
# which promoted what the request still held.
GC_THRESHOLD = (20_000, 20, 20)


def warm() -> None:
    """Load what the first requests would: every view module (through the URL patterns), the
    translation catalogues of every language and the project's compiled templates."""
    get_resolver().url_patterns  # noqa: B018 - imports every view module
    for code, _name in settings.LANGUAGES:
        with translation.override(code):  # activating a language loads its catalogues
            pass
    for engine in engines.all():
        for folder in (Path(d) for d in getattr(engine, "dirs", ())):
            for path in sorted(folder.rglob("*.html")):
                engine.get_template(str(path.relative_to(folder)))


def settle() -> None:
    """Warm the process, then freeze what it holds out of the garbage collector's walks."""
    warm()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
