"""The JSON API over HTTP (FastAPI's test client), and a browser drawing a digit."""

import contextlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
from digitnet.web.forms import MAX_BODY  # noqa: E402

SRC = str(Path(__file__).resolve().parents[1] / "src")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port, *extra):
    """``digitnet serve`` in a process of its own, with Ctrl-C (SIGINT) as a terminal gives
    it: a shell starts a background command (a test suite run with ``&``) with SIGINT
    ignored, which its children inherit, and a server started so rightly ignores it."""
    env = {**os.environ, "PYTHONPATH": SRC}
    server = subprocess.Popen([sys.executable, "-m", "digitnet", "serve", "--port", str(port), *extra],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("digitnet serve did not start")


class Client:
    """Plain HTTP against the real server on 127.0.0.1."""

    def __init__(self, port):
        self.port = port

    def request(self, method, path, content=None, headers=None):
        import http.client
        import json

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=content, headers=headers or {})
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()

        class Response:
            status_code = response.status
            text = body.decode("utf-8", "replace")

            def json(self):
                return json.loads(body)
        return Response()

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, content=b"", headers=None):
        return self.request("POST", path, content, headers)


@pytest.fixture(scope="module")
def client():
    port = free_port()
    server = start_server(port)
    yield Client(port)
    server.terminate()
    server.wait(timeout=10)


def png(draw=None, size=(200, 200)):
    image = Image.new("L", size, 255)
    if draw:
        draw(ImageDraw.Draw(image))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def seven(d):
    d.line([(50, 40), (150, 40), (90, 170)], fill=0, width=16)


def one(d):
    d.line([(100, 30), (100, 170)], fill=0, width=16)


def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text
    assert client.get("/static/app.js").status_code == 200
    for escape in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py",
                   "/static/%2e%2e/%2e%2e/cli/__init__.py"):
        response = client.get(escape)
        assert response.status_code == 404, escape


def test_predict(client):
    response = client.post("/api/predict?activations=true", content=png(seven),
                           headers={"Content-Type": "image/png"})
    assert response.status_code == 200
    result = response.json()
    assert result["digit"] == 7 and result["confidence"] > 0.9
    assert len(result["probabilities"]) == 10 and len(result["input"]) == 784
    assert result["activations"] and all(layer["values"] for layer in result["activations"])
    assert result["several_digits"] is False


def test_predict_says_when_a_picture_looks_like_several_digits(client):
    def seven_one_zero(d):
        d.line([(40, 50), (110, 50), (70, 160)], fill=0, width=14)
        d.line([(180, 40), (180, 160)], fill=0, width=14)
        d.ellipse([(250, 40), (330, 160)], outline=0, width=14)

    result = client.post("/api/predict", content=png(seven_one_zero, size=(400, 200))).json()
    assert result["several_digits"] is True

    def far_apart(d):  # one digit answered alone, the others seen beside it
        d.line([(40, 50), (110, 50), (70, 160)], fill=0, width=14)
        d.line([(230, 40), (230, 160)], fill=0, width=14)
        d.ellipse([(350, 40), (430, 160)], outline=0, width=14)

    result = client.post("/api/predict", content=png(far_apart, size=(500, 200))).json()
    assert result["several_digits"] is True


def test_the_server_runs_the_shipped_model_rearranged_for_inference():
    # the server's batcher runs the model with batch normalisation folded into the
    # convolutions and ReLU after pooling (web.batching._for_inference): its answers must
    # be the model's own
    import numpy as np

    from digitnet.pretrained import resolve_model
    from digitnet.web.batching import _for_inference

    model = resolve_model(None)
    folded = _for_inference(model)
    assert not any(type(layer).__name__ == "BatchNorm" for m in folded.members for layer in m.layers)
    x = 0.3 * np.random.default_rng(0).random((20, 784), dtype=np.float32)  # faint noise: unsure
    np.testing.assert_allclose(folded.confidences(x), model.confidences(x), rtol=1e-3, atol=1e-6)


def test_concurrent_predictions_each_get_their_own_answer(client):
    # requests arriving together share one run of the network (web.batching.Batcher):
    # each answer must still be its own image's
    from concurrent.futures import ThreadPoolExecutor

    def one(d):
        d.line([(100, 30), (100, 170)], fill=0, width=16)

    images = [png(seven), png(one)] * 8
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda body: client.post("/api/predict", content=body), images))
    assert [a.json()["digit"] for a in answers] == [7, 1] * 8


def test_reads_and_large_photos_run_beside_predictions_and_each_gets_its_answer(client):
    # reading a number and preprocessing a large photo leave the event loop for a thread
    # with its own copy of the model: concurrent answers must all still be right
    from concurrent.futures import ThreadPoolExecutor

    from digitnet.web.batching import is_large

    def big_seven(d):
        d.line([(300, 240), (900, 240), (540, 1000)], fill=0, width=90)

    def one(d):
        d.line([(100, 30), (100, 170)], fill=0, width=16)

    big = png(big_seven, size=(1200, 1200))
    assert is_large(big) and not is_large(png(seven)) and not is_large(b"not an image")
    jobs = [("/api/read", png(seven)), ("/api/predict", png(one)), ("/api/predict", big)] * 4
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda job: client.post(job[0], content=job[1]).json(), jobs))
    assert [a.get("text", a.get("digit")) for a in answers] == ["7", 1, 7] * 4


def test_batcher_runs_the_network_once_for_requests_that_arrive_together():
    import asyncio

    import numpy as np

    from digitnet.web.batching import Batcher

    class Model:
        batches = []

        def confidences(self, x):
            self.batches.append(len(x))
            if (x < 0).any():
                raise ValueError("negative input")
            return x * 2

    async def together(batcher, inputs):
        return await asyncio.gather(*(batcher.confidences(x) for x in inputs),
                                    return_exceptions=True)

    model = Model()
    inputs = [np.full(3, float(i)) for i in range(5)]
    answers = asyncio.run(together(Batcher(model), inputs))
    assert model.batches == [5]
    assert all((a == 2 * x).all() for a, x in zip(answers, inputs))
    # a failure reaches every request of the batch, and the next batch still runs
    batcher = Batcher(model)
    answers = asyncio.run(together(batcher, [np.ones(3), -np.ones(3)]))
    assert all(isinstance(a, ValueError) for a in answers)
    assert asyncio.run(together(batcher, [np.ones(3)]))[0].tolist() == [2, 2, 2]


def test_read_and_model(client):
    def number(d):
        seven(d)
        d.line([(260, 40), (260, 170)], fill=0, width=16)

    response = client.post("/api/read", content=png(number, size=(360, 200)))
    assert response.status_code == 200 and response.json()["text"] == "71"
    assert "marks" not in response.json() and "input" not in response.json()["digits"][0]
    # what the page shows under "what the network saw": each digit's 28x28 piece
    digits = client.post("/api/read?inputs=true", content=png(number, size=(360, 200))).json()["digits"]
    from digitnet.pretrained import resolve_model

    pieces = np.array([d["input"] for d in digits])
    assert pieces.shape == (2, 784) and [d["read_by"] for d in digits] == ["classifier"] * 2
    assert resolve_model(None).predict(pieces).tolist() == [7, 1]

    def decimal(d):
        number(d)
        d.ellipse([(200, 158), (214, 172)], fill=0)  # a point between the 7 and the 1

    response = client.post("/api/read?marks=true", content=png(decimal, size=(360, 200)))
    assert response.status_code == 200 and response.json()["text"] == "7.1"
    assert [m["mark"] for m in response.json()["marks"]] == ["."]

    def two_lines(d):
        number(d)
        d.line([(80, 240), (80, 370)], fill=0, width=16)  # a 1 on a second line

    response = client.post("/api/read?lines=true", content=png(two_lines, size=(360, 400)))
    assert response.status_code == 200
    assert [line["text"] for line in response.json()["lines"]] == ["71", "1"]
    model = client.get("/api/model").json()
    assert model["layers"] and "metrics" in model and model["photo_network"] is True


def multipart(fields, boundary="digitnet-test-boundary"):
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + headers + b"\r\n\r\n" + data + b"\r\n"
                    for headers, data in fields) + b"--" + boundary.encode() + b"--\r\n"
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_an_image_may_come_as_a_form_upload(client):
    # `curl -F image=@digit.png` (an HTML form's upload) was "not a readable image"
    body, headers = multipart([
        (b'Content-Disposition: form-data; name="note"', b"a text field before the file"),
        (b'Content-Disposition: form-data; name="image"; filename="seven.png"\r\n'
         b"Content-Type: image/png", png(seven))])
    response = client.post("/api/predict", content=body, headers=headers)
    assert response.status_code == 200 and response.json()["digit"] == 7
    response = client.post("/api/read", content=body, headers=headers)
    assert response.status_code == 200 and response.json()["text"] == "7"
    body, headers = multipart([(b'Content-Disposition: form-data; name="note"', b"")])
    response = client.post("/api/predict", content=body, headers=headers)
    assert response.status_code == 400 and "form holds no file" in response.json()["error"]
    body, headers = multipart([(b'Content-Disposition: form-data; name="image"; filename="a.txt"',
                                b"not an image")])
    assert client.post("/api/predict", content=body, headers=headers).status_code == 422


def test_a_form_of_many_parts_is_refused_without_parsing_them_all(client):
    # the standard library's MIME parser spent 13 s of the event loop on 5 MB of empty
    # parts (and 90 s with a header in each), with every other request waiting
    for part, refusal in ((b"--x\r\n", "not a well-formed"),
                          (b"--x\r\nA: b\r\n\r\n\r\n", "more than 16 fields")):
        body = part * (4_000_000 // len(part))
        response = client.post("/api/predict", content=body,
                               headers={"Content-Type": "multipart/form-data; boundary=x"})
        assert response.status_code == 400 and refusal in response.json()["error"]
    response = client.post("/api/predict", content=png(seven),
                           headers={"Content-Type": "multipart/form-data"})
    assert response.status_code == 400 and "boundary" in response.json()["error"]


@pytest.mark.parametrize("route", ["/api/predict", "/api/read"])
def test_a_blank_image_is_a_422_with_its_error(client, route):
    # it was a 200 with "digit": null; issue 23: a blank picture is a 4xx with a JSON error
    response = client.post(route, content=png())
    assert response.status_code == 422 and response.json()["error"].startswith("no digit found")


def test_a_number_on_a_form_is_read_and_a_form_without_one_is_a_422(client):
    from test_read_forms import on_form

    def body(image):
        out = io.BytesIO()
        image.save(out, "PNG")
        return out.getvalue()

    response = client.post("/api/read", content=body(on_form("boxes")))
    assert response.status_code == 200 and response.json()["text"] == "710"
    empty = Image.new("RGB", (500, 200), "white")
    ImageDraw.Draw(empty).line([(15, 172), (360, 172)], fill=(0, 0, 0), width=3)
    response = client.post("/api/read", content=body(empty))
    assert response.status_code == 422 and "only straight lines" in response.json()["error"]


@pytest.mark.parametrize("body,status", [
    (b"", 400),
    (b"definitely not an image", 422),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, 422),
    (b"x" * (MAX_BODY + 1), 413),
])
def test_bad_uploads_are_4xx_with_json(client, body, status):
    response = client.post("/api/predict", content=body)
    assert response.status_code == status and "error" in response.json()
    response = client.post("/api/read", content=body)
    assert response.status_code == status and "error" in response.json()


def test_bad_parameters_and_methods(client):
    assert client.post("/api/read?min_confidence=7", content=png(seven)).status_code == 422
    assert client.post("/api/read?min_confidence=abc", content=png(seven)).status_code == 422
    assert client.get("/api/predict").status_code == 405
    assert client.get("/api/nothing").status_code == 404
    huge = io.BytesIO()
    Image.new("1", (9000, 9000), 1).save(huge, "PNG")
    response = client.post("/api/predict", content=huge.getvalue())
    assert response.status_code == 422 and "more than digitnet reads" in response.json()["error"]


def test_openapi_describes_the_api(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/predict", "/api/read", "/api/model"} <= set(spec["paths"])


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def launch_chromium(playwright):
    """Debian's Chromium, headless, without the background traffic of a first run."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"])


#: Records (width, height) of every PNG the page posts, from its IHDR chunk (Playwright
#: does not show the bodies of requests made from a Blob).
SENT_SIZES = """
window.sentSizes = [];
const originalFetch = window.fetch;
window.fetch = async (url, options) => {
  if (options && options.body instanceof Blob) {
    const head = new DataView(await options.body.slice(16, 24).arrayBuffer());
    window.sentSizes.push([head.getUint32(0), head.getUint32(4)]);
  }
  window.lastUrl = String(url);  // (after its size: a test waiting for it sees both)
  return originalFetch(url, options);
};
"""


@contextlib.contextmanager
def served_page(init_script):
    """The drawing page, served by a `digitnet serve` of its own, in headless Chromium,
    ``init_script`` run before the page's own scripts."""
    sync_api = pytest.importorskip("playwright.sync_api")
    port = free_port()
    server = start_server(port)
    try:
        with sync_api.sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1100, "height": 760})
            page.add_init_script(init_script)
            page.goto(f"http://127.0.0.1:{port}/")
            yield page
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for_answer(page, text, timeout=15_000):
    """Wait until the page answers ``text``; if it does not, fail saying what it shows
    (a run under load once timed out here, its answer unknown)."""
    try:
        page.wait_for_function(f"document.getElementById('answer').textContent === '{text}'",
                               timeout=timeout)
    except Exception as error:  # playwright's TimeoutError
        shown = page.locator("#answer").text_content(), page.locator("#confidence").text_content()
        raise AssertionError(f"the page shows {shown!r}, not {text!r}") from error


@pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed")
def test_browser_draws_a_digit_and_sees_the_prediction(tmp_path):
    with served_page(SENT_SIZES) as page:
        box = page.locator("#pad").bounding_box()
        x0, y0 = box["x"], box["y"]
        page.mouse.move(x0 + 60, y0 + 50)
        page.mouse.down()
        for x, y in [(120, 50), (180, 50), (150, 130), (120, 230)]:
            page.mouse.move(x0 + x, y0 + y, steps=8)
        page.mouse.up()
        page.wait_for_function("document.getElementById('answer').textContent === '7'",
                               timeout=15_000)
        assert "sure" in page.locator("#confidence").text_content()
        assert page.locator("#inside").is_visible()  # the hidden layers of a digit
        sizes = page.evaluate("window.sentSizes")
        assert sizes and {tuple(size) for size in sizes} == {(280, 140)}  # half the pad
        page.screenshot(path=str(tmp_path / "page.png"))
        if os.environ.get("DIGITNET_SCREENSHOT"):
            shutil.copy(tmp_path / "page.png", os.environ["DIGITNET_SCREENSHOT"])

        def seven_one_zero(d):
            d.line([(40, 50), (110, 50), (70, 160)], fill=0, width=14)
            d.line([(180, 40), (180, 160)], fill=0, width=14)
            d.ellipse([(250, 40), (330, 160)], outline=0, width=14)

        # a number of a known length: no reading of the drawn 7 has 20 digits
        page.check("#number-mode")
        page.fill("#length", "20")
        page.dispatch_event("#length", "change")
        page.wait_for_function("document.getElementById('confidence').textContent"
                               ".startsWith('no reading of that many digits')", timeout=15_000)
        assert page.locator("#answer").text_content() == "7"

        # a number read from the pad: each digit's box drawn over the drawing
        inked = ("(() => { const c = document.getElementById('boxes');"
                 " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                 " let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return n; })()")
        assert page.evaluate(inked) > 100
        lit = ("(() => { const c = document.getElementById('seen');"
               " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
               " let n = 0; for (let i = 0; i < d.length; i += 4) n += d[i] > 128; return n; })()")
        assert page.evaluate(lit) > 50  # the digit's 28x28 piece, as the classifier saw it
        assert not page.locator("#inside").is_visible()  # no layers shown for a number
        page.click("#clear")
        assert page.evaluate(inked) == 0

        # an uploaded picture: shown in the pad, its digits' boxes over it where they are
        page.fill("#length", "")
        page.set_input_files("#file", files=[{"name": "710b.png", "mimeType": "image/png",
                                              "buffer": png(seven_one_zero, size=(400, 200))}])
        _wait_for_answer(page, "710")
        dark = ("(() => { const c = document.getElementById('pad');"
                " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                " let n = 0; for (let i = 0; i < d.length; i += 4) n += d[i] < 100; return n; })()")
        assert page.evaluate(dark) > 1000 and page.evaluate(inked) > 100
        # the 7's box starts where the 7 is: the picture (400x200) drawn 1.4 times, 0 and 0 off
        left = page.evaluate("(() => { const c = document.getElementById('boxes').getContext('2d');"
                             " for (let x = 0; x < 560; x++) for (let y = 0; y < 280; y++)"
                             " if (c.getImageData(x, y, 1, 1).data[3]) return x; return -1; })()")
        assert abs(left - 40 * 1.4) < 20, left
        if os.environ.get("DIGITNET_SCREENSHOT_NUMBER"):  # docs/page-number.png
            page.screenshot(path=os.environ["DIGITNET_SCREENSHOT_NUMBER"])
        # read again at a length asked: the picture uploaded, not the pad's copy of it
        page.fill("#length", "3")
        page.dispatch_event("#length", "change")
        page.wait_for_function("window.lastUrl && window.lastUrl.includes('length=3')", timeout=15_000)
        assert page.evaluate("window.sentSizes.at(-1)") == [400, 200]  # not the pad's 560x280
        page.uncheck("#number-mode")

        # a number uploaded in digit mode: the page says to read it as a number
        page.set_input_files("#file", files=[{"name": "710.png", "mimeType": "image/png",
                                              "buffer": png(seven_one_zero, size=(400, 200))}])
        page.wait_for_function("document.getElementById('confidence').textContent"
                               ".includes('several digits')", timeout=15_000)

        # a scanner's TIFF of two pages: each page's answer (it showed "undefined")
        pages = [Image.open(io.BytesIO(png(seven))), Image.open(io.BytesIO(png(one)))]
        buffer = io.BytesIO()
        pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:])
        page.set_input_files("#file", files=[{"name": "forms.tif", "mimeType": "image/tiff",
                                              "buffer": buffer.getvalue()}])
        page.wait_for_function("document.getElementById('confidence').textContent === '2 pages'",
                               timeout=15_000)
        assert page.locator("#answer").text_content() == "7 1"


#: Holds back each canvas's PNG by 800 ms, and counts those still held back: a pad sent
#: just before a picture is uploaded then reaches the server after the picture does.
SLOW_TO_BLOB = """
window.blobsHeld = 0;
const originalToBlob = HTMLCanvasElement.prototype.toBlob;
HTMLCanvasElement.prototype.toBlob = function (callback, ...rest) {
  window.blobsHeld++;
  originalToBlob.call(this, blob => setTimeout(() => { window.blobsHeld--; callback(blob); }, 800), ...rest);
};
"""


@pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed")
def test_an_upload_is_answered_even_when_the_pad_was_sent_just_before_it():
    """The pad sent (its picture still being made) before a picture is uploaded is stale
    once the upload is sent: the page showed the blank pad's "no digits found" (CI, once)."""
    with served_page(SLOW_TO_BLOB) as page:
        page.check("#number-mode")
        page.dispatch_event("#length", "change")  # read the pad again: it is sent
        page.wait_for_function("window.blobsHeld > 0", timeout=15_000)
        page.set_input_files("#file", files=[{"name": "71.png", "mimeType": "image/png",
                                              "buffer": png(seven_one, size=(300, 200))}])
        page.wait_for_function("window.blobsHeld === 0", timeout=15_000)
        _wait_for_answer(page, "71")
        page.wait_for_timeout(500)  # the pad's answer, had it been taken, is in by now
        assert page.locator("#answer").text_content() == "71"


def seven_one(d):
    d.line([(40, 50), (110, 50), (70, 160)], fill=0, width=14)
    d.line([(200, 40), (200, 160)], fill=0, width=14)


def seven_slash_ten(d):
    d.line([(20, 50), (90, 50), (50, 160)], fill=0, width=14)
    d.line([(115, 165), (175, 30)], fill=0, width=14)
    d.line([(230, 40), (230, 160)], fill=0, width=14)
    d.ellipse([(270, 40), (350, 160)], outline=0, width=14)


@pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed")
def test_the_page_reads_with_a_check_digit_given_its_rule_in_the_digits_field():
    with served_page(SENT_SIZES) as page:
        page.check("#number-mode")
        page.set_input_files("#file", files=[{"name": "71.png", "mimeType": "image/png",
                                              "buffer": png(seven_one, size=(400, 200))}])
        _wait_for_answer(page, "71")
        page.fill("#length", "luhn")  # 71 breaks it: mended, the digit changed unsure
        page.dispatch_event("#length", "change")
        page.wait_for_function("window.lastUrl.includes('check=luhn') && "
                               "document.getElementById('answer').textContent.includes('?')", timeout=15_000)
        assert "mended to keep the rule asked" in page.locator("#confidence").text_content()
        page.fill("#length", "gtin")  # no GTIN has two digits: rejected, and said so
        page.dispatch_event("#length", "change")
        page.wait_for_function("document.getElementById('confidence').textContent"
                               ".startsWith('no reading keeps the rule asked')", timeout=15_000)
        page.fill("#length", "isbn")  # no rule: the server says why, in one line
        page.dispatch_event("#length", "change")
        page.wait_for_function("document.getElementById('confidence').textContent"
                               ".startsWith(\"the check digit's rule\")", timeout=15_000)


@pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed")
def test_the_page_reads_a_date_given_its_pattern_in_the_digits_field():
    with served_page(SENT_SIZES) as page:
        page.check("#number-mode")
        page.fill("#length", "d/dd")
        page.set_input_files("#file", files=[{"name": "date.png", "mimeType": "image/png",
                                              "buffer": png(seven_slash_ten, size=(400, 200))}])
        _wait_for_answer(page, "7/10")
        assert "pattern=d%2Fdd" in page.evaluate("window.lastUrl")
        page.fill("#length", "d/dd mdy")  # a pattern and a date's order: the 10th of July
        page.dispatch_event("#length", "change")
        page.wait_for_function("window.lastUrl.includes('pattern=d%2Fdd&check=mdy')", timeout=15_000)
        _wait_for_answer(page, "7/10")
        page.fill("#length", "")  # no pattern: the slash is the 1 it looks like
        page.dispatch_event("#length", "change")
        _wait_for_answer(page, "7110")
        page.fill("#length", "d//dd")  # no pattern: the server says why, in one line
        page.dispatch_event("#length", "change")
        page.wait_for_function("document.getElementById('confidence').textContent.startsWith('a pattern')",
                               timeout=15_000)
        assert page.locator("#answer").text_content() == "!"


def test_worker_socket_gets_tcp_nodelay_on_accepted_connections():
    """Regression: with --workers N the shared socket came from uvicorn with proto 0, so
    asyncio left Nagle on and each keep-alive response waited ~40 ms for a delayed ACK."""
    import asyncio
    import socket

    from digitnet.web.server import listening_socket

    sock = listening_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    seen = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport):
            accepted = transport.get_extra_info("socket")
            seen.append(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def main():
        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await reader.read()
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(main())
    assert seen and seen[0] != 0


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_refuses_a_busy_port_in_one_line(workers):
    # with one worker (the default) uvicorn's own error came after "serving on ..."
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "digitnet", "serve", "--port", str(port),
                               "--workers", workers], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "serving on" not in done.stdout
    assert done.stderr.startswith("digitnet: error: cannot listen on 127.0.0.1")
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (["--port", "99999"], "a port is a number from 1 to 65535"),  # was a traceback
    (["--host", "192.0.2.1"], "cannot listen on 192.0.2.1"),  # TEST-NET-1: not this machine
    (["--model", str(Path(__file__).resolve().parents[1] / "src/digitnet/models/reader.npz")],
     "does not classify 28x28 images"),  # read's judge: it served, and failed every request
    (["--shortcut", "1.5"], "a probability in (0, 1] or `off`, not 1.5"),
    (["--shortcut", "often"], "a probability or `off`, not 'often'"),
])
def test_serve_refuses_bad_settings_in_one_line(args, message):
    done = subprocess.run([sys.executable, "-m", "digitnet", "serve", *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_serve_workers_take_a_shipped_model_by_name():
    # the supervisor made the name absolute (/cwd/cnn), which the workers could not load
    port = free_port()
    server = start_server(port, "--workers", "2", "--model", "cnn")
    try:
        client = Client(port)
        described = client.get("/api/model").json()
        assert described["kind"] == "network"  # not the ensemble
        assert described["photo_network"] is False  # a model named answers every picture
        for _ in range(4):
            response = client.post("/api/predict", png(seven))
            assert response.status_code == 200 and response.json()["digit"] == 7
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_with_workers_answers_and_stops_all_of_them(stop):
    """--workers 2: every worker listens on its own socket on the port; the answers are
    right, and stopping the server stops the workers (the port is free again)."""
    port = free_port()
    server = start_server(port, "--workers", "2")
    try:
        client = Client(port)
        for _ in range(4):
            response = client.post("/api/predict", png(seven))
            assert response.status_code == 200 and response.json()["digit"] == 7
    finally:
        server.send_signal(stop)
        assert server.wait(timeout=30) == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # would fail if a worker still held it


def test_a_photo_of_paper_is_answered_by_the_photo_network(client):
    # the default model's network for photos (pretrained.PHOTO) answers, calibrated as the
    # ensemble is; a drawing keeps the ensemble (test_predict)
    import numpy as np

    from digitnet.calibration import for_model
    from digitnet.data.preprocess import to_mnist_seen
    from digitnet.nn.ensemble import Ensemble
    from digitnet.pretrained import SHORTCUT, photo_model, resolve_model
    from test_preprocess import paper_photo

    photo = paper_photo(1, ink=0.8)
    x, seen = to_mnist_seen(photo)
    assert seen.surface

    def served(model):  # as the server runs an ensemble: its first network alone when sure
        p = Ensemble(model.members, shortcut=SHORTCUT).confidences(x[None])
        return for_model(None).digits(p)[0]

    expected, ensemble = served(photo_model(None)), served(resolve_model(None))
    answer = client.post("/api/predict", content=photo).json()
    assert answer["digit"] == 7
    assert np.allclose(answer["probabilities"], expected, atol=2e-6)
    assert not np.allclose(answer["probabilities"], ensemble, atol=2e-6)
