"""A FastAPI application: a drawing page, and a JSON API under /api/.

    POST /api/predict   an image (the request body, or a form's file) -> digit,
                        probabilities, the 28x28 input the network saw, and
                        hidden-layer activations
    POST /api/read      an image -> the number written in it, digit by digit
    GET  /api/model     what the model is and how it was trained

Every bad request gets a 4xx answer with a JSON body {"error": "..."}; /openapi.json
describes the API (the interactive /docs page is off: it loads Swagger UI from a CDN).
"""

import asyncio
import concurrent.futures
import io
import re
from pathlib import Path

import numpy as np

from ..errors import DigitnetError, NoDigitError
from ..pretrained import SHORTCUT

STATIC = Path(__file__).parent / "static"
#: Largest request body accepted, in bytes.
MAX_BODY = 5 << 20
#: Seconds a client has to send the whole request body; a stalled upload is answered
#: 408 and its memory freed (5 MB reach the server in 4 s at 10 Mbit/s).
BODY_TIMEOUT = 60

IMAGE_BODY = {"requestBody": {"required": True, "content": {
    "image/png": {"schema": {"type": "string", "format": "binary"}},
    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "image": {"type": "string", "format": "binary"}}}}}}}

ERROR = {"content": {"application/json": {"schema": {
    "type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}}}}
#: The error answers the API operations may give, as OpenAPI describes them.
IMAGE_ERRORS = {
    400: {"description": "No image in the request, or a malformed form", **ERROR},
    408: {"description": "The request body was not sent in time", **ERROR},
    413: {"description": f"The body is larger than {MAX_BODY >> 20} MB", **ERROR},
    422: {"description": "Not a readable image, or a bad parameter", **ERROR},
}


#: Most fields a form upload may have (the image, and a few others a page might send).
MAX_FORM_FIELDS = 16

#: One parameter of a Content-Disposition header: name="value" (quoted, where a ";" or
#: "filename=" is part of the value) or name=value.
DISPOSITION_PARAMETER = re.compile(r';\s*([A-Za-z*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


def disposition(head):
    """The parameters of a form field's Content-Disposition header, as a dict
    (``{"name": "image", "filename": "d.png"}``); empty without that header."""
    for line in head.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() == b"content-disposition":
            return {m[1].lower(): m[2] if m[2] is not None else m[3]
                    for m in DISPOSITION_PARAMETER.finditer(value.decode("latin-1"))}
    return {}


def form_file(body, content_type):
    """The file of a multipart/form-data body (RFC 7578): the field named ``image``,
    else the first with a file name, else the first that is not empty. One pass of
    ``bytes.split`` over at most MAX_FORM_FIELDS parts (the standard library's MIME
    parser took 13 s of the event loop on a 5 MB body of empty parts)."""
    from fastapi import HTTPException

    match = re.search(r'boundary="?([^";]{1,70})"?', content_type, re.IGNORECASE)
    if not match:
        raise HTTPException(400, "a multipart/form-data request needs a boundary")
    delimiter = b"--" + match.group(1).strip().encode("latin-1")
    # one piece more than the fields allowed: the closing delimiter, or a field too many
    pieces = body.split(delimiter, MAX_FORM_FIELDS + 1)[1:]
    fields = []
    for piece in pieces:
        if piece.startswith(b"--"):
            break  # the closing delimiter
        head, blank_line, data = piece.partition(b"\r\n\r\n")
        fields.append((disposition(head) if blank_line else {}, data.removesuffix(b"\r\n")))
    if len(fields) > MAX_FORM_FIELDS:
        raise HTTPException(400, f"the form has more than {MAX_FORM_FIELDS} fields")

    def preference(field):
        parameters, _ = field
        return parameters.get("name") != "image", "filename" not in parameters

    for _, data in sorted(fields, key=preference):  # stable: in form order otherwise
        if data:
            return data
    raise HTTPException(400, "the form holds no file: send the image as a form field "
                             "(curl -F image=@digit.png) or as the request body")


def activations(network, x, max_channels=16):
    """What each hidden activation layer outputs for one input, kept small: dense
    layers as vectors, convolutional maps average-pooled to at most 7x7."""
    from ..nn.layers import ReLU, Sigmoid, Tanh

    out = []
    network.train(False)
    a = x[None, :].astype(network.dtype)
    for layer in network.layers[:-1]:
        a = layer.forward(a)
        if isinstance(layer, (ReLU, Sigmoid, Tanh)):
            values = a[0]
            if values.ndim == 3:
                c, h, w = values.shape
                k = max(1, h // 7)
                pooled = values[:max_channels, :h // k * k, :w // k * k]
                pooled = pooled.reshape(len(pooled), h // k, k, w // k, k).mean(axis=(2, 4))
                out.append({"kind": "maps", "shape": list(pooled.shape),
                            "values": np.round(pooled, 4).ravel().tolist()})
            else:
                out.append({"kind": "vector", "shape": [len(values)],
                            "values": np.round(values, 4).tolist()})
    return out


class Batcher:
    """Run the network once for all the images whose requests arrived together.

    A request's handler queues its 28x28 input and waits; the first one queued asks the
    event loop to run the network on the next turn, by which time every request that
    was ready on this turn has queued its own. Under load, one product of a batch of
    images costs much less than one per image (the four-CNN ensemble: 1.5 ms for one,
    0.9 ms each for eight), and an idle server still answers at once.
    """

    def __init__(self, model):
        self.model = model
        self.queue = []

    async def confidences(self, x):
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        self.queue.append((x, answer))
        if len(self.queue) == 1:
            loop.call_soon(self._run)
        return await answer

    def _run(self):
        queue, self.queue = self.queue, []
        try:
            probabilities = self.model.confidences(np.stack([x for x, _ in queue]))
        except Exception as e:  # every waiting request gets the error, none is lost
            for _, answer in queue:
                if not answer.done():
                    answer.set_exception(e)
            return
        for (_, answer), p in zip(queue, probabilities):
            if not answer.done():  # its client may have gone
                answer.set_result(p)


#: Images with more pixels than this are preprocessed off the event loop (the page's
#: 280x280 canvas, and most scans of one digit, stay on it: a thread hop costs more).
INLINE_PIXELS = 1_000_000


def is_large(body):
    """Whether the image in ``body`` has more than INLINE_PIXELS pixels, from its header
    alone (an unreadable one is not: its error comes faster on the loop)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(body)) as image:
            return image.width * image.height > INLINE_PIXELS
    except Exception:  # any failure here is reported by to_mnist, with its message
        return False


def _for_inference(model, shortcut=None):
    """The model rearranged for serving (``nn.network.for_inference``: batch
    normalisation folded, dropout left out, ReLU after pooling): same answers, less work.
    An ensemble gets the ``shortcut`` given (None: all its members on every input)."""
    from ..nn.ensemble import Ensemble
    from ..nn.network import for_inference

    fast = for_inference(model)
    members = getattr(fast, "members", None)
    return Ensemble(members, shortcut=shortcut) if members else fast


def static_files():
    """The app serving STATIC, with its answers to a bad Range header as JSON errors
    through the app's handler, like every other error (Starlette's own are a plain-text
    400 and a 416 with an empty body)."""
    from fastapi import HTTPException
    from starlette.datastructures import Headers
    from starlette.responses import FileResponse, MalformedRangeHeader, RangeNotSatisfiable
    from starlette.staticfiles import NotModifiedResponse, StaticFiles

    class File(FileResponse):
        @classmethod
        def _parse_range_header(cls, http_range, file_size):
            try:
                return super()._parse_range_header(http_range, file_size)
            except MalformedRangeHeader as e:
                raise HTTPException(400, e.content) from None
            except RangeNotSatisfiable as e:
                raise HTTPException(416, f"the file has {e.max_size} bytes",
                                    headers={"Content-Range": f"bytes */{e.max_size}"}) from None

    class Files(StaticFiles):
        def file_response(self, full_path, stat_result, scope, status_code=200):  # as Starlette's
            response = File(full_path, status_code=status_code, stat_result=stat_result)
            if self.is_not_modified(response.headers, Headers(scope=scope)):
                return NotModifiedResponse(response.headers)
            return response

    return Files(directory=STATIC)


def create_app(model_path=None, body_timeout=BODY_TIMEOUT, shortcut=SHORTCUT):
    from fastapi import FastAPI, HTTPException, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.requests import ClientDisconnect

    from .. import __version__
    from ..data.preprocess import quiet_pillow_size_warning, to_mnist
    from ..pretrained import resolve_model
    from ..read import not_a_digit_reader, read_number

    quiet_pillow_size_warning()  # is_large peeks at headers Pillow would warn about
    model = resolve_model(model_path)
    try:
        # one image at a time: a second BLAS thread only adds synchronisation (10x slower
        # on a busy machine); parallelism comes from server workers instead
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")
    except ImportError:
        pass
    members = getattr(model, "members", None)
    network = members[0] if members else model
    batcher = Batcher(_for_inference(model, shortcut))
    # Slow work leaves the event loop for one thread of its own: reading a number, and
    # preprocessing a large photo (a 40-megapixel PNG takes seconds), so that the
    # requests waiting meanwhile are still answered. Layers keep per-call state, so
    # that thread reads with its own copy of the model (read's judge is used only there),
    # all five networks of an ensemble on every piece (README: the shortcut read worse).
    slow = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="digitnet-slow")
    read_model = _for_inference(model)

    async def off_the_loop(function, *args):
        return await asyncio.get_running_loop().run_in_executor(slow, function, *args)
    # reading a number needs a classifier of the ten digits; a 2-class model still predicts
    unfit_to_read = not_a_digit_reader(model)
    # no /docs or /redoc: they load their scripts from a CDN; /openapi.json stays.
    # No redirect from /api/predict/ to /api/predict: a JSON 404 instead of an empty 307.
    app = FastAPI(title="digitnet", version=__version__, docs_url=None, redoc_url=None,
                  redirect_slashes=False,
                  description="Recognise handwritten digits with a network written from scratch "
                  "in NumPy.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc):  # its headers kept: a 405's Allow, a 416's Content-Range
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code,
                            headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request, exc):
        problems = [f"{error['loc'][-1]}: {error['msg']}" for error in exc.errors() if error.get("loc")]
        return JSONResponse({"error": "invalid request" + (" (" + "; ".join(problems) + ")"
                                                           if problems else "")}, status_code=422)

    @app.exception_handler(DigitnetError)
    async def digitnet_error(request, exc):
        return JSONResponse({"error": str(exc)}, status_code=422)

    async def image_body(request: Request):
        size = request.headers.get("content-length")
        if size is not None and (not size.isdigit() or int(size) > MAX_BODY):
            raise HTTPException(413, f"the image must be at most {MAX_BODY >> 20} MB")

        async def receive_body():
            body = bytearray()  # grown in place: `bytes +=` copied it all for every chunk
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY:
                    raise HTTPException(413, f"the image must be at most {MAX_BODY >> 20} MB")
            return bytes(body)

        try:
            body = await asyncio.wait_for(receive_body(), body_timeout)
        except asyncio.TimeoutError:  # TimeoutError itself from Python 3.11 on, not in 3.10
            raise HTTPException(408, f"the request body did not arrive within {body_timeout} s") from None
        except ClientDisconnect:  # nobody will read this answer; not a server error either
            raise HTTPException(400, "the client hung up before sending the whole body") from None
        if not body:
            raise HTTPException(400, "send the image as the request body")
        content_type = request.headers.get("content-type", "")
        if content_type.lower().startswith("multipart/form-data"):
            return form_file(body, content_type)  # an HTML form, or curl -F image=@digit.png
        return body

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC / "index.html")

    @app.post("/api/predict", openapi_extra=IMAGE_BODY, responses=IMAGE_ERRORS,
              summary="Recognise one digit in an image (any size, format and polarity)")
    async def predict(request: Request,
                      with_activations: bool = Query(False, alias="activations", description=(
                          "also send each hidden layer's activations")),
                      old_name: bool = Query(False, alias="activations_", include_in_schema=False)):
        body = await image_body(request)
        try:
            x = await off_the_loop(to_mnist, body) if is_large(body) else to_mnist(body)
        except DigitnetError as e:
            if isinstance(e, NoDigitError):
                return {"digit": None, "confidence": 0.0, "probabilities": None,
                        "input": None, "error": str(e)}
            raise
        p = await batcher.confidences(x)
        digit = int(p.argmax())
        # rounded in float64, whose short decimals JSON writes fast, and sent as is:
        # FastAPI's generic encoder would take longer than the network (BENCHMARKS.md)
        result = {"digit": digit, "confidence": float(p[digit]),
                  "probabilities": np.round(p.astype(np.float64), 6).tolist(),
                  "input": np.round(x.astype(np.float64), 3).tolist()}
        if with_activations or old_name:
            result["activations"] = activations(network, x)
        return JSONResponse(result)

    @app.post("/api/read", openapi_extra=IMAGE_BODY, responses=IMAGE_ERRORS,
              summary="Read a written number (1 to 20 digits) in an image")
    async def read(request: Request, min_confidence: float = 0.5):
        if unfit_to_read:
            raise HTTPException(422, "reading numbers needs a classifier of the ten digits; "
                                f"this server's model has {unfit_to_read}")
        if not 0 <= min_confidence <= 1:
            raise HTTPException(422, "min_confidence must be between 0 and 1")
        body = await image_body(request)
        try:
            return (await off_the_loop(read_number, body, read_model, min_confidence)).as_dict()
        except DigitnetError as e:
            if isinstance(e, NoDigitError):
                return {"text": "", "confidence": 0.0, "digits": [], "error": str(e)}
            raise

    @app.get("/api/model", summary="What the model is and how it was trained")
    async def describe():
        meta = getattr(model, "metadata", {}) or {}
        return {"kind": "ensemble" if members else "network",
                "members": len(members) if members else 1,
                "shortcut": shortcut if members else None,
                "layers": [layer.config() for layer in network.layers],
                "training": meta.get("training", {}), "metrics": meta.get("metrics", {}),
                "digitnet_version": __version__}

    for path, endpoint in [("/", index), ("/api/model", describe)]:  # HEAD wherever GET is
        app.add_api_route(path, endpoint, methods=["HEAD"], include_in_schema=False)
    app.mount("/static", static_files(), name="static")
    return app
