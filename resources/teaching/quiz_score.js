/* Loupe teaching set: the quiz score, the same rule as desktop/core/teaching/scoring.py
   (decisions 0141 and 0145). Boxes are matched per image and per label, one-to-one: among the
   pairs whose IoU is at least 0.5, the matching with the largest total IoU (Hungarian algorithm
   on the IoU matrix with the pairs below the threshold set to 0; pairs left at 0 are dropped).
   A matched pair is a hit, an expert box left over a miss, a learner's mark left over a false
   mark; mean IoU is over the hits (null without hits). The diagnosis is right when both texts are
   equal after trimming, collapsing white space and ignoring case (null: the case has none).
   Runs in the page and under Node (module.exports) so the tests can compare it with Python. */
(function (root) {
  "use strict";
  var IOU_THRESHOLD = 0.5;
  var EPS = 1e-9;

  function iou(a, b) {
    var iw = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
    var ih = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
    if (iw <= 0 || ih <= 0) return 0;
    var inter = iw * ih;
    var union = a.w * a.h + b.w * b.h - inter;
    return union > 0 ? inter / union : 0;
  }

  /* Minimum-cost assignment of an n x m cost matrix (n <= m): for each row the column it gets.
     The O(n^2 m) Hungarian algorithm with potentials (Kuhn-Munkres, Jonker-Volgenant form). */
  function assignRows(cost, n, m) {
    var INF = Infinity;
    var u = new Array(n + 1).fill(0), v = new Array(m + 1).fill(0);
    var p = new Array(m + 1).fill(0), way = new Array(m + 1).fill(0);
    for (var i = 1; i <= n; i++) {
      p[0] = i;
      var j0 = 0;
      var minv = new Array(m + 1).fill(INF), used = new Array(m + 1).fill(false);
      do {
        used[j0] = true;
        var i0 = p[j0], delta = INF, j1 = 0;
        for (var j = 1; j <= m; j++) {
          if (used[j]) continue;
          var cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
          if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
          if (minv[j] < delta) { delta = minv[j]; j1 = j; }
        }
        for (var k = 0; k <= m; k++) {
          if (used[k]) { u[p[k]] += delta; v[k] -= delta; } else { minv[k] -= delta; }
        }
        j0 = j1;
      } while (p[j0] !== 0);
      do { var jPrev = way[j0]; p[j0] = p[jPrev]; j0 = jPrev; } while (j0);
    }
    var rowCol = new Array(n).fill(-1);
    for (var c = 1; c <= m; c++) if (p[c]) rowCol[p[c] - 1] = c - 1;
    return rowCol;
  }

  /* The pairs [expert index, learner index, IoU] with IoU >= threshold and the largest total. */
  function match(expert, learner, threshold) {
    if (threshold === undefined) threshold = IOU_THRESHOLD;
    if (!expert.length || !learner.length) return [];
    var ious = expert.map(function (e) { return learner.map(function (l) { return iou(e, l); }); });
    var eligible = ious.map(function (row) {
      return row.map(function (x) { return x >= threshold - EPS ? x : 0; });
    });
    var transpose = expert.length > learner.length;
    var n = transpose ? learner.length : expert.length, m = transpose ? expert.length : learner.length;
    var cost = [];
    for (var r = 0; r < n; r++) {
      cost.push([]);
      for (var c = 0; c < m; c++) cost[r].push(-(transpose ? eligible[c][r] : eligible[r][c]));
    }
    var rowCol = assignRows(cost, n, m);
    var pairs = [];
    for (var k = 0; k < n; k++) {
      var ei = transpose ? rowCol[k] : k, li = transpose ? k : rowCol[k];
      if (ei >= 0 && li >= 0 && eligible[ei][li] > 0) pairs.push([ei, li, ious[ei][li]]);
    }
    return pairs;
  }

  function normaliseDiagnosis(text) {
    return String(text == null ? "" : text).trim().split(/\s+/).join(" ").toLowerCase();
  }

  function diagnosisCorrect(expected, given) {
    var want = normaliseDiagnosis(expected);
    if (!want) return null;
    return normaliseDiagnosis(given) === want;
  }

  /* expert, learner: [{label, x, y, w, h, image}] (image: which of the case's images, default 0). */
  function scoreCase(expert, learner, diagnosisExpected, diagnosisGiven, threshold) {
    var groups = {}, order = [];
    function group(m) {
      var key = JSON.stringify([m.image || 0, m.label]);
      if (!groups[key]) { groups[key] = { label: m.label, e: [], l: [] }; order.push(key); }
      return groups[key];
    }
    expert.forEach(function (m, i) { group(m).e.push(i); });
    learner.forEach(function (m, j) { group(m).l.push(j); });
    var pairs = [], tallies = {};
    order.forEach(function (key) {
      var g = groups[key];
      var found = match(g.e.map(function (i) { return expert[i]; }),
                        g.l.map(function (j) { return learner[j]; }), threshold);
      found.forEach(function (p) { pairs.push([g.e[p[0]], g.l[p[1]], p[2]]); });
      var t = tallies[g.label] || (tallies[g.label] = { expert: 0, learner: 0, hits: 0, iou_sum: 0 });
      t.expert += g.e.length; t.learner += g.l.length; t.hits += found.length;
      found.forEach(function (p) { t.iou_sum += p[2]; });
    });
    var perLabel = {};
    Object.keys(tallies).sort().forEach(function (label) {
      var t = tallies[label];
      perLabel[label] = { label: label, expert: t.expert, learner: t.learner, hits: t.hits,
                          misses: t.expert - t.hits, false_marks: t.learner - t.hits, iou_sum: t.iou_sum };
    });
    pairs.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1] || a[2] - b[2]; });
    var hits = pairs.length, total = 0;
    pairs.forEach(function (p) { total += p[2]; });
    return {
      expert_boxes: expert.length, learner_marks: learner.length, hits: hits,
      misses: expert.length - hits, false_marks: learner.length - hits,
      mean_iou: hits ? total / hits : null,
      diagnosis_expected: String(diagnosisExpected || ""), diagnosis_given: String(diagnosisGiven || ""),
      diagnosis_correct: diagnosisCorrect(diagnosisExpected, diagnosisGiven),
      per_label: perLabel, pairs: pairs
    };
  }

  var api = { IOU_THRESHOLD: IOU_THRESHOLD, iou: iou, match: match, scoreCase: scoreCase,
              normaliseDiagnosis: normaliseDiagnosis, diagnosisCorrect: diagnosisCorrect };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.LoupeScore = api;
})(this);
