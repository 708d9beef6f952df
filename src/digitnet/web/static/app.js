// digitnet drawing page: pointer events on a canvas, predictions while drawing.
const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const seen = document.getElementById("seen");
const boxes = document.getElementById("boxes");   // over the pad: the digits of a number read
let drawing = false, dirty = false, busy = false, last = null;
let latest = 0;   // number of the latest request: answers to earlier ones are stale
// where the picture last sent lies on the pad, to draw its digits' boxes there: the pad
// itself, or an uploaded picture drawn into it (its scale and offset); null: not shown
const PAD = { scale: 1, dx: 0, dy: 0 };
let uploaded = null;   // the picture uploaded last, while the pad shows it undrawn on

function clearPad() {
  latest++;   // an answer still on its way is for the drawing just wiped
  uploaded = null;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  show("?", "draw something");
  clearDetails();
}

// the bars, the 28x28 input and the layers: only a digit's answer has them; the boxes
// over the pad only a number's read from it
function clearDetails() {
  document.getElementById("bars").innerHTML = "";
  document.getElementById("layers").innerHTML = "";
  seen.getContext("2d").clearRect(0, 0, seen.width, seen.height);
  boxes.getContext("2d").clearRect(0, 0, boxes.width, boxes.height);
  document.getElementById("inside").hidden = true;   // a digit's answer shows it again
}

function point(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
}

pad.addEventListener("pointerdown", e => { drawing = true; last = point(e); pad.setPointerCapture(e.pointerId); stroke(e); });
pad.addEventListener("pointermove", e => { if (drawing) stroke(e); });
pad.addEventListener("pointerup", () => { drawing = false; send(); });
pad.addEventListener("pointercancel", () => { drawing = false; });

function stroke(e) {
  const p = point(e);
  uploaded = null;   // drawn on: the pad is what is read now
  ctx.strokeStyle = "#111"; ctx.lineWidth = 18; ctx.lineCap = "round"; ctx.lineJoin = "round";
  ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(p[0], p[1]); ctx.stroke();
  last = p; dirty = true;
}

setInterval(() => { if (dirty && !busy) send(); }, 250);   // update while drawing

// A single digit is sent at half the pad's size: a quarter of the pixels for the server
// to decode and clean (1.2 ms instead of 3.5 ms), still far above the 20 pixels the
// digit is scaled to. A number keeps every pixel, for the cuts between its digits.
const half = document.createElement("canvas");
half.width = pad.width / 2; half.height = pad.height / 2;

// A request is numbered when it is sent, not when its PNG is ready (toBlob answers
// later): a pad sent just before a picture is uploaded is then stale, however late.
function send(blob, where = null) {
  dirty = false;
  busy = true;
  const mine = ++latest;
  if (blob) return post(blob, where, mine);
  if (document.getElementById("number-mode").checked) return pad.toBlob(b => post(b, PAD, mine), "image/png");
  const c = half.getContext("2d");
  c.imageSmoothingQuality = "high";
  c.drawImage(pad, 0, 0, half.width, half.height);
  half.toBlob(b => post(b, null, mine), "image/png");
}

async function post(blob, where, mine) {
  const number = document.getElementById("number-mode").checked;
  const url = !number ? "/api/predict?activations=true" : `/api/read?inputs=true${field()}`;
  let answer = null, result = null;
  try {
    answer = await fetch(url, { method: "POST", body: blob, headers: { "Content-Type": blob.type || "application/octet-stream" } });
    result = await answer.json().catch(() => null);   // a proxy's error page is not JSON
  } catch (err) {
    answer = null;   // no answer at all
  } finally { busy = false; }
  if (mine !== latest) return;   // the pad was cleared, or a newer drawing sent, meanwhile
  if (answer && answer.status === 422 && result && /^no digit/.test(result.error || "")) {
    clearDetails();
    show("?", number ? "no digits found" : "no digit found");   // a blank pad: not a failure
    return;
  }
  if (!answer || !answer.ok || !result) {
    clearDetails();
    const status = answer && `the server answered ${answer.status} ${answer.statusText}`.trim();
    show("!", (result && result.error) || status || "the server did not answer");
    return;
  }
  if (result.pages) return showPages(result.pages, number);
  number ? showNumber(result, where) : showDigit(result);
}

// a document of several pages (a multi-page TIFF, a PDF): each page's answer in turn
function showPages(pages, number) {
  clearDetails();
  const said = pages.map(p => p.error ? "?" : number ? p.text : String(p.digit));
  const unread = pages.filter(p => p.error).length;
  show(said.join(" "), `${pages.length} pages` + (unread ? `, ${unread} without a digit read` : ""));
}

function show(big, small) {
  document.getElementById("answer").textContent = big;
  document.getElementById("confidence").textContent = small;
}

function showDigit(r) {
  clearDetails();
  if (r.digit === null) { show("?", "no digit found"); return; }
  const sure = `${(100 * r.confidence).toFixed(1)}% sure`;
  show(String(r.digit), r.several_digits ? `${sure}, but this looks like several digits: tick "read a whole number"` : sure);
  const bars = document.getElementById("bars");
  bars.innerHTML = "";
  r.probabilities.forEach((p, d) => {
    bars.insertAdjacentHTML("beforeend",
      `<span>${d}</span><div class="bar${d === r.digit ? " top" : ""}" style="width:${(100 * p).toFixed(1)}%"></div><span>${(100 * p).toFixed(1)}%</span>`);
  });
  paint(seen, r.input, 28, 28, 4);
  document.getElementById("inside").hidden = !(r.activations || []).length;
  const layers = document.getElementById("layers");
  layers.innerHTML = "";
  (r.activations || []).forEach((layer, i) => {
    const c = document.createElement("canvas");
    if (layer.kind === "vector") {
      const w = Math.min(layer.shape[0], 32), h = Math.ceil(layer.shape[0] / w);
      paint(c, layer.values, h, w, 6);
    } else {
      const [n, h, w] = layer.shape, cols = Math.min(n, 8), rows = Math.ceil(n / cols);
      const grid = new Array(rows * h * cols * w).fill(0);
      for (let k = 0; k < n; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++)
        grid[((Math.floor(k / cols) * h + y) * cols + k % cols) * w + x] = layer.values[(k * h + y) * w + x];
      paint(c, grid, rows * h, cols * w, 5);
    }
    c.title = `hidden layer ${i + 1}: ${layer.shape.join(" x ")}`;
    layers.appendChild(c);
  });
}

// the "digits" field: a length (6), a pattern (dd/dd/dddd), a check digit's rule (luhn), or
// a pattern and a rule ("dd/dd/dddd dmy": a date, day first), as the API's query (the server
// says if it is none)
function field() {
  const asked = document.getElementById("length").value.trim();
  if (/^\d+$/.test(asked)) return +asked >= 1 && +asked <= 20 ? `&length=${+asked}` : "";
  const rule = word => /^[a-z][a-z0-9]*$/.test(word) && /[a-ce-z]/.test(word);  // a word, not d's
  if (rule(asked)) return `&check=${asked}`;
  const both = asked.match(/^(.*\S)\s+(\S+)$/);
  if (both && /d/.test(both[1]) && rule(both[2]))
    return `&pattern=${encodeURIComponent(both[1])}&check=${both[2]}`;
  return /d/.test(asked) ? `&pattern=${encodeURIComponent(asked)}` : "";
}

// the digits with the marks between them ("12/05/2026"), an unsure digit followed by "?"
function spelled(r) {
  const out = r.digits.map(d => d.unsure ? d.digit + "?" : String(d.digit));
  (r.marks || []).slice().reverse().forEach(m => out.splice(m.after, 0, m.mark));
  return out.join("");
}

function showNumber(r, where) {
  clearDetails();
  if (!r.text) { show("?", "no digits found"); return; }
  // the confidence is calibrated: the chance that the whole number is right
  const sure = `${(100 * r.confidence).toFixed(1)}% sure`;
  const said = r.off_length ? `no reading of that many digits: ${sure}`
    : r.check_failed ? `no reading keeps the rule asked: ${sure}`
    : r.forced ? `${sure}: read at the length asked, check it`
    : r.corrected ? `${sure}: mended to keep the rule asked, check it`
    : r.rejected ? `${sure}: too unsure to accept` : sure;
  show(spelled(r), r.other_lines ? `${said}; more lines above or below, not read` : said);
  if (where) drawBoxes(r.digits, where);   // (the boxes are in the picture's pixels)
  if (r.digits.every(d => d.input)) paintInputs(r.digits);
}

// each digit's 28x28 piece, as the classifier sees it, side by side (2 columns apart)
function paintInputs(digits) {
  const n = digits.length, w = 30 * n - 2, row = new Array(28 * w).fill(0);
  digits.forEach((d, k) => {
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) row[y * w + 30 * k + x] = d.input[y * 28 + x];
  });
  paint(seen, row, 28, w, Math.max(1, Math.min(4, Math.floor(360 / w))));
}

// each digit's box and the digit read in it, over the drawing: which strokes made which digit
function drawBoxes(digits, where) {
  const c = boxes.getContext("2d");
  c.lineWidth = 2; c.font = "bold 18px system-ui, sans-serif"; c.textBaseline = "bottom";
  digits.forEach(d => {
    const [left, top, right, bottom] = d.box.map((v, i) => (i % 2 ? where.dy : where.dx) + v * where.scale);
    c.strokeStyle = c.fillStyle = d.unsure ? "#d9480f" : "#2f6fed";
    c.strokeRect(left + 0.5, top + 0.5, right - left, bottom - top);
    c.fillText(d.unsure ? d.digit + "?" : String(d.digit), left + 2, Math.max(18, top - 2));
  });
}

function paint(canvas, values, h, w, scale) {
  canvas.width = w * scale; canvas.height = h * scale;
  const c = canvas.getContext("2d"), max = Math.max(1e-6, ...values);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const v = Math.round(255 * Math.max(0, values[y * w + x] || 0) / max);
    c.fillStyle = `rgb(${v},${v},${v})`; c.fillRect(x * scale, y * scale, scale, scale);
  }
}

document.getElementById("clear").addEventListener("click", clearPad);
// read again at the length or pattern asked: the picture uploaded, or the pad
document.getElementById("length").addEventListener("change", () => { if (uploaded) upload(uploaded); else dirty = true; });
document.getElementById("file").addEventListener("change", e => { if (e.target.files[0]) upload(e.target.files[0]); });

// an uploaded picture is shown in the pad, scaled to fit, and sent as it is; a document
// (a TIFF, a PDF: a browser does not draw them) is sent without being shown
function upload(file) {
  const url = URL.createObjectURL(file), img = new Image();
  img.onload = () => {
    URL.revokeObjectURL(url);
    const scale = Math.min(pad.width / img.naturalWidth, pad.height / img.naturalHeight);
    const where = { scale, dx: (pad.width - img.naturalWidth * scale) / 2, dy: (pad.height - img.naturalHeight * scale) / 2 };
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, pad.width, pad.height);
    ctx.drawImage(img, where.dx, where.dy, img.naturalWidth * scale, img.naturalHeight * scale);
    uploaded = file;
    send(file, where);
  };
  img.onerror = () => { URL.revokeObjectURL(url); uploaded = null; send(file); };
  img.src = url;
}
fetch("/api/model").then(r => r.json()).then(m => {
  const acc = m.metrics && m.metrics.test_accuracy ? ` (${(100 * m.metrics.test_accuracy).toFixed(2)}% on the MNIST test set)` : "";
  document.getElementById("model").textContent = `Model: ${m.kind === "ensemble" ? m.members + " networks" : (m.training.recipe || "network")}${acc}. digitnet ${m.digitnet_version}.`;
});
clearPad();
