"""The API's operations and the page, added to an app by ``add_routes``.

Every confidence they send is calibrated (``digitnet.calibration``): the chance that the
answer is right. ``min_confidence`` turns an answer less sure than that into a rejection,
reported as ``"rejected": true`` beside the answer itself.
"""

import asyncio
import concurrent.futures
from dataclasses import dataclass
from typing import Any

import numpy as np

from .forms import MAX_BODY, image_body

IMAGE_BODY = {"requestBody": {"required": True, "content": {
    "image/png": {"schema": {"type": "string", "format": "binary"}},
    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
    "image/heic": {"schema": {"type": "string", "format": "binary"}},
    "image/tiff": {"schema": {"type": "string", "format": "binary"}},
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
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
    422: {"description": "Not a readable image, no digit in it, or a bad parameter", **ERROR},
}
#: What the operations answer (200), as OpenAPI describes it: one picture's answer, or,
#: for a document of several pages, ``{"pages": [...]}``; ``/api/read?lines=true`` a line each.
_NUMBER = {"type": "number"}
_BOX = {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4,
        "description": "left, top, right, bottom, in the picture's pixels"}
DIGIT_ANSWER = {"type": "object", "required": ["digit", "confidence", "probabilities", "input", "rejected",
                                                "several_digits"], "properties": {
    "digit": {"type": "integer"}, "confidence": _NUMBER,
    "probabilities": {"type": "array", "items": _NUMBER, "description": "the ten classes'"},
    "input": {"type": "array", "items": _NUMBER, "description": "the 28x28 the network saw, row by row"},
    "rejected": {"type": "boolean"}, "several_digits": {"type": "boolean"},
    "activations": {"type": "array", "items": {"type": "object"}}}}
NUMBER_ANSWER = {"type": "object", "required": ["text", "confidence", "digits", "rejected"], "properties": {
    "text": {"type": "string"}, "confidence": _NUMBER, "rejected": {"type": "boolean"},
    "digits": {"type": "array", "items": {"type": "object", "properties": {
        "digit": {"type": "integer"}, "confidence": _NUMBER, "box": _BOX, "unsure": {"type": "boolean"},
        "input": {"type": "array", "items": _NUMBER, "minItems": 784, "maxItems": 784,
                  "description": "with inputs=true: the digit's piece in 28x28 as the classifier sees it"},
        "read_by": {"type": "string", "enum": ["classifier", "pair", "line"],
                    "description": "with inputs=true: which network read the digit"}}}},
    "marks": {"type": "array", "items": {"type": "object", "properties": {
        "mark": {"type": "string"}, "after": {"type": "integer"}, "box": _BOX}}},
    "other_lines": {"type": "boolean"}, "forced": {"type": "boolean"}, "off_length": {"type": "boolean"},
    "corrected": {"type": "boolean"}, "check_failed": {"type": "boolean"}}}
LINES_ANSWER = {"type": "object", "required": ["lines"],
                "properties": {"lines": {"type": "array", "items": NUMBER_ANSWER}}}
PAGE_FAILURE = {"type": "object", "required": ["page", "error"],
                "properties": {"page": {"type": "integer"}, "error": {"type": "string"}}}


def _answers(one: dict, description: str) -> dict:
    """The 200 answer of an operation whose answer for one picture is ``one``."""
    page = {"allOf": [{"type": "object", "required": ["page"], "properties": {"page": {"type": "integer"}}},
                      one]}
    pages = {"type": "object", "required": ["pages"], "properties": {
        "pages": {"type": "array", "items": {"oneOf": [page, PAGE_FAILURE]}}}}
    return {200: {"description": description, "content": {"application/json": {"schema": {
        "oneOf": [one, pages]}}}}}


MIN_CONFIDENCE = ("answers less sure than this (a calibrated probability of being right) "
                  "are reported as rejected")
#: Most pages of a document (a multi-page TIFF, a PDF) one request reads; each page is
#: answered in ``{"pages": [...]}``. More: batch mode (``digitnet read --out``).
MAX_REQUEST_PAGES = 50


@dataclass
class Service:
    """What the routes share: the model and its forms for serving, the batcher, the
    thread for slow work, the calibration, and the request body's time limit."""

    model: object
    network: object  # the model, or an ensemble's first network (its activations are shown)
    batcher: Any
    read_model: object
    calibration: object
    slow: concurrent.futures.Executor
    body_timeout: float
    shortcut: float | None
    unfit_to_read: str | None  # why the model cannot read numbers, or None
    #: the batcher of the network for pictures of paper or a board (``pretrained.PHOTO``), or None
    photo_batcher: Any = None

    async def off_the_loop(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self.slow, function, *args)


async def document_pages(service: Service, body: bytes) -> list | None:
    """The pages of a document of several (a multi-page TIFF or a PDF: a PDF of one page is
    that page, the body itself), else None: the body is one picture. 422 beyond
    MAX_REQUEST_PAGES pages."""
    from fastapi import HTTPException

    from ..data.frontend.decode import may_be_a_document, pages

    if not may_be_a_document(body):
        return None
    found = await service.off_the_loop(pages, body)
    if found is None or len(found) == 1:
        return found
    if len(found) > MAX_REQUEST_PAGES:
        raise HTTPException(422, f"a document of {len(found):,} pages is more than one request reads "
                                 f"({MAX_REQUEST_PAGES}): send fewer pages a request, or read it with "
                                 "digitnet read --out (batch mode)")
    return found


def page_failure(page, error) -> dict:
    """A page's answer when it holds no digit or cannot be read: its number and the error."""
    message = " ".join(str(error).split())
    return {"page": page.number, "error": message.removeprefix(f"{page.label}: ")}


def _check_probability(value):
    from fastapi import HTTPException

    if not 0 <= value <= 1:
        raise HTTPException(422, "min_confidence must be between 0 and 1")


def add_routes(app, service: Service) -> None:
    """The page, POST /api/predict, POST /api/read and GET /api/model (and HEAD where GET is)."""
    from fastapi.responses import FileResponse

    from .app import STATIC

    async def index():
        return FileResponse(STATIC / "index.html")

    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.add_api_route("/api/predict", _predict(service), methods=["POST"], openapi_extra=IMAGE_BODY,
                      responses={**_answers(DIGIT_ANSWER, "The digit, or each page's"), **IMAGE_ERRORS},
                      summary="Recognise one digit in an image (any size, format and polarity)")
    app.add_api_route("/api/read", _read(service), methods=["POST"], openapi_extra=IMAGE_BODY,
                      responses={**_answers({"oneOf": [NUMBER_ANSWER, LINES_ANSWER]},
                                            "The number (with lines=true, each line's), or each page's"),
                                 **IMAGE_ERRORS},
                      summary="Read a written number (1 to 20 digits) in an image")
    describe = _describe(service)
    app.add_api_route("/api/model", describe, methods=["GET"],
                      summary="What the model is and how it was trained")
    for path, endpoint in [("/", index), ("/api/model", describe)]:  # HEAD wherever GET is
        app.add_api_route(path, endpoint, methods=["HEAD"], include_in_schema=False)


def _predict(service: Service):
    from fastapi import Query, Request
    from fastapi.responses import JSONResponse

    from ..data.frontend import several_digits
    from ..data.preprocess import to_mnist_seen
    from ..errors import DigitnetError
    from .app import activations
    from .batching import is_large

    def prepared(source):
        x, seen = to_mnist_seen(source)
        return x, seen.surface and service.photo_batcher is not None, seen.beside

    async def answer(x, photo, beside, min_confidence, with_activations):
        p = await (service.photo_batcher if photo else service.batcher).confidences(x)
        digit = int(p.argmax())
        confidence = float(p[digit])
        # rounded in float64, whose short decimals JSON writes fast, and sent as is:
        # FastAPI's generic encoder would take longer than the network (BENCHMARKS.md)
        result = {"digit": digit, "confidence": confidence,
                  "probabilities": np.round(p.astype(np.float64), 6).tolist(),
                  "input": np.round(x.astype(np.float64), 3).tolist(),
                  "rejected": confidence < min_confidence,
                  # a number sent as one digit: /api/read reads it
                  "several_digits": beside or several_digits(x)}
        if with_activations:
            result["activations"] = activations(service.network, x)
        return result

    def page_inputs(document):
        out = []
        for page in document:
            try:
                out.append(prepared(page))
            except DigitnetError as e:  # this page's answer says it; the others are read
                out.append(page_failure(page, e))
        return out

    async def predict(request: Request,
                      with_activations: bool = Query(False, alias="activations", description=(
                          "also send each hidden layer's activations")),
                      min_confidence: float = Query(0.0, description=MIN_CONFIDENCE)):
        _check_probability(min_confidence)
        body = await image_body(request, service.body_timeout)
        document = await document_pages(service, body)
        if document is not None and len(document) > 1:  # each page answered
            inputs = await service.off_the_loop(page_inputs, document)
            ready = [got for got in inputs if isinstance(got, tuple)]  # (a dict: the page's failure)
            answers = iter(await asyncio.gather(*[answer(x, photo, beside, min_confidence, with_activations)
                                                  for x, photo, beside in ready]))
            return JSONResponse({"pages": [
                got if isinstance(got, dict) else {"page": page.number, **next(answers)}
                for page, got in zip(document, inputs)]})
        source = document[0] if document else body
        # an unreadable or blank picture: the DigitnetError handler answers 422 and its error
        x, photo, beside = (await service.off_the_loop(prepared, source) if document or is_large(body)
                            else prepared(source))
        return JSONResponse(await answer(x, photo, beside, min_confidence, with_activations))

    return predict


def _read(service: Service):
    from fastapi import HTTPException, Query, Request

    from ..errors import DigitnetError
    from ..read import read_lines, read_number
    from ..read.decode import field_options

    def read_calibrated(body, min_confidence, marks, lines, field=(None, None, None), inputs=False):
        def said(reading):
            reading = service.calibration.reading(reading, min_confidence)
            out = {**reading.as_dict(), "rejected": reading.confidence < min_confidence}
            if inputs:  # what the page shows under "what the network saw"
                for d, digit, x in zip(out["digits"], reading.digits, reading.inputs()):
                    d["input"] = np.round(x.ravel().astype(np.float64), 3).tolist()
                    d["read_by"] = digit.read_by
            return out

        if lines:
            return {"lines": [said(r) for r in read_lines(body, service.read_model, marks=marks)]}
        length, pattern, check = field
        return said(read_number(body, service.read_model, marks=marks, length=length, pattern=pattern,
                                check=check))

    def read_pages(document, min_confidence, marks, lines, field, inputs):
        out = []
        for page in document:
            try:
                out.append({"page": page.number,
                            **read_calibrated(page, min_confidence, marks, lines, field, inputs)})
            except DigitnetError as e:  # this page's answer says it; the others are read
                out.append(page_failure(page, e))
        return {"pages": out}

    async def read(request: Request, min_confidence: float = Query(0.5, description=(
            MIN_CONFIDENCE + "; its digits less sure than this are marked unsure")),
            marks: bool = Query(False, description=(
                "write the points, commas, colons, dashes and spaces between groups of digits into the "
                "text (1,250.00, 5041 9238), each listed in `marks` with its box")),
            lines: bool = Query(False, description=(
                "read every line of writing, top to bottom: {\"lines\": [one answer a line]}")),
            length: int | None = Query(None, ge=1, le=20, description=(
                "the number has this many digits (a postcode): a reading of another length is "
                "replaced by the best of this length, its confidence at most 0.4; where there is "
                "none, it stands with confidence 0")),
            pattern: str | None = Query(None, max_length=60, description=(
                "the field's pattern, d a digit and the marks / : . , - or a space between (a date "
                "dd/dd/dddd, a time dd:dd; d? a digit that may be missing, | between patterns: "
                "d?d/d?d/dddd): read as with `length` and written in the pattern; a slash, "
                "which reads as a 1, is taken for the pattern's where a 1 stands just there")),
            check: str | None = Query(None, max_length=20, description=(
                "the rule of the number's check digit: luhn (cards, many accounts), gtin (barcodes' "
                "numbers), aba (US routing numbers), verhoeff or mod11 (ISBN-10s, NHS numbers), "
                "or a date's order, dmy, mdy or ymd (a day of the calendar, in the pattern's groups, "
                "else d?d/d?d/dddd and its shorter forms), or hm (a time of the 24-hour clock, "
                "d?d:dd); a reading that breaks it is mended "
                "to the most probable one that keeps it (`corrected`), or rejected where none can "
                "(`check_failed`)")),
            inputs: bool = Query(False, description=(
                "also send, for each digit, its piece in 28x28 as the classifier sees it "
                "(`input`, row by row) and which network read it (`read_by`: the classifier, "
                "the pair reader of a piece read as two digits, or the reader of the whole line)"))):
        if service.unfit_to_read:
            raise HTTPException(422, "reading numbers needs a classifier of the ten digits; "
                                f"this server's model has {service.unfit_to_read}")
        _check_probability(min_confidence)
        try:
            field_options(length, pattern, check, lines)
        except ValueError as e:
            raise HTTPException(422, str(e)) from None
        body = await image_body(request, service.body_timeout)
        document = await document_pages(service, body)
        if document is not None and len(document) > 1:  # each page answered
            return await service.off_the_loop(read_pages, document, min_confidence, marks, lines,
                                              (length, pattern, check), inputs)
        source = document[0] if document else body
        return await service.off_the_loop(read_calibrated, source, min_confidence, marks, lines,
                                          (length, pattern, check), inputs)

    return read


def _describe(service: Service):
    from .. import __version__

    model, network = service.model, service.network
    members = getattr(model, "members", None)

    async def describe():
        meta = getattr(model, "metadata", {}) or {}
        return {"kind": "ensemble" if members else "network",
                "members": len(members) if members else 1,
                "shortcut": service.shortcut if members else None,
                "calibrated": service.calibration.fitted,
                "layers": [layer.config() for layer in network.layers],
                "training": meta.get("training", {}), "metrics": meta.get("metrics", {}),
                # whether photos of paper are answered by the network trained for them
                "photo_network": service.photo_batcher is not None,
                "digitnet_version": __version__}

    return describe
