"""The web server's edges: slow and vanishing clients, odd forms, HTTP details, the API
description, `serve --workers` and its port, and the page's stale answers. Most run the
app in-process (an ASGI call, no network); the rest on 127.0.0.1, bounded."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
from test_web import CHROMIUM, SRC, free_port, launch_chromium, multipart, png, seven, start_server  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": SRC}


def call(app, method, path, body=b"", headers=(), chunks=None):
    """One request to the ASGI ``app``: (status, headers as a dict, body). ``chunks``:
    the request body's messages, the last of which may wait for ever or hang up."""
    path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
             "root_path": "", "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    messages = list(chunks if chunks is not None else [{"type": "http.request", "body": body}])
    sent = []

    async def receive():
        message = messages.pop(0) if messages else {"type": "http.disconnect"}
        if message == "stall":
            await asyncio.Event().wait()
        return message

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


@pytest.fixture(scope="module")
def app():
    from digitnet.web.app import create_app

    return create_app(body_timeout=0.2)


def error(status_headers_body):
    status, headers, body = status_headers_body
    assert headers["content-type"] == "application/json"
    return status, json.loads(body)["error"]


# -- 5, 10: slow and vanishing clients ------------------------------------------------

def test_a_stalled_upload_is_answered_408_in_json(app):
    # a body that stopped arriving held its connection and memory for ever
    chunks = [{"type": "http.request", "body": b"x" * 1000, "more_body": True}, "stall"]
    status, message = error(call(app, "POST", "/api/predict", chunks=chunks))
    assert status == 408 and "did not arrive" in message


def test_a_body_in_many_chunks_is_read_whole(app):
    image = png(seven)
    chunks = [{"type": "http.request", "body": image[i:i + 7], "more_body": True}
              for i in range(0, len(image), 7)] + [{"type": "http.request", "body": b""}]
    status, _, body = call(app, "POST", "/api/predict", chunks=chunks)
    assert status == 200 and json.loads(body)["digit"] == 7


def test_a_client_hanging_up_mid_upload_is_no_server_error(app):
    # Starlette's ClientDisconnect escaped: a logged "Exception in ASGI application"
    chunks = [{"type": "http.request", "body": b"x" * 1000, "more_body": True},
              {"type": "http.disconnect"}]
    status, message = error(call(app, "POST", "/api/read", chunks=chunks))
    assert status == 400 and "hung up" in message


def test_late_request_headers_close_the_connection_with_a_408(app):
    # uvicorn waits for the rest of a request's headers for ever
    import socket

    import uvicorn

    from digitnet.web.server import MAX_CONNECTIONS, config, listening_socket

    settings = config(app, header_timeout=0.5)
    assert settings.limit_concurrency == MAX_CONNECTIONS
    server = uvicorn.Server(settings)
    sock = listening_socket("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.05)
        port = sock.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            # kept alive: the next request's headers are timed from its first byte, not
            # from the previous answer (a client idle 0.4 s, then 0.3 s sending headers,
            # was cut off at 0.5 s)
            for _ in range(2):
                client.sendall(b"HEAD /api/model HTTP/1.1\r\n")
                threading.Event().wait(0.3)
                client.sendall(b"Host: x\r\n\r\n")
                answer = b""
                while not answer.endswith(b"\r\n\r\n"):
                    answer += client.recv(1)
                assert answer.startswith(b"HTTP/1.1 200")
                threading.Event().wait(0.4)
            client.sendall(b"POST /api/predict HTTP/1.1\r\nHost: x\r\n")  # and no more
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 408") and answer.endswith(b'in time"}')
    finally:
        server.should_exit = True
        thread.join(10)


# -- 7: forms ---------------------------------------------------------------------------

def form(fields):
    from digitnet.web.forms import form_file

    body, headers = multipart(fields)
    return form_file(body, headers["Content-Type"])


def test_a_form_of_exactly_sixteen_fields_is_read():
    from fastapi import HTTPException

    from digitnet.web.forms import MAX_FORM_FIELDS

    note = (b'Content-Disposition: form-data; name="note"', b"text")
    image = (b'Content-Disposition: form-data; name="image"; filename="d.png"', b"PNG")
    assert form([note] * (MAX_FORM_FIELDS - 1) + [image]) == b"PNG"  # was "more than 16 fields"
    with pytest.raises(HTTPException, match="more than 16 fields"):
        form([note] * MAX_FORM_FIELDS + [image])


def test_the_field_named_image_comes_before_other_files():
    attachment = (b'Content-Disposition: form-data; name="attachment"; filename="notes.txt"', b"notes")
    image = (b'Content-Disposition: form-data; name="image"; filename="d.png"', b"PNG")
    assert form([attachment, image]) == b"PNG"
    assert form([attachment, (b'Content-Disposition: form-data; name="other"', b"x")]) == b"notes"


def test_a_field_named_like_a_file_is_not_a_file():
    tricky = (b'Content-Disposition: form-data; name="a; filename=b"', b"not the file")
    file = (b'Content-Disposition: form-data; name="upload"; filename="d.png"', b"PNG")
    assert form([tricky, file]) == b"PNG"


# -- 8, 9, 11: HTTP details and the API's description -----------------------------------

def test_405_says_what_is_allowed_and_head_works_where_get_does(app):
    status, headers, body = call(app, "GET", "/api/predict")
    assert status == 405 and headers["allow"] == "POST" and json.loads(body)["error"]
    for path in ("/", "/api/model"):
        assert call(app, "HEAD", path)[0] == 200


def test_a_trailing_slash_is_a_json_404_not_an_empty_redirect(app):
    status, message = error(call(app, "POST", "/api/predict/", png(seven)))
    assert status == 404 and message


@pytest.mark.parametrize("value, status", [("bytes=abc", 400), ("pages=0-1", 400), ("bytes=999999-", 416)])
def test_bad_ranges_of_static_files_are_json_errors(app, value, status):
    answer = call(app, "GET", "/static/style.css", headers=[("Range", value)])
    assert error(answer)[0] == status
    if status == 416:
        assert answer[1]["content-range"].startswith("bytes */")
    assert call(app, "GET", "/static/style.css", headers=[("Range", "bytes=0-9")])[0] == 206


def test_activations_is_the_parameter_name_and_no_hidden_alias_remains(app):
    status, _, body = call(app, "POST", "/api/predict?activations=true", png(seven))
    assert status == 200 and json.loads(body)["activations"]
    for query in ("", "?activations_=true"):  # the old hidden alias is an unknown parameter now
        assert "activations" not in json.loads(call(app, "POST", "/api/predict" + query, png(seven))[2])


def test_min_confidence_reports_unsure_answers_as_rejected(app):
    for path in ("/api/predict", "/api/read"):
        answers = {p: json.loads(call(app, "POST", f"{path}?min_confidence={p}", png(seven))[2])
                   for p in (0, 1)}
        assert answers[0]["rejected"] is False and answers[1]["rejected"] is True, path
        assert answers[0]["confidence"] == answers[1]["confidence"] > 0  # the answer itself is kept
        status, message = error(call(app, "POST", f"{path}?min_confidence=1.5", png(seven)))
        assert status == 422 and "min_confidence" in message


def test_form_limits_of_python_multipart_are_enforced():
    from fastapi import HTTPException

    from digitnet.web.forms import form_file

    image = (b'Content-Disposition: form-data; name="image"; filename="d.png"', b"PNG")
    crowded = (b'Content-Disposition: form-data; name="image"' + b"\r\nX-A: b" * 10, b"PNG")
    with pytest.raises(HTTPException, match="not a well-formed") as refused:  # 8 headers at most
        form([crowded])
    assert refused.value.status_code == 400
    long_header = (b'Content-Disposition: form-data; name="' + b"n" * 5000 + b'"', b"PNG")
    with pytest.raises(HTTPException, match="not a well-formed"):
        form([long_header, image])
    body, headers = multipart([image])
    with pytest.raises(HTTPException, match="boundary"):
        form_file(body, "multipart/form-data; boundary=" + "b" * 71)


def test_openapi_describes_the_errors_the_server_gives(app):
    status, _, body = call(app, "GET", "/openapi.json")
    spec = json.loads(body)
    predict = spec["paths"]["/api/predict"]["post"]
    assert [p["name"] for p in predict["parameters"]] == ["activations", "min_confidence"]
    for operation in (predict, spec["paths"]["/api/read"]["post"]):
        for code in ("400", "413", "422"):
            schema = operation["responses"][code]["content"]["application/json"]["schema"]
            assert schema["properties"] == {"error": {"type": "string"}}, code
    status, message = error(call(app, "POST", "/api/read?min_confidence=abc", png(seven)))
    assert status == 422 and "min_confidence" in message


def test_no_docs_page_that_needs_a_cdn(app):
    assert call(app, "GET", "/docs")[0] == 404 and call(app, "GET", "/openapi.json")[0] == 200


def test_a_model_without_ten_outputs_predicts_but_does_not_read(tmp_path):
    import digitnet
    from digitnet.web.app import create_app

    path = tmp_path / "two.npz"
    digitnet.save_model(path, digitnet.mlp([784, 2], rng=0))
    two = create_app(str(path))
    status, message = error(call(two, "POST", "/api/read", png(seven)))
    assert status == 422 and "ten digits" in message  # was a 500
    assert call(two, "POST", "/api/predict", png(seven))[0] == 200
    # ten outputs that are not the digits (a Fashion-MNIST model): the CLI refused it, the
    # server read numbers with it
    path = tmp_path / "fashion.npz"
    digitnet.save_model(path, digitnet.mlp([784, 10], rng=0), {"classes": [f"c{i}" for i in range(10)]})
    status, message = error(call(create_app(str(path)), "POST", "/api/read", png(seven)))
    assert status == 422 and "the classes c0, c1" in message


def test_the_ensemble_first_network_answers_alone_when_it_is_sure(app):
    # serve's shortcut (pretrained.SHORTCUT): a digit the first network is sure of costs
    # one network, not five; the others decide the rest; `--shortcut off` (None) averages
    # all five for every digit, as `digitnet predict` does
    from digitnet.calibration import for_model
    from digitnet.pretrained import SHORTCUT, resolve_model
    from digitnet.web.app import create_app

    model, calibrated = resolve_model(None), for_model(None).digits
    full_app = create_app(shortcut=None)
    one = png(lambda d: d.line([(80, 60), (110, 30), (110, 170)], fill=0, width=16))
    ell = png(lambda d: d.line([(60, 30), (60, 170), (150, 170)], fill=0, width=16))
    for body, sure in [(one, True), (ell, False)]:
        x = np.asarray(json.loads(call(app, "POST", "/api/predict", body)[2])["input"], np.float32)
        first, full = model.members[0].confidences(x[None])[0], model.confidences(x[None])[0]
        assert (first.max() >= SHORTCUT) == sure and np.abs(first - full).max() > 0.01
        for server, expected in [(app, first if sure else full), (full_app, full)]:
            answer = json.loads(call(server, "POST", "/api/predict", body)[2])
            # batch normalisation folded: not bit for bit; the answer's probabilities calibrated
            np.testing.assert_allclose(answer["probabilities"], calibrated(expected[None])[0], atol=1e-3)
    for server, shortcut in [(app, SHORTCUT), (full_app, None)]:
        described = json.loads(call(server, "GET", "/api/model")[2])
        assert described["kind"] == "ensemble" and described["shortcut"] == shortcut


def test_serve_refuses_a_device_as_model_in_one_line():
    done = subprocess.run([sys.executable, "-m", "digitnet", "serve", "--model", "/dev/zero"],
                          capture_output=True, text=True, timeout=60, env=ENV)  # it hung
    assert done.returncode == 2 and "not a regular file" in done.stderr
    assert len(done.stderr.splitlines()) == 1


# -- 3, 4: serve --workers ----------------------------------------------------------------

def workers_of(pid):
    """The server worker processes of the `serve --workers` process ``pid``."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        children = f.read().split()
    workers = []
    for child in children:
        with open(f"/proc/{child}/cmdline", "rb") as f:
            if b"spawn_main" in f.read():
                workers.append(int(child))
    return workers


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc, sets another process's limit")
def test_a_supervisor_out_of_descriptors_waits_instead_of_spinning():
    # accept() failing with EMFILE was retried at once, for ever: a core at 100%, and the
    # workers' ends went unnoticed meanwhile
    import resource
    import socket
    import time

    def cpu_seconds(pid):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    port = free_port()
    server = start_server(port, "--workers", "2")
    try:
        limits = resource.prlimit(server.pid, resource.RLIMIT_NOFILE)
        used = {int(fd) for fd in os.listdir(f"/proc/{server.pid}/fd")}
        lowest_free = min(set(range(len(used) + 1)) - used)  # the number a new one would get
        resource.prlimit(server.pid, resource.RLIMIT_NOFILE, (lowest_free, limits[1]))
        waiting = socket.create_connection(("127.0.0.1", port), timeout=30)  # queued, not accepted
        before = cpu_seconds(server.pid)
        time.sleep(1.5)
        assert cpu_seconds(server.pid) - before < 0.2  # spinning: about all of the 1.5 s
        resource.prlimit(server.pid, resource.RLIMIT_NOFILE, limits)
        waiting.sendall(b"GET /api/model HTTP/1.1\r\nHost: x\r\n\r\n")
        assert waiting.recv(65536).startswith(b"HTTP/1.1 200")  # served once it could be
        waiting.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_workers_where_descriptors_cannot_be_passed_are_refused_in_one_line(monkeypatch, capsys):
    # Windows has no socket.send_fds: the supervisor would fail with a traceback
    import socket

    from digitnet.cli import main

    monkeypatch.delattr(socket, "send_fds")
    assert main(["serve", "--workers", "2", "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "--workers needs Linux or another Unix" in err and len(err.splitlines()) == 1


@pytest.mark.skipif(sys.platform != "linux", reason="finds the workers in /proc")
def test_a_killed_worker_stops_the_server_with_exit_code_2():
    # the dead worker's exit code was read before it was reaped (None): exit 0, silently,
    # and systemd's Restart=on-failure did not restart it
    port = free_port()
    server = start_server(port, "--workers", "2")
    try:
        workers = workers_of(server.pid)
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGKILL)
        assert server.wait(timeout=30) == 2
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)


def test_a_second_server_with_workers_on_the_same_port_is_refused():
    # with SO_REUSEPORT a second `serve --workers 2` could join the first and share its requests
    port = free_port()
    server = start_server(port, "--workers", "2")
    try:
        done = subprocess.run([sys.executable, "-m", "digitnet", "serve", "--port", str(port),
                               "--workers", "2"], capture_output=True, text=True, timeout=60, env=ENV)
        assert done.returncode == 2 and "serving on" not in done.stdout
        assert "Address already in use" in done.stderr and len(done.stderr.splitlines()) == 1
    finally:
        server.terminate()
        server.wait(timeout=30)


def holders(port, workers):
    """{client port: index in ``workers``} for the connections to ``port`` that the
    worker processes hold, read from /proc."""
    inodes = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
                if state == "01" and int(local.split(":")[1], 16) == port:  # established
                    inodes[inode] = int(remote.split(":")[1], 16)
    held = {}
    for i, pid in enumerate(workers):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                held[inodes[link[8:-1]]] = i
    return held


@pytest.mark.skipif(sys.platform != "linux", reason="reads the connections in /proc")
def test_workers_share_connections_evenly_and_refill_the_one_with_fewest():
    # each worker had its own SO_REUSEPORT socket, and the kernel's hash split 16
    # connections 10/6 or 11/5 as often as 8/8: the busier worker set the p99
    import socket
    import time

    port = free_port()
    server = start_server(port, "--workers", "2")
    connections = []

    def connect(n):
        for _ in range(n):
            c = socket.create_connection(("127.0.0.1", port), timeout=30)
            c.sendall(b"GET /api/model HTTP/1.1\r\nHost: x\r\n\r\n")
            assert c.recv(65536).startswith(b"HTTP/1.1 200")
            connections.append(c)

    def split():
        held = holders(port, workers)
        assert len(held) == len(connections)
        return [sum(1 for i in held.values() if i == w) for w in (0, 1)]

    try:
        workers = workers_of(server.pid)
        connect(16)
        assert split() == [8, 8]
        held = holders(port, workers)
        for c in [c for c in connections if held[c.getsockname()[1]] == 0][:6]:
            connections.remove(c)
            c.close()  # worker 0 now holds 2, worker 1 still 8
        deadline = time.monotonic() + 10
        while split() != [2, 8] and time.monotonic() < deadline:
            time.sleep(0.05)
        connect(6)
        assert split() == [8, 8]  # dealt round the workers, the new ones would split 3/3
    finally:
        for c in connections:
            c.close()
        server.terminate()
        server.wait(timeout=30)


# -- 6: the page ---------------------------------------------------------------------------

@pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed")
def test_the_page_drops_stale_answers_and_shows_errors_plainly():
    sync_api = pytest.importorskip("playwright.sync_api")
    port = free_port()
    server = start_server(port)
    held = []
    try:
        with sync_api.sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 320, "height": 700})
            errors = []
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.route("**/api/predict*", lambda route: held.append(route))  # answered when the test says
            page.goto(f"http://127.0.0.1:{port}/")

            uploads = []

            def upload_a_seven():  # one request, where drawing sends one or two
                uploads.append(f"seven{len(uploads)}.png")
                page.set_input_files("#file", files=[{"name": uploads[-1], "mimeType": "image/png",
                                                      "buffer": png(seven)}])
                while not held:
                    page.wait_for_timeout(20)

            def answer_held(**reply):  # with the server's answer, or the one given
                route = held.pop()
                if reply:
                    route.fulfill(**reply)
                else:
                    route.fulfill(response=route.fetch())
                page.wait_for_function("() => !busy")

            def text(id):
                return page.locator(f"#{id}").text_content()

            # the answer for an image cleared meanwhile is not shown on the empty pad
            upload_a_seven()
            page.click("#clear")
            answer_held()
            assert (text("answer"), text("confidence")) == ("?", "draw something")
            # a good answer, then an error: the old bars and layers go
            upload_a_seven()
            answer_held()
            assert text("answer") == "7" and page.locator("#bars .bar").count() == 10
            upload_a_seven()
            answer_held(status=422, json={"error": "not a readable image"})
            assert text("confidence") == "not a readable image"
            assert page.locator("#bars .bar").count() == 0 and page.locator("#layers canvas").count() == 0
            # a picture with no digit (a 422 since issue 23) is an answer of its own, not a failure
            upload_a_seven()
            answer_held(status=422, json={"error": "no digit found: the image is blank"})
            assert (text("answer"), text("confidence")) == ("?", "no digit found")
            # a proxy's error page: its status, not "the server did not answer"
            upload_a_seven()
            answer_held(status=502, body="<html>Bad Gateway</html>", content_type="text/html")
            assert "502" in text("confidence")
            # at 320 px the percentages stay inside the page
            upload_a_seven()
            answer_held()
            assert page.evaluate("document.documentElement.scrollWidth") <= 320
            assert not [e for e in errors if "favicon" in e or "404" in e], errors
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_serving_docs_name_the_api_parameters():
    serving = (Path(__file__).resolve().parents[1] / "docs" / "serving.md").read_text()
    assert "activations=true" in serving and "min_confidence=" in serving


def _stubborn():
    import signal
    import time

    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a worker whose shutdown hangs
    while True:
        time.sleep(1)


def test_a_worker_that_does_not_stop_is_killed_after_the_grace_period():
    """Regression: the supervisor waited 10 s for each worker, then left one still running
    for Python's exit to wait on forever (`serve --workers 2` did not stop on Ctrl-C)."""
    import multiprocessing
    import time

    from digitnet.web.workers import _stop

    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_stubborn) for _ in range(2)]
    for process in processes:
        process.start()
    time.sleep(0.3)  # their handlers in place
    _stop(processes, grace=0.5)
    assert [process.is_alive() for process in processes] == [False, False]
    assert [process.exitcode for process in processes] == [-9, -9]  # killed, once the grace was up


def test_building_the_app_leaves_the_programs_blas_threads_alone():
    # create_app limited the whole process to one BLAS thread, for good: every test run
    # after one that built an app trained single-threaded, and a training resumed in a
    # fresh process then differed from its reference in the last bit (CI, stop 58)
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from digitnet.web.app import create_app
    from digitnet.web.server import pin_blas_to_one_thread

    def threads():
        return {p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"}

    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        if threads() != {2}:
            pytest.skip("this BLAS cannot be set to two threads")
        create_app()
        assert threads() == {2}
        pin_blas_to_one_thread()  # what the serving processes call for themselves
        assert threads() == {1}
