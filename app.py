"""Multi-Session Orchestrator: the Chalice app and its Lambda entry points.

Everything importable lives in chalicelib/; this file only wires it up:
- the REST API (blueprints in chalicelib.api),
- later: the handoff worker (SQS) and the transcript upload importer (S3).
"""

from chalice import Chalice

from chalicelib import api, logs
from chalicelib.storage.models import configure

logs.configure()
configure()

app = Chalice(app_name="mso")
app.api.binary_types.extend(["application/gzip", "application/x-gzip"])
api.register(app)
