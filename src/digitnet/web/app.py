"""A FastAPI application: a drawing page, and a JSON API under /api/.

    POST /api/predict   an image (the request body, or a form's file) -> digit,
                        probabilities, the 28x28 input the network saw, and
                        hidden-layer activations
    POST /api/read      an image -> the number written in it, digit by digit
    GET  /api/model     what the model is and how it was trained

Confidences are calibrated (``digitnet.calibration``); ``?min_confidence=P`` reports an
answer less sure than P as rejected. The pieces: ``forms`` (the request's image, within
limits), ``batching`` (one run of the network for the requests of the moment),
``routes`` (the operations), and here the app and its JSON error handlers.

Every bad request gets a 4xx answer with a JSON body {"error": "..."}; /openapi.json
describes the API (the interactive /docs page is off: it loads Swagger UI from a CDN).
"""

import concurrent.futures
from pathlib import Path

import numpy as np

from ..errors import DigitnetError
from ..pretrained import SHORTCUT
from .batching import Batcher, _for_inference
from .forms import BODY_TIMEOUT

STATIC = Path(__file__).parent / "static"

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




def add_error_handlers(app) -> None:
    """Every error as JSON ``{"error": "..."}``: HTTP errors with their status and headers
    (a 405's Allow, a 416's Content-Range), bad parameters and unusable images as 422."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    async def http_error(request, exc):
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code,
                            headers=exc.headers)

    async def validation_error(request, exc):
        problems = [f"{error['loc'][-1]}: {error['msg']}" for error in exc.errors() if error.get("loc")]
        return JSONResponse({"error": "invalid request" + (" (" + "; ".join(problems) + ")"
                                                           if problems else "")}, status_code=422)

    async def digitnet_error(request, exc):
        return JSONResponse({"error": str(exc)}, status_code=422)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(DigitnetError, digitnet_error)


def service_for(model_path=None, body_timeout=BODY_TIMEOUT, shortcut=SHORTCUT):
    """The ``routes.Service`` of ``model_path`` (None: the best shipped model)."""
    from ..calibration import for_model
    from ..pretrained import photo_model, resolve_model
    from ..read import not_a_digit_reader
    from .routes import Service

    model = resolve_model(model_path)
    calibration = for_model(model_path)
    members = getattr(model, "members", None)
    photo = photo_model(model_path)  # pictures of paper or a board, with the default model
    # Slow work leaves the event loop for one thread of its own: reading a number, and
    # preprocessing a large photo (a 40-megapixel PNG takes seconds), so that the
    # requests waiting meanwhile are still answered. Layers keep per-call state, so
    # that thread reads with its own copy of the model (read's judge is used only there),
    # all five networks of an ensemble on every piece (the shortcut read worse).
    return Service(model=model, network=members[0] if members else model,
                   batcher=Batcher(_for_inference(model, shortcut), calibration),
                   read_model=_for_inference(model), calibration=calibration,
                   slow=concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="digitnet-slow"),
                   body_timeout=body_timeout, shortcut=shortcut,
                   # reading a number needs a classifier of the ten digits; a 2-class model still predicts
                   unfit_to_read=not_a_digit_reader(model),
                   photo_batcher=photo and Batcher(_for_inference(photo, shortcut), calibration))


def create_app(model_path=None, body_timeout=BODY_TIMEOUT, shortcut=SHORTCUT):
    """The FastAPI app serving ``model_path`` (None: the best shipped model); an ensemble
    lets its first network answer alone for digits it is at least ``shortcut`` sure of."""
    from fastapi import FastAPI

    from .. import __version__
    from ..data.preprocess import quiet_pillow_size_warning
    from .routes import add_routes

    quiet_pillow_size_warning()  # is_large peeks at headers Pillow would warn about
    service = service_for(model_path, body_timeout, shortcut)
    # no /docs or /redoc: they load their scripts from a CDN; /openapi.json stays.
    # No redirect from /api/predict/ to /api/predict: a JSON 404 instead of an empty 307.
    app = FastAPI(title="digitnet", version=__version__, docs_url=None, redoc_url=None,
                  redirect_slashes=False,
                  description="Recognise handwritten digits with a network written from scratch "
                  "in NumPy.")
    add_error_handlers(app)
    add_routes(app, service)
    app.mount("/static", static_files(), name="static")
    return app
