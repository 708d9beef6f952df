"""The image of a request: its body, or the file of a multipart form, within limits.

A body is at most MAX_BODY bytes and must arrive within the app's body timeout; a form
(parsed by python-multipart, as Starlette's own forms are) has at most MAX_FORM_FIELDS
parts, each with python-multipart's bounds on its headers (8 headers of 4 kB at most).
Every refusal is an HTTPException the app answers as JSON.
"""

import asyncio

#: Largest request body accepted, in bytes.
MAX_BODY = 5 << 20
#: Seconds a client has to send the whole request body; a stalled upload is answered
#: 408 and its memory freed (5 MB reach the server in 4 s at 10 Mbit/s).
BODY_TIMEOUT = 60
#: Most fields a form upload may have (the image, and a few others a page might send).
MAX_FORM_FIELDS = 16


def _too_large():
    from fastapi import HTTPException

    return HTTPException(413, f"the image must be at most {MAX_BODY >> 20} MB")


async def request_body(request, body_timeout: float) -> bytes:
    """The whole body of ``request``: 413 beyond MAX_BODY (by its Content-Length, or as it
    arrives), 408 if it is not all there within ``body_timeout`` seconds, 400 if empty."""
    from fastapi import HTTPException
    from starlette.requests import ClientDisconnect

    size = request.headers.get("content-length")
    if size is not None and (not size.isdigit() or int(size) > MAX_BODY):
        raise _too_large()

    async def receive():
        body = bytearray()  # grown in place: `bytes +=` copied it all for every chunk
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                raise _too_large()
        return bytes(body)

    try:
        body = await asyncio.wait_for(receive(), body_timeout)
    except asyncio.TimeoutError:  # TimeoutError itself from Python 3.11 on, not in 3.10
        raise HTTPException(408, f"the request body did not arrive within {body_timeout} s") from None
    except ClientDisconnect:  # nobody will read this answer; not a server error either
        raise HTTPException(400, "the client hung up before sending the whole body") from None
    if not body:
        raise HTTPException(400, "send the image as the request body")
    return body


async def image_body(request, body_timeout: float) -> bytes:
    """The image a request sends: its body, or the file of its multipart form (an HTML
    form, or ``curl -F image=@digit.png``)."""
    body = await request_body(request, body_timeout)
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        return form_file(body, content_type)
    return body


class _Fields:
    """python-multipart's callbacks, collecting (Content-Disposition parameters, data) of
    each part and refusing a form of more than MAX_FORM_FIELDS parts as soon as it starts."""

    def __init__(self):
        self.fields = []
        self.header, self.value = bytearray(), bytearray()

    def callbacks(self):
        return {"on_part_begin": self.begin, "on_part_data": self.data,
                "on_header_field": self.header_field, "on_header_value": self.header_value,
                "on_header_end": self.header_end}

    def begin(self):
        from fastapi import HTTPException

        if len(self.fields) == MAX_FORM_FIELDS:
            raise HTTPException(400, f"the form has more than {MAX_FORM_FIELDS} fields")
        self.fields.append(({}, bytearray()))

    def data(self, data, start, end):
        self.fields[-1][1].extend(data[start:end])

    def header_field(self, data, start, end):
        self.header.extend(data[start:end])

    def header_value(self, data, start, end):
        self.value.extend(data[start:end])

    def header_end(self):
        from python_multipart.multipart import parse_options_header

        if bytes(self.header).strip().lower() == b"content-disposition":
            _, parameters = parse_options_header(bytes(self.value))
            self.fields[-1][0].update({k.decode("latin-1").lower(): v.decode("latin-1")
                                       for k, v in parameters.items()})
        self.header, self.value = bytearray(), bytearray()


def form_file(body: bytes, content_type: str) -> bytes:
    """The file of a multipart/form-data body (RFC 7578): the field named ``image``, else
    the first with a file name, else the first that is not empty."""
    from fastapi import HTTPException
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import MultipartParser, parse_options_header

    _, parameters = parse_options_header(content_type)
    boundary = parameters.get(b"boundary")
    if not boundary or len(boundary) > 70:
        raise HTTPException(400, "a multipart/form-data request needs a boundary")
    fields = _Fields()
    parser = MultipartParser(boundary, fields.callbacks(), max_size=MAX_BODY)
    try:
        parser.write(body)
        parser.finalize()
    except FormParserError as e:
        raise HTTPException(400, f"not a well-formed multipart/form-data body ({e})") from None

    def preference(field):
        parameters, _ = field
        return parameters.get("name") != "image", "filename" not in parameters

    for _, data in sorted(fields.fields, key=preference):  # stable: in form order otherwise
        if data:
            return bytes(data)
    raise HTTPException(400, "the form holds no file: send the image as a form field "
                             "(curl -F image=@digit.png) or as the request body")
