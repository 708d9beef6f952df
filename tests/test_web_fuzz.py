"""Fuzz `digitnet serve` through its OpenAPI description (schemathesis), on 127.0.0.1:
no request, however odd, may get a 5xx. Bounded: a fixed number of examples per
operation. Slow: run with `pytest -m slow`."""

import io

import pytest

schemathesis = pytest.importorskip("schemathesis")
pytest.importorskip("fastapi")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from PIL import Image  # noqa: E402

from test_web import Client, free_port, start_server  # noqa: E402

pytestmark = pytest.mark.slow
EXAMPLES = 60


def _png(size, value):
    buffer = io.BytesIO()
    Image.new("L", size, value).save(buffer, "PNG")
    return buffer.getvalue()


# image bodies: real small images, and arbitrary bytes
IMAGES = st.one_of(
    st.builds(_png, st.tuples(st.integers(1, 64), st.integers(1, 64)), st.integers(0, 255)),
    st.binary(max_size=2048),
)
for media in ("image/png", "image/jpeg", "application/octet-stream"):
    schemathesis.openapi.media_type(media, IMAGES)


def test_no_request_gets_a_server_error():
    port = free_port()
    server = start_server(port)
    try:
        Client(port).get("/api/model")
        schema = schemathesis.openapi.from_url(f"http://127.0.0.1:{port}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert {op.path for op in operations} >= {"/api/predict", "/api/read", "/api/model"}
        sent = []
        for operation in operations:
            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def check(case):
                response = case.call(timeout=30)
                sent.append(response.status_code)
                assert response.status_code < 500, (case.path, response.status_code,
                                                    response.text[:200])
                if response.status_code >= 400:
                    assert "error" in response.json()

            check()
        print(f"\n{len(sent)} generated requests, none answered with a 5xx")
        assert len(sent) >= EXAMPLES
    finally:
        server.terminate()
        server.wait(timeout=10)
