/* Loupe teaching set: the page's behaviour (decision 0145). Everything it shows comes from the
   JSON in <script id="teaching-data">; every text goes into the page through textContent or an
   attribute, never as HTML, so a case text holding "<script>" shows as those characters.
   Keys: Left/Right (or P/N) previous/next case, Up/Down the case's images, R reveal, Enter check
   the answer, W next window, B boxes, L labels, 1-9 the label to mark with, Delete the selected
   mark, ? the keys. */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("teaching-data").textContent);
  var Score = window.LoupeScore;
  var SVG = "http://www.w3.org/2000/svg";
  var cases = DATA.cases || [];
  var labels = DATA.labels || [];
  var colour = {};
  labels.forEach(function (l) { colour[l.name] = l.color; });

  var state = {
    index: 0, image: 0, label: labels.length ? labels[0].name : null,
    showBoxes: true, showLabels: true, selected: -1, drawing: null,
    cases: cases.map(function () {
      return { marks: [], diagnosis: "", other: "", revealed: false, score: null, windows: {} };
    })
  };

  // ----- small DOM helpers (text only) --------------------------------------------------------
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] === null || attrs[k] === undefined) return;
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else if (k === "bg") node.style.backgroundColor = attrs[k];  // CSSOM: allowed by the page's CSP
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]);
    });
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function labelColour(name) { return colour[name] || "#56B4E9"; }
  function pct(x) { return Math.round(x * 100) + "%"; }
  function current() { return cases[state.index]; }
  function cs() { return state.cases[state.index]; }
  function image() { return current().images[state.image]; }
  function plural(n, one, many) { return n + " " + (n === 1 ? one : (many || one + "s")); }

  // ----- case navigation ----------------------------------------------------------------------
  function go(index) {
    if (!cases.length) return;
    state.index = Math.max(0, Math.min(cases.length - 1, index));
    state.image = 0;
    state.selected = -1;
    state.drawing = null;
    render();
  }
  function setImage(i) {
    var n = current().images.length;
    state.image = (i + n) % n;
    state.selected = -1;
    renderViewer();
  }

  function render() {
    if (!cases.length) {
      $("case-panel").hidden = true;
      $("empty").hidden = false;
      return;
    }
    renderHeader();
    renderViewer();
    renderPanel();
    renderSummary();
  }

  function renderHeader() {
    var c = current();
    $("case-count").textContent = "Case " + (state.index + 1) + " of " + cases.length;
    $("prev").disabled = state.index === 0;
    $("next").disabled = state.index === cases.length - 1;
    var pick = clear($("case-pick"));
    cases.forEach(function (k, i) {
      var st = state.cases[i];
      var mark = st.score ? " \u2713" : st.revealed ? " \u2022" : "";
      pick.appendChild(el("option", { value: String(i), text: "Case " + (i + 1) + mark }));
    });
    pick.value = String(state.index);
    document.title = (DATA.title || "Teaching set") + " \u00b7 Case " + (state.index + 1) + (c ? "" : "");
  }

  // ----- the image, its windows and the boxes over it -----------------------------------------
  function windowIndex() {
    var st = cs().windows;
    return st[state.image] || 0;
  }
  function renderViewer() {
    var img = image(), wi = windowIndex();
    var variant = img.windows[wi] || img.windows[0];
    var pic = $("picture");
    if (pic.getAttribute("src") !== variant.src) pic.setAttribute("src", variant.src);
    pic.setAttribute("alt", "Case " + (state.index + 1) + ", image " + (state.image + 1) +
                     (img.modality ? " (" + img.modality + ")" : ""));
    var overlay = $("overlay");
    overlay.setAttribute("viewBox", "0 0 " + img.width + " " + img.height);
    fit();
    renderOverlay();
    var bar = clear($("windows"));
    if (img.windows.length > 1) {
      bar.appendChild(el("span", { class: "bar-label", text: "Window" }));
      img.windows.forEach(function (w, i) {
        bar.appendChild(el("button", {
          class: "chip" + (i === wi ? " on" : ""), "aria-pressed": String(i === wi), title: w.detail || "",
          text: w.name, onclick: function () { cs().windows[state.image] = i; renderViewer(); }
        }));
      });
    } else if (img.windows.length === 1 && img.windows[0].detail) {
      bar.appendChild(el("span", { class: "bar-label", text: img.windows[0].name }));
    }
    var strip = clear($("images"));
    if (current().images.length > 1) {
      strip.appendChild(el("span", { class: "bar-label", text: "Image" }));
      current().images.forEach(function (_im, i) {
        strip.appendChild(el("button", {
          class: "chip" + (i === state.image ? " on" : ""), "aria-pressed": String(i === state.image),
          text: String(i + 1), onclick: function () { setImage(i); }
        }));
      });
    }
    $("modality").textContent = (img.modality ? img.modality + " \u00b7 " : "") + img.width + " \u00d7 " + img.height;
  }

  function fit() {
    var img = image(), stage = $("stage"), frame = $("frame");
    var aw = Math.max(50, stage.clientWidth - 16), ah = Math.max(50, stage.clientHeight - 16);
    var scale = Math.min(aw / img.width, ah / img.height, 4);
    frame.style.width = Math.floor(img.width * scale) + "px";
    frame.style.height = Math.floor(img.height * scale) + "px";
    state.scale = scale;
  }

  function boxesOf(list) {
    return list.filter(function (b) { return (b.image || 0) === state.image; });
  }

  function renderOverlay() {
    var overlay = clear($("overlay"));
    var c = current(), st = cs(), img = image();
    var scale = state.scale || 1;  // sizes in image pixels that look the same on any screen
    var stroke = 2 / scale;
    var font = 13 / scale;
    var iouOf = st.score ? learnerIou(st.score) : {};
    var hitExpert = st.score ? expertHits(st.score) : {};
    if (st.revealed && state.showBoxes) {
      c.boxes.forEach(function (b, i) {
        if ((b.image || 0) !== state.image) return;
        var missed = st.score && !(i in hitExpert);
        var g = svg("g", { class: "expert" + (missed ? " missed" : "") });
        g.appendChild(svg("rect", { x: b.x, y: b.y, width: b.w, height: b.h, fill: "none",
                                    stroke: labelColour(b.label), "stroke-width": stroke }));
        if (state.showLabels) g.appendChild(tag(b.x, b.y, b.label + (missed ? " (missed)" : ""),
                                                 labelColour(b.label), font));
        overlay.appendChild(g);
      });
    }
    st.marks.forEach(function (m, j) {
      if ((m.image || 0) !== state.image) return;
      var kind = st.score ? (j in iouOf ? "hit" : "false") : "mark";
      var g = svg("g", { class: "learner " + kind + (j === state.selected ? " selected" : ""),
                         "data-index": String(j) });
      var r = svg("rect", { x: m.x, y: m.y, width: m.w, height: m.h, "stroke-width": stroke * 1.25,
                            "stroke-dasharray": kind === "mark" ? "" : (stroke * 4) + " " + (stroke * 3) });
      g.appendChild(r);
      var text = "Your " + m.label;
      if (kind === "hit") text += " \u2713 IoU " + iouOf[j].toFixed(2);
      if (kind === "false") text += " \u2717";
      g.appendChild(tag(m.x, m.y + m.h, text, null, font, true));
      if (!st.revealed) {
        g.addEventListener("pointerdown", function (ev) {
          ev.stopPropagation();
          state.selected = j;
          renderOverlay();
          renderMarks();
        });
      }
      overlay.appendChild(g);
    });
    if (state.drawing) {
      var d = normRect(state.drawing);
      overlay.appendChild(svg("rect", { class: "drawing", x: d.x, y: d.y, width: d.w, height: d.h,
                                        "stroke-width": stroke }));
    }
    overlay.classList.toggle("can-draw", canDraw());
    fitTags(overlay, font);
    void img;
  }

  // each tag's background as wide as its text really is (the font is the system's)
  function fitTags(overlay, font) {
    Array.prototype.forEach.call(overlay.querySelectorAll(".tag"), function (g) {
      var text = g.querySelector("text"), rect = g.querySelector("rect");
      try {
        var w = text.getComputedTextLength();
        if (w > 0) rect.setAttribute("width", w + font * 0.8);
      } catch (e) { /* not laid out yet: the estimate stays */ }
    });
  }

  function tag(x, y, text, fill, font, below) {
    var g = svg("g", { class: "tag" });
    var w = text.length * font * 0.58 + font * 0.8, h = font * 1.45;
    var ty = below ? y : y - h;
    if (ty < 0) ty = y;
    g.appendChild(svg("rect", { x: x, y: ty, width: w, height: h, rx: font * 0.2,
                                fill: fill || "rgba(0,0,0,0.7)" }));
    g.appendChild(svg("text", { x: x + font * 0.4, y: ty + h * 0.72, "font-size": font, text: text }));
    return g;
  }

  function learnerIou(score) {
    var out = {};
    score.pairs.forEach(function (p) { out[p[1]] = p[2]; });
    return out;
  }
  function expertHits(score) {
    var out = {};
    score.pairs.forEach(function (p) { out[p[0]] = true; });
    return out;
  }

  // ----- drawing the learner's marks ----------------------------------------------------------
  function canDraw() {
    return DATA.quiz && !cs().revealed && !!state.label;
  }
  function toImage(ev) {
    var overlay = $("overlay");
    var pt = overlay.createSVGPoint();
    pt.x = ev.clientX; pt.y = ev.clientY;
    var p = pt.matrixTransform(overlay.getScreenCTM().inverse());
    var img = image();
    return { x: Math.max(0, Math.min(img.width, p.x)), y: Math.max(0, Math.min(img.height, p.y)) };
  }
  function normRect(d) {
    return { x: Math.min(d.x0, d.x1), y: Math.min(d.y0, d.y1),
             w: Math.abs(d.x1 - d.x0), h: Math.abs(d.y1 - d.y0) };
  }
  function startDraw(ev) {
    if (!canDraw() || ev.button !== 0) return;
    var p = toImage(ev);
    state.drawing = { x0: p.x, y0: p.y, x1: p.x, y1: p.y };
    state.selected = -1;
    $("overlay").setPointerCapture(ev.pointerId);
    ev.preventDefault();
    renderOverlay();
  }
  function moveDraw(ev) {
    if (!state.drawing) return;
    var p = toImage(ev);
    state.drawing.x1 = p.x; state.drawing.y1 = p.y;
    renderOverlay();
  }
  function endDraw(ev) {
    if (!state.drawing) return;
    moveDraw(ev);
    var r = normRect(state.drawing);
    state.drawing = null;
    var minSide = 4 / (state.scale || 1);  // a click, not a drag: no mark
    if (r.w >= minSide && r.h >= minSide) {
      var m = { label: state.label, x: round(r.x), y: round(r.y), w: round(r.w), h: round(r.h),
                image: state.image };
      cs().marks.push(m);
      state.selected = cs().marks.length - 1;
    }
    renderOverlay();
    renderMarks();
  }
  function round(v) { return Math.round(v * 10) / 10; }
  function deleteMark(j) {
    if (cs().revealed || j < 0 || j >= cs().marks.length) return;
    cs().marks.splice(j, 1);
    state.selected = -1;
    renderOverlay();
    renderMarks();
  }

  // ----- the panel: history, the question, the answers ----------------------------------------
  function renderPanel() {
    var c = current(), st = cs(), f = c.fields;
    $("case-title").textContent = "Case " + (state.index + 1) + (st.revealed && c.title ? ": " + c.title : "");
    var diff = $("difficulty");
    diff.textContent = f.difficulty || "";
    diff.hidden = !f.difficulty;
    $("history").textContent = f.history || "No history given.";
    $("history").classList.toggle("muted", !f.history);
    renderQuiz();
    renderAnswers();
    $("reveal").hidden = st.revealed;
  }

  function renderQuiz() {
    var c = current(), st = cs();
    var quiz = $("quiz");
    quiz.hidden = !DATA.quiz || (st.revealed && !st.score);  // revealed without an answer: nothing to show
    renderScore();
    if (!DATA.quiz) return;
    quiz.classList.toggle("answered", !!st.score);
    var findings = $("quiz-findings");
    findings.hidden = !labels.length || (st.score && !st.marks.length && !c.boxes.length);
    $("findings-head").textContent = st.revealed ? "Your marks" : "Mark the findings";
    $("label-pick").hidden = st.revealed;
    var pick = clear($("label-pick"));
    labels.forEach(function (l, i) {
      var on = l.name === state.label;
      pick.appendChild(el("button", {
        class: "chip label-chip" + (on ? " on" : ""), "aria-pressed": String(on),
        title: i < 9 ? "Key " + (i + 1) : "", disabled: st.revealed ? "disabled" : null,
        onclick: function () { state.label = l.name; renderQuiz(); renderOverlay(); }
      }, [el("span", { class: "swatch", bg: safeColour(l.color) }),
          el("span", { text: l.name })]));
    });
    $("draw-hint").textContent = "Drag on the image to mark each finding with the chosen label.";
    $("draw-hint").hidden = st.revealed;
    renderMarks();
    var dx = $("quiz-diagnosis");
    var hasDx = !!c.fields.diagnosis;
    dx.hidden = !hasDx;
    var list = clear($("choices"));
    (c.choices || []).forEach(function (choice, i) {
      var id = "choice-" + i;
      var input = el("input", { type: "radio", name: "dx", id: id, value: choice });
      input.checked = st.diagnosis === choice && !st.other;
      input.disabled = st.revealed;
      input.addEventListener("change", function () { st.diagnosis = choice; st.other = ""; $("other").value = ""; });
      var row = el("label", { class: "choice", for: id }, [input, el("span", { text: choice })]);
      if (st.score && st.revealed) {
        if (Score.normaliseDiagnosis(choice) === Score.normaliseDiagnosis(c.fields.diagnosis)) row.classList.add("right");
        else if (choice === st.diagnosis && !st.other) row.classList.add("wrong");
      }
      list.appendChild(row);
    });
    var other = $("other");
    other.value = st.other;
    other.disabled = st.revealed;
    $("other-row").hidden = st.revealed && !st.other;
    $("check").disabled = st.revealed;
    $("check").hidden = st.revealed;
    $("clear").hidden = st.revealed || !st.marks.length;
  }

  function safeColour(c) { return /^#[0-9a-fA-F]{3,8}$/.test(c || "") ? c : "#56B4E9"; }

  function renderMarks() {
    var st = cs();
    var list = clear($("marks"));
    st.marks.forEach(function (m, j) {
      var item = el("li", { class: j === state.selected ? "selected" : "" }, [
        el("span", { class: "swatch", bg: safeColour(labelColour(m.label)) }),
        el("span", { text: m.label + (cases[state.index].images.length > 1 ? " (image " + ((m.image || 0) + 1) + ")" : "") }),
      ]);
      if (!st.revealed) {
        item.appendChild(el("button", { class: "link", title: "Delete this mark (Delete)", text: "Remove",
                                        onclick: function () { deleteMark(j); } }));
        item.addEventListener("click", function (ev) {
          if (ev.target.tagName === "BUTTON") return;
          state.selected = j;
          if ((m.image || 0) !== state.image) setImage(m.image || 0); else { renderOverlay(); renderMarks(); }
        });
      }
      list.appendChild(item);
    });
    $("marks-empty").textContent = st.revealed ? "You marked nothing." : "No marks yet.";
    $("marks-empty").hidden = st.marks.length > 0;
    $("clear").hidden = st.revealed || !st.marks.length;
  }

  function check() {
    var c = current(), st = cs();
    if (st.revealed) return;
    var other = $("other").value.trim();
    st.other = other;
    var given = other || st.diagnosis;
    st.score = Score.scoreCase(c.boxes, st.marks, c.fields.diagnosis || "", given);
    st.revealed = true;
    state.selected = -1;
    render();
    $("score").focus();
  }

  function reveal() {
    var st = cs();
    if (st.revealed) return;
    st.revealed = true;
    state.selected = -1;
    render();
  }

  function renderScore() {
    var st = cs(), c = current();
    var box = clear($("score"));
    box.hidden = !st.score;
    if (!st.score) return;
    var s = st.score;
    box.appendChild(el("h3", { text: "Your score" }));
    if (labels.length && (s.expert_boxes || s.learner_marks)) {
      var line = s.hits + " of " + plural(s.expert_boxes, "finding") + " found";
      var parts = [line, plural(s.false_marks, "false mark")];
      if (s.mean_iou !== null) parts.push("mean IoU " + s.mean_iou.toFixed(2));
      box.appendChild(el("p", { class: "score-line", id: "score-boxes", text: parts.join(" \u00b7 ") }));
      var rows = Object.keys(s.per_label).map(function (k) {
        var t = s.per_label[k];
        return el("tr", {}, [
          el("td", {}, [el("span", { class: "swatch", bg: safeColour(labelColour(k)) }),
                        el("span", { text: k })]),
          el("td", { text: t.hits + " / " + t.expert }),
          el("td", { text: String(t.misses) }),
          el("td", { text: String(t.false_marks) })]);
      });
      box.appendChild(el("p", { class: "hint", text: "On the image: your marks in green (found) or red (false " +
                                "mark), the expert's boxes in the label's colour, dashed where you missed one." }));
      box.appendChild(el("table", { class: "per-label" }, [
        el("thead", {}, [el("tr", {}, [el("th", { text: "Label" }), el("th", { text: "Found" }),
                                       el("th", { text: "Missed" }), el("th", { text: "False" })])]),
        el("tbody", {}, rows)]));
    }
    if (s.diagnosis_correct !== null) {
      var given = s.diagnosis_given.trim();
      var text = s.diagnosis_correct ? "Diagnosis: right \u2713"
        : "Diagnosis: " + (given ? "not quite (you said \u201c" + given + "\u201d)" : "no answer given");
      box.appendChild(el("p", { class: "score-line " + (s.diagnosis_correct ? "good" : "bad"),
                                id: "score-diagnosis", text: text }));
    }
    void c;
  }

  function renderAnswers() {
    var c = current(), st = cs(), f = c.fields;
    var box = $("answers");
    box.hidden = !st.revealed;
    var body = clear($("answer-body"));
    if (!st.revealed) return;
    function section(title, value) {
      if (!value || (Array.isArray(value) && !value.length)) return;
      body.appendChild(el("h3", { text: title }));
      if (Array.isArray(value)) {
        body.appendChild(el("ul", { class: "plain" }, value.map(function (v) { return el("li", { text: v }); })));
      } else {
        String(value).split(/\n{2,}/).forEach(function (p) { body.appendChild(el("p", { text: p })); });
      }
    }
    section("Diagnosis", f.diagnosis);
    section("Findings", f.findings);
    section("Differential diagnosis", f.differential);
    section("Discussion", f.discussion);
    if (f.keywords && f.keywords.length) {
      body.appendChild(el("h3", { text: "Keywords" }));
      body.appendChild(el("p", { class: "keywords" }, f.keywords.map(function (k) {
        return el("span", { class: "keyword", text: k });
      })));
    }
    if (!body.firstChild) body.appendChild(el("p", { class: "muted", text: "This case has no written answer." }));
    var legend = clear($("legend"));
    if (c.boxes.length) {
      legend.appendChild(el("button", { class: "chip" + (state.showBoxes ? " on" : ""), "aria-pressed": String(state.showBoxes),
                                        text: "Boxes (B)", onclick: toggleBoxes }));
      legend.appendChild(el("button", { class: "chip" + (state.showLabels ? " on" : ""), "aria-pressed": String(state.showLabels),
                                        text: "Labels (L)", onclick: toggleLabels }));
    }
  }

  function toggleBoxes() { state.showBoxes = !state.showBoxes; renderOverlay(); renderAnswers(); }
  function toggleLabels() { state.showLabels = !state.showLabels; renderOverlay(); renderAnswers(); }

  // ----- results across the set ---------------------------------------------------------------
  function totals() {
    var t = { answered: 0, found: 0, expert: 0, dxRight: 0, dxAsked: 0 };
    state.cases.forEach(function (st) {
      if (!st.score) return;
      t.answered += 1;
      t.found += st.score.hits;
      t.expert += st.score.expert_boxes;
      if (st.score.diagnosis_correct !== null) { t.dxAsked += 1; if (st.score.diagnosis_correct) t.dxRight += 1; }
    });
    return t;
  }
  function renderSummary() {
    var t = totals();
    var parts = ["Answered " + t.answered + "/" + cases.length];
    if (t.expert) parts.push("findings " + t.found + "/" + t.expert);
    if (t.dxAsked) parts.push("diagnoses " + t.dxRight + "/" + t.dxAsked);
    $("summary").textContent = DATA.quiz ? parts.join(" \u00b7 ") : "";
    $("summary").title = $("summary").textContent;
    $("results-button").hidden = !DATA.quiz;
  }
  function showResults() {
    var body = clear($("results-body"));
    var rows = cases.map(function (c, i) {
      var st = state.cases[i], s = st.score;
      var found = s && s.expert_boxes ? s.hits + " / " + s.expert_boxes : s ? "\u2013" : "";
      var falseMarks = s ? String(s.false_marks) : "";
      var dx = !s ? (st.revealed ? "revealed" : "not answered")
        : s.diagnosis_correct === null ? "\u2013" : s.diagnosis_correct ? "right" : "wrong";
      return el("tr", { class: "result-row" }, [
        el("td", {}, [el("button", { class: "link", text: "Case " + (i + 1),
                                     onclick: function () { closeResults(); go(i); } })]),
        el("td", { text: found }), el("td", { text: falseMarks }), el("td", { text: dx })]);
    });
    body.appendChild(el("table", { class: "per-label wide" }, [
      el("thead", {}, [el("tr", {}, [el("th", { text: "Case" }), el("th", { text: "Findings found" }),
                                     el("th", { text: "False marks" }), el("th", { text: "Diagnosis" })])]),
      el("tbody", {}, rows)]));
    var t = totals();
    body.appendChild(el("p", { class: "score-line", text: $("summary").textContent || (t.answered + " answered") }));
    $("results").hidden = false;
    $("results-close").focus();
  }
  function closeResults() { $("results").hidden = true; }

  // ----- the printed handout ------------------------------------------------------------------
  function buildHandout(withAnswers) {
    var root = clear($("handout"));
    root.appendChild(el("h1", { text: DATA.title || "Teaching set" }));
    cases.forEach(function (c, i) {
      var f = c.fields;
      var sec = el("section", { class: "handout-case" });
      sec.appendChild(el("h2", { text: "Case " + (i + 1) + (withAnswers && c.title ? ": " + c.title : "") +
                                       (f.difficulty ? " (" + f.difficulty + ")" : "") }));
      c.images.forEach(function (im, j) {
        var fig = el("div", { class: "handout-figure" }, [el("img", { src: im.windows[0].src, alt: "" })]);
        if (withAnswers) {
          var over = svg("svg", { viewBox: "0 0 " + im.width + " " + im.height, preserveAspectRatio: "none" });
          var unit = Math.max(im.width, im.height) / 400;
          c.boxes.forEach(function (b) {
            if ((b.image || 0) !== j) return;
            over.appendChild(svg("rect", { x: b.x, y: b.y, width: b.w, height: b.h, fill: "none",
                                           stroke: labelColour(b.label), "stroke-width": unit * 1.5 }));
            over.appendChild(svg("text", { x: b.x, y: Math.max(unit * 8, b.y - unit * 2), "font-size": unit * 8,
                                           fill: labelColour(b.label), text: b.label }));
          });
          fig.appendChild(over);
        }
        sec.appendChild(fig);
      });
      function part(title, value) {
        if (!value || (Array.isArray(value) && !value.length)) return;
        sec.appendChild(el("h3", { text: title }));
        sec.appendChild(el("p", { text: Array.isArray(value) ? value.join(", ") : String(value) }));
      }
      part("History", f.history);
      if (withAnswers) {
        part("Diagnosis", f.diagnosis);
        part("Findings", f.findings);
        part("Differential diagnosis", f.differential);
        part("Discussion", f.discussion);
        part("Keywords", f.keywords);
      }
      root.appendChild(sec);
    });
    return root;
  }
  function printHandout(withAnswers) {
    $("print-dialog").hidden = true;
    buildHandout(withAnswers);
    window.print();
  }

  // ----- keys ---------------------------------------------------------------------------------
  function onKey(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test((ev.target && ev.target.tagName) || "") &&
                 ev.target.type !== "radio";
    if (!$("results").hidden || !$("keys").hidden || !$("print-dialog").hidden) {
      if (ev.key === "Escape" || ev.key === "?") {
        closeResults(); $("keys").hidden = true; $("print-dialog").hidden = true; ev.preventDefault();
      }
      return;
    }
    if (typing) {
      if (ev.key === "Enter" && ev.target.id === "other") { check(); ev.preventDefault(); }
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    var k = ev.key;
    var handled = true;
    if (k === "ArrowRight" || k === "n" || k === "N" || k === "PageDown") go(state.index + 1);
    else if (k === "ArrowLeft" || k === "p" || k === "P" || k === "PageUp") go(state.index - 1);
    else if (k === "Home") go(0);
    else if (k === "End") go(cases.length - 1);
    else if (k === "ArrowDown" && current().images.length > 1) setImage(state.image + 1);
    else if (k === "ArrowUp" && current().images.length > 1) setImage(state.image - 1);
    else if (k === "r" || k === "R") reveal();
    else if (k === "Enter" && DATA.quiz) check();
    else if (k === "w" || k === "W") cycleWindow();
    else if (k === "b" || k === "B") toggleBoxes();
    else if (k === "l" || k === "L") toggleLabels();
    else if (k === "Delete" || k === "Backspace") deleteMark(state.selected);
    else if (k === "Escape") { state.drawing = null; state.selected = -1; renderOverlay(); renderMarks(); }
    else if (k === "?") $("keys").hidden = false;
    else if (/^[1-9]$/.test(k) && labels[Number(k) - 1] && !cs().revealed) {
      state.label = labels[Number(k) - 1].name; renderQuiz(); renderOverlay();
    } else handled = false;
    if (handled) ev.preventDefault();
  }
  function cycleWindow() {
    var n = image().windows.length;
    if (n < 2) return;
    cs().windows[state.image] = (windowIndex() + 1) % n;
    renderViewer();
  }

  // ----- start --------------------------------------------------------------------------------
  function start() {
    $("set-title").textContent = DATA.title || "Teaching set";
    $("prev").addEventListener("click", function () { go(state.index - 1); });
    $("next").addEventListener("click", function () { go(state.index + 1); });
    $("case-pick").addEventListener("change", function (ev) { go(Number(ev.target.value)); ev.target.blur(); });
    $("reveal").addEventListener("click", reveal);
    $("check").addEventListener("click", check);
    $("clear").addEventListener("click", function () {
      if (cs().revealed) return;
      cs().marks = []; state.selected = -1; renderOverlay(); renderMarks();
    });
    $("other").addEventListener("input", function (ev) {
      cs().other = ev.target.value;
      if (ev.target.value) Array.prototype.forEach.call(document.querySelectorAll("input[name=dx]"),
                                                         function (r) { r.checked = false; });
    });
    $("results-button").addEventListener("click", showResults);
    $("results-close").addEventListener("click", closeResults);
    $("keys-button").addEventListener("click", function () { $("keys").hidden = false; });
    $("print-button").addEventListener("click", function () { $("print-dialog").hidden = false; $("print-questions").focus(); });
    $("print-questions").addEventListener("click", function () { printHandout(false); });
    $("print-answers").addEventListener("click", function () { printHandout(true); });
    $("print-close").addEventListener("click", function () { $("print-dialog").hidden = true; });
    $("keys-close").addEventListener("click", function () { $("keys").hidden = true; });
    var overlay = $("overlay");
    overlay.addEventListener("pointerdown", startDraw);
    overlay.addEventListener("pointermove", moveDraw);
    overlay.addEventListener("pointerup", endDraw);
    overlay.addEventListener("pointercancel", function () { state.drawing = null; renderOverlay(); });
    document.addEventListener("keydown", onKey);
    window.addEventListener("resize", function () { if (cases.length) { fit(); renderOverlay(); } });
    $("picture").addEventListener("load", function () { document.body.setAttribute("data-image-loaded", "1"); });
    render();
    window.LoupeTeaching = { buildHandout: buildHandout };  // what Print builds, for a PDF printer or a test
    document.body.setAttribute("data-ready", "1");
  }
  start();
})();
