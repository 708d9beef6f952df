"""digitnet read: the number written in each image."""

import json
import sys


def add_parser(sub):
    from . import batchmode, path

    p = sub.add_parser("read", help="read a written number (1 to 20 digits) in each image",
                       description="Read the digits written left to right in each image: "
                       "a form's print (the line it is written on, boxes, ticks, a frame) or a circle "
                       "drawn round the number is taken out (a pen lying beside it left out; digits "
                       "far apart or in groups are one number), a line photographed askew (up to 30 "
                       "degrees) turned level, then cut "
                       "into candidate digits (connected components, trial cuts of touching "
                       "ones, a pen's joining strokes cut out) scored by the classifier and a "
                       "reader of the whole line, which also restores a digit written over its "
                       "neighbour that the cuts drop. "
                       "Confidences are calibrated: the chance of being right "
                       "(docs/confidence.md). A number below --min-confidence is reported as "
                       "rejected, and its digits below it are flagged with '?'.")
    p.add_argument("images", nargs="*", metavar="IMAGE", type=path,
                   help="image files, or folders of images; multi-page TIFF and PDF documents "
                   "page by page (PDF: pip install 'digitnet[pdf]'); in batch mode also zip and "
                   "tar archives, glob patterns and URLs (s3://, https://...)")
    p.add_argument("--model", type=path,
                   help="model file (.npz), or `cnn` / `ensemble` for a shipped one; default: "
                        "the best model shipped with digitnet (the ensemble)")
    p.add_argument("--min-confidence", type=float, default=0.5, metavar="P",
                   help="report a number less sure than P as rejected (JSON: \"rejected\": true) "
                   "and flag its digits less sure than P with '?' (default 0.5)")
    p.add_argument("--marks", action="store_true",
                   help="write the points, commas, colons, dashes and spaces between groups of digits, and "
                   "a minus before them, into the text (1,250.00, 555-0142, 5041 9238, -42); the "
                   "digits are read the same either way")
    p.add_argument("--length", type=int, metavar="N",
                   help="the number has N digits (a postcode, an account number): a reading of "
                   "another length is replaced by the best of N digits, its confidence at most "
                   "0.4; where there is none, it stands with confidence 0 (rejected)")
    p.add_argument("--pattern", metavar="P",
                   help="the field's pattern, d a digit and the marks / : . , - or a space between "
                   "(a date dd/dd/dddd, a time dd:dd, a phone number ddd-dddd), d? a digit that may "
                   "be missing (d?d/d?d/dddd: 7/3/2026 or 07/03/2026) and | between patterns "
                   "(ddddd|ddddd-dddd): the number is read as with --length and written in the "
                   "pattern; a slash, which reads as a 1, is taken for the pattern's where a 1 "
                   "stands just there")
    p.add_argument("--check", metavar="RULE",
                   help="the rule of the number's check digit: luhn (cards, many accounts), gtin "
                   "(barcodes' numbers), aba (US routing numbers), verhoeff, mod11 (ISBN-10s, NHS "
                   "numbers), or a date's order: dmy, mdy, ymd (a day of the calendar, a 4-digit "
                   "year 1900-2099, in --pattern's groups, else read as --pattern "
                   "'d?d/d?d/dddd|d?d/d?d/dd|d?d/d?d' in its order), or hm, a time of the 24-hour "
                   "clock (d?d:dd); a reading that breaks it "
                   "is mended to the most probable one that keeps it (its changed digits unsure, "
                   "JSON \"corrected\": true), or rejected where none can")
    p.add_argument("--lines", action="store_true",
                   help="read every line of writing, top to bottom (an envelope's postcode and "
                   "house number), not only the dominant one: one answer per line (in batch "
                   "mode one row, the lines joined by spaces)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per line: path, text, confidence, digits with boxes "
                   "(and with --marks, each mark with its box; with --lines, path and lines, "
                   "one such answer a line of writing)")
    p.add_argument("--save-input", metavar="DIR", type=path,
                   help="save what was read as DIR/<name>.read.png (DIR made if missing): the "
                   "line of ink as the readers saw it (turned level, a form's print taken out), "
                   "each digit's box and reading, and under it each digit's piece in 28x28 as the "
                   "classifier sees it, marked 'pair' or 'line' where the pair reader or the "
                   "reader of the whole line read it (with --lines, a picture a line: "
                   "<name>.read.png, <name>.line2.read.png...)")
    p.add_argument("--review", metavar="DIR", type=path,
                   help="save each rejected number (below --min-confidence) drawn as --save-input "
                   "draws it, for a person to key in, as DIR/<name>-<hash>.read.png (the hash of "
                   "the input's whole name); in batch mode too, by the workers (a remote "
                   "cluster's: a folder they share)")
    batchmode.add_options(p, "read")
    return p


def run(args):
    from pathlib import Path

    from ..calibration import for_model
    from ..errors import ImageError
    from ..nn.network import for_inference
    from ..pretrained import resolve_model
    from ..read import drawn, not_a_digit_reader, read_lines, read_number
    from ..read.checks import check, length_of, pattern_of
    from ..read.decode import field_options
    from . import EXIT_USAGE, batchmode, fail, shown
    from .predict import _check_writable, _expand, _saved_names, answer, pages_of, report_failure, with_path

    if not 0 <= args.min_confidence <= 1:
        fail(f"--min-confidence must be between 0 and 1, not {args.min_confidence}")
    if args.length is not None and not 1 <= args.length <= 20:
        fail(f"--length must be between 1 and 20 (the digits digitnet reads), not {args.length}")
    try:
        field_options(args.length, args.pattern, args.check, args.lines, named=lambda option: f"--{option}")
    except ValueError as e:
        fail(str(e))
    implied = length_of(args.check) if args.check is not None else None  # (aba: 9)
    # (a date's rule reads with its own pattern where none or no length is given)
    implied_pattern = pattern_of(args.check) if args.check and not args.pattern and not args.length else None
    if batchmode.wanted(args):
        return _batch(args)
    if not args.images:
        fail("no images given (see digitnet read --help)")
    for flag, folder in (("--save-input", args.save_input), ("--review", args.review)):
        if folder:
            _check_writable(folder, flag)
    paths = list(_expand(args.images))  # a folder stands for its images, as in predict
    if not paths:
        fail("no images found in " + " ".join(map(shown, args.images)))
    net = resolve_model(args.model)
    unfit = not_a_digit_reader(net)
    if unfit:
        fail(f"read needs a classifier of the ten digits; {shown(args.model)} has {unfit}")
    net = for_inference(net)  # batch normalisation folded: the same strings, sooner
    calibration = for_model(args.model)
    inputs = [(name, source, Path(path).stem if name == path else f"{Path(path).stem}-{k + 1}")
              for path in paths for k, (name, source) in enumerate(pages_of(path))]
    files = (_saved_names(args.save_input, [stem for _, _, stem in inputs], ".read.png")
             if args.save_input else [None] * len(inputs))
    failed = 0
    for (path, source, _), file in zip(inputs, files):
        try:
            if isinstance(source, ImageError):  # a multi-page file that cannot be read
                raise source
            if isinstance(source, str) and not Path(path).is_file():
                raise ImageError(f"{path}: no such file")
            if args.lines:
                readings = [calibration.reading(r, args.min_confidence)
                            for r in read_lines(source, net, marks=args.marks)]
            else:
                readings = [calibration.reading(read_number(source, net, marks=args.marks, length=args.length,
                                                            pattern=args.pattern, check=args.check),
                                                args.min_confidence)]
        except ImageError as e:  # unreadable or blank: reported, and the other images still read
            failed += 1
            report_failure(path, with_path(path, e), args.json,
                           {"lines": []} if args.lines else {"text": "", "confidence": 0.0, "digits": []})
            continue
        answers = [{**r.as_dict(), "rejected": r.confidence < args.min_confidence} for r in readings]
        if file:
            drawn.save(readings, file)
        if args.review:
            drawn.save_for_review(readings, args.min_confidence, args.review, path)
        if args.json:
            print(json.dumps({"path": path, "lines": answers} if args.lines
                             else {"path": path, **answers[0]}))
            continue
        for n, (reading, said) in enumerate(zip(readings, answers)):
            where = f"{shown(path)} line {n + 1}" if args.lines else shown(path)
            marked = reading.spelled(flag_unsure=True)
            field = (f"the pattern {args.pattern or implied_pattern}" if args.pattern or implied_pattern
                     else f"{args.length or implied} digits")
            told = (f"; forced to {field}" if said.get("forced") else
                    f"; no reading of {field}" if said.get("off_length") else "")
            order = check(args.check).order if args.check is not None else None
            kept = (f"its {args.check} check digit" if order is None else
                    f"a time ({args.check})" if order == "hm" else f"a date ({args.check})")
            told += (f"; mended to keep {kept}" if said.get("corrected") else
                     f"; no reading keeps {kept}" if said.get("check_failed") else "")
            print(f"{where}: {answer(marked, reading.confidence, said, args.min_confidence)}{told}")
        if not args.lines and readings[0].other_lines:
            print(f"digitnet: {shown(path)} has more writing above or below the number read; "
                  "--lines reads every line", file=sys.stderr)
    return EXIT_USAGE if failed else 0


def _batch(args):
    import os

    from ..batch import READ_BATCH
    from ..batch.work import Task
    from . import batchmode

    batchmode.refuse(args, ["--json", "--save-input"])
    from .predict import _check_writable

    if args.review:
        _check_writable(args.review, "--review")
    return batchmode.run(args, Task("read", args.model, min_confidence=args.min_confidence,
                                    marks=args.marks, lines=args.lines, length=args.length,
                                    pattern=args.pattern, check=args.check,
                                    review=args.review and os.path.abspath(args.review),
                                    batch_size=READ_BATCH))
