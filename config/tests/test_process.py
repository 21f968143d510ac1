"""A web worker (gunicorn loading ``config.wsgi``) starts settled: what every request uses is loaded,
then frozen out of the garbage collector's walks, with the young generation's threshold raised."""

import json
import os
import subprocess
import sys
from pathlib import Path

from config.process import GC_THRESHOLD

BASE_DIR = Path(__file__).resolve().parent.parent.parent

PROBE = """
import gc, json, sys
before = len(gc.get_objects())
import config.wsgi
from django.template import engines
loader = engines["django"].engine.template_loaders[0]
print(json.dumps({
    "frozen": gc.get_freeze_count(),
    "tracked": len(gc.get_objects()),
    "threshold": gc.get_threshold(),
    "templates": sorted(name for name in loader.get_template_cache),
    "views": "risk_registry.web.views.workflow" in sys.modules,
    "application": callable(config.wsgi.application),
}))
"""


def _worker() -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_loading_the_wsgi_module_warms_the_worker_and_freezes_what_it_loaded():
    worker = _worker()
    assert worker["application"]
    assert worker["views"]  # every view module, through the URL patterns
    assert {"base.html", "risk_registry/register_detail.html", "risk_registry/inbox.html"} <= set(worker["templates"])
    # Everything loaded is out of the collector's sight; what is left to walk is a few objects.
    assert worker["frozen"] > 50_000
    assert worker["tracked"] < 1_000
    assert tuple(worker["threshold"]) == GC_THRESHOLD
