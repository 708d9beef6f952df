"""Documents of several pages: multi-page TIFF files (a document scanner's batch of
forms, a fax) and PDFs (the ``pdf`` extra). Every page is a picture of its own, named
``file.tif:1``, ``file.tif:2``..., in ``predict``, ``read`` and batch mode; a TIFF was
read as its first page alone, a PDF refused."""

import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitnet.batch.sources import expand
from digitnet.data.frontend import decode
from digitnet.errors import ImageError
from test_cli import run

MODEL = "cnn"  # the small shipped model: fast


def page(kind):
    """A 56x56 page: a 1 (kind 0), a 7 (kind 1), or blank paper (kind 2), dark on white."""
    grey = np.full((56, 56), 255, np.uint8)
    if kind == 0:
        grey[10:46, 26:32] = 0
    elif kind == 1:
        grey[10:16, 14:42] = 0
        grey[10:46, 36:42] = 0
    return Image.fromarray(grey, "L")


def tiff(path, kinds):
    first, *rest = [page(k) for k in kinds]
    first.save(path, format="TIFF", save_all=True, append_images=rest)
    return str(path)


def test_pages_are_split_and_other_pictures_are_not(tmp_path):
    many = tiff(tmp_path / "forms.tif", [0, 1, 0])
    found = decode.pages(many)
    in_memory = decode.pages(Path(many).read_bytes())
    assert [p.label for p in found] == [f"{many}:1", f"{many}:2", f"{many}:3"]
    assert [np.array_equal(np.asarray(a.image()), np.asarray(b.image()))
            for a, b in zip(found, in_memory)] == [True] * 3
    assert [np.asarray(decode.open_image(p)).mean() < 250 for p in found] == [True] * 3
    assert decode.pages(tiff(tmp_path / "one.tif", [0])) is None
    page(1).save(tmp_path / "anim.gif", save_all=True, append_images=[page(0)])
    page(1).save(tmp_path / "seven.png")
    assert decode.pages(str(tmp_path / "anim.gif")) is None  # frames, not pages
    assert decode.pages(str(tmp_path / "seven.png")) is None
    assert decode.pages(str(tmp_path / "missing.tif")) is None  # reading it says so
    (tmp_path / "bad.tif").write_bytes(b"II*\x00" + b"\x00" * 20)
    assert decode.pages(str(tmp_path / "bad.tif")) is None


def test_too_many_pages_is_one_error(tmp_path, monkeypatch):
    monkeypatch.setattr(decode, "MAX_PAGES", 2)
    with pytest.raises(ImageError, match=r"forms\.tif: 3 pages, more than digitnet reads in one file"):
        decode.pages(tiff(tmp_path / "forms.tif", [0, 1, 0]))


@pytest.mark.parametrize("command", ["predict", "read"])
def test_every_page_is_answered(tmp_path, capsys, command):
    forms = tiff(tmp_path / "forms.tif", [0, 1, 2])
    code, out, err = run(capsys, command, "--model", MODEL, forms, "--json")
    got = [json.loads(line) for line in out.splitlines()]
    assert code == 2 and [g["path"] for g in got] == [f"{forms}:1", f"{forms}:2", f"{forms}:3"]
    answer = "digit" if command == "predict" else "text"
    assert [str(g[answer]) for g in got[:2]] == ["1", "7"]
    assert err.splitlines() == [f"digitnet: error: {forms}:3: no digit found: the image is blank "
                                "(no ink darker or brighter than the paper)"]


def test_a_damaged_tiff_is_one_line_and_no_warning(tmp_path, capsys):
    data = Path(tiff(tmp_path / "forms.tif", [0, 1])).read_bytes()
    broken = tmp_path / "broken.tif"
    broken.write_bytes(data[:8] + b"\xff" * 16)  # its first directory's entries damaged
    for command in ("predict", "read"):
        code, out, err = run(capsys, command, "--model", MODEL, broken)
        assert code == 2 and out == "" and len(err.splitlines()) == 1 and "Warning" not in err, err


def test_batch_mode_answers_every_page_of_files_folders_and_archives(tmp_path, capsys):
    (tmp_path / "scans").mkdir()
    forms = tiff(tmp_path / "scans" / "forms.tif", [0, 1])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.write(forms, "in/forms.tif")
    (tmp_path / "a.zip").write_bytes(buffer.getvalue())
    names = [i.name for i in expand([str(tmp_path / "scans"), str(tmp_path / "a.zip"), forms])]
    assert names == [f"{forms}:1", f"{forms}:2", f"{tmp_path}/a.zip/in/forms.tif:1",
                     f"{tmp_path}/a.zip/in/forms.tif:2", f"{forms}:1", f"{forms}:2"]
    code, out, err = run(capsys, "predict", "--model", MODEL, "--jobs", 1, tmp_path / "scans")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [(r["path"], r["answer"]) for r in rows] == [(f"{forms}:1", "1"),
                                                                       (f"{forms}:2", "7")]


def test_a_fax_s_one_bit_group_4_pages_are_read(tmp_path, capsys):
    first, *rest = [page(k).resize((112, 112)).convert("1") for k in (1, 0)]
    fax = tmp_path / "fax.tif"
    first.save(fax, format="TIFF", save_all=True, append_images=rest, compression="group4")
    code, out, err = run(capsys, "predict", "--model", MODEL, fax)
    answers = [line.rsplit(": ", 1) for line in out.splitlines()]
    assert code == 0 and [(name, said.split()[0]) for name, said in answers] == [
        (f"{fax}:1", "7"), (f"{fax}:2", "1")], out


def pdf(path, kinds):
    first, *rest = [page(k).convert("RGB") for k in kinds]
    first.save(path, format="PDF", save_all=True, append_images=rest, resolution=72)
    return str(path)


@pytest.mark.parametrize("command", ["predict", "read"])
def test_every_page_of_a_pdf_is_answered(tmp_path, capsys, command):
    pytest.importorskip("pypdfium2")
    forms, one = pdf(tmp_path / "forms.pdf", [0, 1, 2]), pdf(tmp_path / "one.pdf", [1])
    code, out, err = run(capsys, command, "--model", MODEL, forms, one, "--json")
    got = [json.loads(line) for line in out.splitlines()]
    answer = "digit" if command == "predict" else "text"
    assert code == 2 and [(g["path"], str(g[answer])) for g in got] == [
        (f"{forms}:1", "1"), (f"{forms}:2", "7"), (f"{forms}:3", "None" if command == "predict" else ""),
        (one, "7")]  # one page: the file's own name
    assert err.splitlines() == [f"digitnet: error: {forms}:3: no digit found: the image is blank "
                                "(no ink darker or brighter than the paper)"]


def test_pdfs_in_batch_mode_and_damaged_ones(tmp_path, capsys):
    pytest.importorskip("pypdfium2")
    (tmp_path / "scans").mkdir()
    forms = pdf(tmp_path / "scans" / "forms.pdf", [1, 0])
    (tmp_path / "scans" / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    code, out, err = run(capsys, "predict", "--model", MODEL, "--jobs", 1, tmp_path / "scans")
    rows = {r["path"]: r for r in map(json.loads, out.splitlines())}
    assert code == 2 and [(k, r["answer"]) for k, r in rows.items() if r["answer"]] == [
        (f"{forms}:1", "7"), (f"{forms}:2", "1")]
    assert rows[str(tmp_path / "scans" / "broken.pdf")]["error"].startswith(
        f"{tmp_path / 'scans' / 'broken.pdf'}: not a readable PDF")
    code, out, err = run(capsys, "read", "--model", MODEL, tmp_path / "scans" / "broken.pdf")
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "not a readable PDF" in err


def test_a_pdf_without_the_extra_says_what_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pypdfium2", None)  # as if not installed
    forms = pdf(tmp_path / "forms.pdf", [0, 1])
    code, out, err = run(capsys, "predict", "--model", MODEL, forms)
    assert code == 2 and out == "" and err.splitlines() == [
        f"digitnet: error: {forms}: a PDF document, which needs pypdfium2 to be read: "
        "pip install 'digitnet[pdf]' (or export its pages as PNG)"]


# -- the Python functions and the web API (they read one picture a call) --------------

@pytest.fixture(scope="module")
def small_model():
    from digitnet.pretrained import resolve_model

    return resolve_model(MODEL)


def test_a_document_given_whole_to_the_python_functions_is_refused_not_cut_short(tmp_path, small_model):
    # a multi-page TIFF was read as its first page alone, silently
    import digitnet

    forms = tiff(tmp_path / "forms.tif", [0, 1, 2])
    with pytest.raises(ImageError, match=r"forms\.tif: a document of 3 pages, not one picture"):
        digitnet.predict(forms, small_model)
    with pytest.raises(ImageError, match=r"^image: a document of 3 pages, not one picture"):
        digitnet.read_number(Path(forms).read_bytes(), small_model)


def test_digitnet_pages_gives_each_page_to_read(tmp_path, small_model):
    import digitnet
    from digitnet.errors import NoDigitError

    forms = tiff(tmp_path / "forms.tif", [0, 1, 2])
    found = digitnet.pages(forms)
    assert [p.label for p in found] == [f"{forms}:1", f"{forms}:2", f"{forms}:3"]
    assert [digitnet.predict(p, small_model).digit for p in found[:2]] == [1, 7]
    assert [digitnet.read_number(p, small_model).text for p in found[:2]] == ["1", "7"]
    with pytest.raises(NoDigitError):
        digitnet.predict(found[2], small_model)
    page(1).save(tmp_path / "seven.png")
    assert digitnet.pages(str(tmp_path / "seven.png")) == [str(tmp_path / "seven.png")]


def test_a_pdf_of_one_page_is_a_picture_to_the_python_functions(tmp_path, small_model):
    pytest.importorskip("pypdfium2")
    import digitnet

    one = pdf(tmp_path / "one.pdf", [1])
    assert digitnet.predict(one, small_model).digit == 7
    assert digitnet.read_number(Path(one).read_bytes(), small_model).text == "7"
    assert [p.label for p in digitnet.pages(one)] == [one]


def test_batch_mode_sends_a_local_document_s_pages_undrawn(tmp_path):
    pytest.importorskip("pypdfium2")
    # a PDF's pages were drawn (and encoded as PNG) one after another in the process
    # that lists the inputs, before any worker started; now each worker draws its own
    forms = pdf(tmp_path / "forms.pdf", [0, 1])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.write(forms, "in/forms.pdf")
    (tmp_path / "a.zip").write_bytes(buffer.getvalue())
    local = list(expand([forms]))
    assert [(i.name, type(i.data).__name__) for i in local] == [(f"{forms}:1", "Page"),
                                                                 (f"{forms}:2", "Page")]
    assert all(i.data.source == forms for i in local)
    # an archive's document: written to a file of this process's once, its pages drawn by
    # the workers too (they were drawn here, one after another, before the workers read)
    from digitnet.batch import sources

    member = list(expand([str(tmp_path / "a.zip")]))
    assert [(i.name, type(i.data).__name__) for i in member] == [
        (f"{tmp_path / 'a.zip'}/in/forms.pdf:1", "Page"), (f"{tmp_path / 'a.zip'}/in/forms.pdf:2", "Page")]
    spooled = member[0].data.source
    assert member[1].data.source == spooled and Path(spooled).parent == Path(sources._SPOOL[0])
    assert Path(spooled).read_bytes() == Path(forms).read_bytes()
    assert member[1].data.label == f"{tmp_path / 'a.zip'}/in/forms.pdf:2"  # named as in the archive
    assert np.array_equal(np.asarray(member[1].data.image()), np.asarray(local[1].data.image()))


def test_a_document_at_a_url_is_read_page_by_page(tmp_path):
    # a multi-page TIFF fetched from an object store was one input, read as its first page
    fsspec = pytest.importorskip("fsspec")
    forms = tiff(tmp_path / "forms.tif", [0, 1])
    fsspec.filesystem("memory").pipe("/pages-test/forms.tif", Path(forms).read_bytes())
    inputs = list(expand(["memory://pages-test/forms.tif"]))
    assert [i.name for i in inputs] == ["memory://pages-test/forms.tif:1", "memory://pages-test/forms.tif:2"]
    assert all(isinstance(i.data, decode.Page) for i in inputs)
    assert Path(inputs[0].data.source).read_bytes() == Path(forms).read_bytes()
    one = tiff(tmp_path / "one.tif", [1])  # one picture: its bytes, nothing written
    fsspec.filesystem("memory").pipe("/pages-test/one.tif", Path(one).read_bytes())
    from digitnet.batch import sources

    before = sorted(Path(sources._SPOOL[0]).iterdir())
    assert [type(i.data) for i in expand(["memory://pages-test/one.tif"])] == [bytes]
    assert sorted(Path(sources._SPOOL[0]).iterdir()) == before


def test_a_page_that_cannot_be_read_is_named_by_its_number(tmp_path, capsys, monkeypatch):
    first = page(1)
    big = page(0).resize((300, 300))
    first.save(tmp_path / "forms.tif", format="TIFF", save_all=True, append_images=[big])
    forms = str(tmp_path / "forms.tif")
    monkeypatch.setattr(decode, "MAX_PIXELS", 60_000)
    message = f"{forms}:2: 300x300 pixels is more than digitnet reads (60,000)"
    code, out, err = run(capsys, "predict", "--model", MODEL, forms)
    assert code == 2 and out.startswith(f"{forms}:1: 7")
    assert err.splitlines() == [f"digitnet: error: {message}"]
    code, out, err = run(capsys, "predict", "--model", MODEL, "--jobs", 1, forms)
    rows = {r["path"]: r for r in map(json.loads, out.splitlines())}
    assert rows[f"{forms}:2"]["error"] == message and rows[f"{forms}:1"]["answer"] == "7"


@pytest.fixture(scope="module")
def app():
    pytest.importorskip("fastapi")
    from digitnet.web.app import create_app

    return create_app(MODEL)


@pytest.mark.parametrize("operation, answer", [("predict", "digit"), ("read", "text")])
def test_the_api_answers_every_page_of_a_document(tmp_path, app, operation, answer):
    from test_web_edges import call

    forms = Path(tiff(tmp_path / "forms.tif", [0, 1, 2])).read_bytes()
    status, _, body = call(app, "POST", f"/api/{operation}", forms, [("content-type", "image/tiff")])
    got = json.loads(body)["pages"]
    assert status == 200 and [g["page"] for g in got] == [1, 2, 3]
    assert [str(g[answer]) for g in got[:2]] == ["1", "7"]
    assert got[2] == {"page": 3, "error": "no digit found: the image is blank (no ink darker or "
                                          "brighter than the paper)"}
    one = Path(tiff(tmp_path / "one.tif", [1])).read_bytes()  # one page: the usual answer
    status, _, body = call(app, "POST", f"/api/{operation}", one)
    assert status == 200 and str(json.loads(body)[answer]) == "7"


def test_the_api_reads_a_pdf_and_bounds_the_pages_of_a_request(tmp_path, app, monkeypatch):
    pytest.importorskip("pypdfium2")
    from digitnet.web import routes
    from test_web_edges import call, error

    forms = Path(pdf(tmp_path / "forms.pdf", [1, 0])).read_bytes()
    status, _, body = call(app, "POST", "/api/read", forms)
    assert status == 200 and [g["text"] for g in json.loads(body)["pages"]] == ["7", "1"]
    monkeypatch.setattr(routes, "MAX_REQUEST_PAGES", 1)
    status, message = error(call(app, "POST", "/api/read", forms))
    assert status == 422 and message.startswith("a document of 2 pages is more than one request reads (1)")
    status, message = error(call(app, "POST", "/api/predict", b"%PDF-1.4 not really"))
    assert status == 422 and message.startswith("image: not a readable PDF")


def test_the_progress_bar_counts_a_document_s_pages(tmp_path, capsys, monkeypatch):
    # its total counted files: a 3-page TIFF ran to "3/1"
    forms = tiff(tmp_path / "forms.tif", [0, 1, 0])
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = run(capsys, "predict", "--model", MODEL, "--jobs", 1, forms)
    final = err.split("\r")[-1]
    assert code == 0 and final.startswith("100%") and " 3/3 " in final, err


def test_openapi_describes_every_answer_the_api_gives(tmp_path, app):
    # the answers were not described at all (only the errors)
    jsonschema = pytest.importorskip("jsonschema_rs")  # (schemathesis's, in the dev extra)
    from test_web_edges import call

    status, _, body = call(app, "GET", "/openapi.json")
    paths = json.loads(body)["paths"]

    def schema(operation):
        return paths[operation]["post"]["responses"]["200"]["content"]["application/json"]["schema"]

    forms = Path(tiff(tmp_path / "forms.tif", [0, 1, 2])).read_bytes()
    seven = Path(tiff(tmp_path / "seven.tif", [1])).read_bytes()
    for operation, query, body in [("predict", "", seven), ("predict", "?activations=true", seven),
                                   ("predict", "", forms), ("read", "", seven),
                                   ("read", "?lines=true", seven), ("read", "?length=3&marks=true", seven),
                                   ("read", "", forms), ("read", "?inputs=true&lines=true", forms)]:
        status, _, answer = call(app, "POST", f"/api/{operation}{query}", body)
        assert status == 200
        jsonschema.validate(schema(f"/api/{operation}"), json.loads(answer))
    with pytest.raises(jsonschema.ValidationError):  # the schema says something
        jsonschema.validate(schema("/api/read"), {"text": "7"})


def test_a_documents_pages_read_in_turn_open_the_file_once(tmp_path, monkeypatch):
    # each page opened the file afresh and Pillow walked its chain of pages from the
    # first: the 1,000th page of a scanner's batch took 20 ms to reach
    forms = decode.pages(tiff(tmp_path / "forms.tif", [0, 1, 2] * 4))
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    drawn = [np.asarray(p.image()) for p in [*forms, *reversed(forms[:-1])]]
    assert opened == [forms[0].source, forms[0].source]  # closed once read to the end
    assert decode._LAST_TIFF.image is not None
    forms[-1].image()
    assert decode._LAST_TIFF.image is None
    assert [d.mean() < 250 for d in drawn[:3]] == [True, True, False]
    assert all(np.array_equal(a, b) for a, b in zip(drawn[:11], drawn[:10:-1]))


def test_a_document_rewritten_between_reads_is_read_as_it_now_is(tmp_path):
    path = tmp_path / "forms.tif"
    first = decode.pages(tiff(path, [0, 1]))
    assert np.asarray(first[1].image()).mean() < 250  # a 7
    second = decode.pages(tiff(path, [0, 2, 2]))  # the scanner's next batch, same name
    assert np.asarray(second[1].image()).mean() == 255  # blank paper, not the 7 kept open


def test_a_damaged_page_is_one_error_and_the_document_still_reads(tmp_path):
    path = tmp_path / "forms.tif"
    page(1).save(path, format="TIFF", save_all=True, append_images=[page(0)],
                 compression="tiff_adobe_deflate")
    with Image.open(path) as image:
        image.seek(1)
        start, length = image.tag_v2[273][0], image.tag_v2[279][0]  # its compressed strip
    data = bytearray(path.read_bytes())
    data[start:start + length] = bytes(length)
    path.write_bytes(bytes(data))
    first, second = decode.pages(str(path))
    with pytest.raises(ImageError, match=r"forms.tif:2: not a readable page"):
        second.image()
    assert np.asarray(first.image()).mean() < 250  # the file opened again, page 1 read


def test_a_local_documents_pages_go_to_a_remote_cluster_drawn(tmp_path):
    # a remote cluster's workers were sent the pages of a local TIFF as its path: not on
    # their disk, every page would be "no such file" there
    from digitnet.batch.dask import _with_bytes
    from digitnet.batch.sources import Input, SourceError

    path = tmp_path / "forms.tif"
    first, second = decode.pages(tiff(path, [0, 1]))
    sent = _with_bytes(Input("forms.tif:2", second))
    assert isinstance(sent.data, bytes)
    assert np.array_equal(np.asarray(decode.open_image(sent.data)), np.asarray(second.image()))
    path.unlink()  # gone before it is sent: that page's row says so
    gone = _with_bytes(Input("forms.tif:1", first)).data
    assert isinstance(gone, SourceError) and gone.message.startswith(f"{path}:1: not a readable page")


def test_the_spool_of_documents_is_removed_by_the_process_that_made_it_only(tmp_path):
    import os

    from digitnet.batch import sources

    folder = tmp_path / "spool"
    folder.mkdir()
    sources._remove_spool(str(folder), owner=-1)  # another process's: a forked worker's exit
    assert folder.exists()
    sources._remove_spool(str(folder), owner=os.getpid())
    assert not folder.exists()


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_spooled_document_is_removed_once_its_last_page_is_answered(tmp_path, jobs):
    # an archive's (or a URL's) documents were all kept in the spool until the process
    # ended: a run over many large PDFs held every one of them on disk
    from digitnet.batch import predict_many
    from digitnet.batch.sources import expand

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.write(tiff(tmp_path / "a.tif", [0, 1, 0]), "a.tif")
        z.write(tiff(tmp_path / "b.tif", [1, 0]), "b.tif")
    (tmp_path / "forms.zip").write_bytes(buffer.getvalue())
    inputs = list(expand([str(tmp_path / "forms.zip")]))
    a, b = Path(inputs[0].data.source), Path(inputs[3].data.source)
    assert a != b and a.exists() and b.exists()
    results = predict_many(inputs, MODEL, jobs=jobs, batch_size=1)
    assert next(results).answer == "1"
    assert a.exists()  # pages 2 and 3 still to read
    rest = list(results)
    assert [r.answer for r in rest] == ["7", "1", "7", "1"]
    assert not a.exists() and not b.exists()
