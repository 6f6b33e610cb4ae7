// salesflow: the cause-and-effect picture. UDRs on top, root causes at the bottom, core problems
// highlighted, AND groups drawn as junctions. Layout by the vendored dagre; every text is set
// with textContent (the graph arrives as JSON in <script type="application/json">, never code).
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var WIDTH = 210, LINE = 16, PAD = 10, CHARS = 28, MAX_LINES = 4;

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function wrap(text) {
    var words = String(text).split(/\s+/), lines = [], line = "";
    words.forEach(function (w) {
      if ((line + " " + w).trim().length > CHARS && line) { lines.push(line); line = w; }
      else { line = (line + " " + w).trim(); }
    });
    if (line) { lines.push(line); }
    if (lines.length > MAX_LINES) {
      lines = lines.slice(0, MAX_LINES);
      lines[MAX_LINES - 1] = lines[MAX_LINES - 1].replace(/.{0,2}$/, "") + "…";
    }
    return lines;
  }

  // Layers: a UDR is 0; a cause is one below the lowest effect it explains; root causes at the
  // bottom. Loops (declared reinforcing) do not count for layers.
  function layers(graph) {
    var rank = {}, n = graph.nodes.length, forward = graph.links.filter(function (l) { return !l.loop; });
    graph.nodes.forEach(function (node) { rank[node.id] = node.kind === "udr" ? 0 : 1; });
    for (var i = 0; i < n; i++) {
      var changed = false;
      forward.forEach(function (l) {
        if (rank[l.cause] !== undefined && rank[l.effect] !== undefined && rank[l.cause] < rank[l.effect] + 1) {
          rank[l.cause] = rank[l.effect] + 1; changed = true;
        }
      });
      if (!changed) { break; }
    }
    var bottom = 0;
    Object.keys(rank).forEach(function (k) { bottom = Math.max(bottom, rank[k]); });
    graph.nodes.forEach(function (node) {
      var explains = forward.some(function (l) { return l.cause === node.id; });
      if (node.root && explains) { rank[node.id] = bottom; }
    });
    return rank;
  }

  // dagre's ranker hook: our nodes keep the layers given to them; helper nodes dagre adds (its
  // nesting root) go just above the nodes they point to.
  function fixedRanks(g) {
    var nodes = g.nodes().filter(function (v) { return typeof g.node(v).rank !== "number"; });
    for (var pass = 0; pass < nodes.length + 1; pass++) {
      var changed = false;
      nodes.forEach(function (v) {
        var label = g.node(v);
        var best = Infinity;
        (g.outEdges(v) || []).forEach(function (e) {
          var w = g.node(e.w);
          if (typeof w.rank === "number") { best = Math.min(best, w.rank - (g.edge(e).minlen || 1)); }
        });
        if (best !== Infinity && label.rank !== best) { label.rank = best; changed = true; }
      });
      if (!changed) { break; }
    }
    nodes.forEach(function (v) { if (typeof g.node(v).rank !== "number") { g.node(v).rank = 0; } });
  }

  // dagre doubles every edge's minimum length to make room for labels, so our layers are spaced
  // by 4: nodes on multiples of 4, AND junctions half-way between an effect and its causes.
  function layout(graph) {
    var g = new window.dagre.graphlib.Graph();
    g.setGraph({ rankdir: "TB", ranker: fixedRanks, nodesep: 20, ranksep: 24, marginx: 12, marginy: 12 });
    g.setDefaultEdgeLabel(function () { return {}; });
    var rank = layers(graph), byId = {};
    graph.nodes.forEach(function (node) {
      byId[node.id] = node;
      var lines = wrap(node.text);
      g.setNode("n" + node.id, { width: WIDTH, height: lines.length * LINE + 2 * PAD + (node.core ? LINE : 0),
                                 rank: 4 * rank[node.id], lines: lines, data: node });
    });
    graph.links.forEach(function (l) {
      if (l.loop || !byId[l.effect] || !byId[l.cause]) { return; }
      if (l.group) {
        var j = "j" + l.effect + ":" + l.group;
        if (!g.hasNode(j)) {
          g.setNode(j, { width: 34, height: 20, rank: 4 * rank[l.effect] + 2, junction: true });
          g.setEdge("n" + l.effect, j, { link: null });
        }
        g.setEdge(j, "n" + l.cause, { link: l });
      } else {
        g.setEdge("n" + l.effect, "n" + l.cause, { link: l });
      }
    });
    window.dagre.layout(g);
    return g;
  }

  function edgePath(points) {
    var p = points.slice().reverse();  // drawn from the cause up to its effect
    return "M" + p.map(function (q) { return q.x.toFixed(1) + "," + q.y.toFixed(1); }).join(" L");
  }

  // The picture scales to the box's width (its viewBox keeps the proportions) as long as the
  // text stays at least MIN_FONT px; it never grows past MAX_ZOOM, and only a picture too wide
  // for that scrolls sideways, drawn at the smallest readable size.
  var MIN_FONT = 9, BASE_FONT = 12.5, MAX_ZOOM = 1.25;

  function fit(svg, box, width) {
    var room = box.clientWidth, smallest = width * MIN_FONT / BASE_FONT;
    if (room >= smallest) {
      svg.setAttribute("width", "100%");
      svg.style.maxWidth = Math.round(width * MAX_ZOOM) + "px";
    } else {
      svg.setAttribute("width", String(Math.round(smallest)));
    }
  }

  function draw(box, graph, selected) {
    var g = layout(graph), size = g.graph();
    var svg = el("svg", { viewBox: "0 0 " + Math.max(size.width, 300) + " " + Math.max(size.height, 120),
                          width: Math.max(size.width, 300), role: "img", "aria-label": "cause and effect picture",
                          "class": "cause-svg" });
    var defs = el("defs", {}, svg);
    [["arrow", "#6b7280"], ["arrow-good", "#146c43"], ["arrow-bad", "#b42318"]].forEach(function (a) {
      var m = el("marker", { id: a[0], viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
      el("path", { d: "M0,0 L10,5 L0,10 z", fill: a[1] }, m);
    });
    var edges = el("g", { "class": "edges" }, svg);
    g.edges().forEach(function (e) {
      var info = g.edge(e), l = info.link, tone = l && l.check === "supports" ? "good" : l && l.check === "contradicts" ? "bad" : "";
      var path = el("path", { d: edgePath(info.points), "class": "edge" + (tone ? " edge-" + tone : "") }, edges);
      if (!g.node(e.v).junction) {  // a cause's line into an AND junction has no arrow of its own
        path.setAttribute("marker-end", "url(#arrow" + (tone ? "-" + tone : "") + ")");
      }
      if (l) { var t = el("title", {}, path); t.textContent = l.check ? "data check: " + l.check : "because"; }
    });
    graph.links.filter(function (l) { return l.loop; }).forEach(function (l) {
      var a = g.node("n" + l.cause), b = g.node("n" + l.effect);
      if (!a || !b) { return; }
      var mx = Math.max(a.x, b.x) + WIDTH / 2 + 30;
      el("path", { d: "M" + (a.x + WIDTH / 2) + "," + a.y + " C" + mx + "," + a.y + " " + mx + "," + b.y + " " + (b.x + WIDTH / 2) + "," + b.y,
                   "class": "edge edge-loop", "marker-end": "url(#arrow)" }, edges);
    });
    var nodes = el("g", { "class": "nodes" }, svg);
    g.nodes().forEach(function (id) {
      var n = g.node(id);
      if (n.junction) {
        var j = el("g", { "class": "junction", transform: "translate(" + n.x + "," + n.y + ")" }, nodes);
        el("rect", { x: -17, y: -10, width: 34, height: 20, rx: 10 }, j);
        var jt = el("text", { "text-anchor": "middle", y: 4 }, j); jt.textContent = "AND";
        return;
      }
      var d = n.data, kind = d.kind === "udr" ? "udr" : d.core ? "core" : d.root ? "root" : "cause";
      var grp = el("g", { "class": "node node-" + kind + (d.contradicted ? " node-contradicted" : "") + (d.id === selected ? " selected" : ""), tabindex: "0",
                          "data-node": String(d.id), "data-kind": d.kind, "data-root": String(d.root), "data-core": String(d.core),
                          transform: "translate(" + (n.x - n.width / 2) + "," + (n.y - n.height / 2) + ")" }, nodes);
      el("rect", { width: n.width, height: n.height, rx: 7 }, grp);
      var title = el("title", {}, grp); title.textContent = (d.contradicted ? "Contradicted by the data, counted in no share: " : "") + d.text;
      var y = PAD + LINE - 4;
      if (d.core) {
        var c = el("text", { x: PAD, y: y, "class": "tagline" }, grp);
        c.textContent = "CORE PROBLEM · " + Math.round(d.share * 100) + " % of UDRs"; y += LINE;
      }
      var text = el("text", { x: PAD, y: y }, grp);
      n.lines.forEach(function (line, i) {
        var span = el("tspan", { x: PAD, dy: i === 0 ? 0 : LINE }, text); span.textContent = line;
      });
      grp.addEventListener("click", function () { open(d.id); });
      grp.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { open(d.id); } });
    });
    box.textContent = "";
    box.appendChild(svg);
    fit(svg, box, Math.max(size.width, 300));
    box.dataset.drawn = "1";
  }

  function open(id) {
    document.querySelectorAll(".node.selected").forEach(function (n) { n.classList.remove("selected"); });
    var node = document.querySelector('.node[data-node="' + id + '"]');
    if (node) { node.classList.add("selected"); }
    if (window.history && window.history.replaceState) { window.history.replaceState(null, "", "/causes?node=" + id); }
    if (window.htmx) {
      window.htmx.ajax("GET", "/causes/node/" + id, { target: "#node-panel", swap: "outerHTML" });
    } else { window.location = "/causes?node=" + id; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var data = document.getElementById("cause-graph"), box = document.getElementById("picture");
    if (!data || !box || !window.dagre) { return; }
    var graph = JSON.parse(data.textContent);
    var selected = parseInt(box.dataset.selected || "0", 10);
    if (graph.nodes.length) { draw(box, graph, selected); }
  });
})();
