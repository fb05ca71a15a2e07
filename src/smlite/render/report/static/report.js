/* smlite report: sortable and filterable tables, and the call-structure pictures.
 *
 * Every string from the model reaches the page through textContent or an SVG
 * text node, never as markup.  The pictures are laid out by dagre (inlined
 * above this script) and drawn as SVG.
 */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";

  function cellValue(row, index, numeric) {
    var cell = row.cells[index];
    if (!cell) return numeric ? -Infinity : "";
    var raw = cell.getAttribute("data-value");
    if (numeric) return raw === null ? parseFloat(cell.textContent) || 0 : parseFloat(raw);
    return (raw === null ? cell.textContent : raw).toLowerCase();
  }

  function sortable(table) {
    var headers = table.querySelectorAll("th[data-sort]");
    Array.prototype.forEach.call(headers, function (th) {
      th.addEventListener("click", function () {
        var index = th.cellIndex;
        var numeric = th.getAttribute("data-sort") === "num";
        var ascending = th.getAttribute("data-order") !== "asc";
        Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("data-order"); });
        th.setAttribute("data-order", ascending ? "asc" : "desc");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
          var order = x < y ? -1 : x > y ? 1 : 0;
          return ascending ? order : -order;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  function filterable(input) {
    var table = document.getElementById(input.getAttribute("data-filter-for"));
    if (!table) return;
    var count = document.getElementById(input.getAttribute("data-count"));
    input.addEventListener("input", function () {
      var needle = input.value.toLowerCase();
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var match = row.textContent.toLowerCase().indexOf(needle) >= 0;
        row.style.display = match ? "" : "none";
        if (match) shown += 1;
      });
      if (count) count.textContent = String(shown);
    });
  }

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, value, cls) {
    var t = el("text", { x: x, y: y }, parent);
    if (cls) t.setAttribute("class", cls);
    t.textContent = value;
    return t;
  }

  function short(name, max) {
    return name.length > max ? name.slice(0, max - 1) + "\u2026" : name;
  }

  function drawCallGraph(holder, data) {
    var g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "LR", nodesep: 10, ranksep: 56, marginx: 12, marginy: 12 });
    g.setDefaultEdgeLabel(function () { return {}; });
    data.nodes.forEach(function (n) {
      var label = short(n.name, 44);
      var meta = n.kind === "signature" ? "signature" : n.kind === "objects" ? "saved tf.functions" :
        n.nodes + " nodes \u00b7 " + n.op_types + " op types" + (n.bytes ? " \u00b7 " + n.size : "");
      var width = Math.max(label.length * 7, meta.length * 6) + 20;
      g.setNode(n.id, { width: width, height: 38, data: n, label: label, meta: meta });
    });
    data.edges.forEach(function (e) { g.setEdge(e[0], e[1]); });
    dagre.layout(g);
    var info = g.graph();
    var svg = el("svg", {
      class: "callgraph", width: Math.ceil(info.width), height: Math.ceil(info.height),
      viewBox: "0 0 " + Math.ceil(info.width) + " " + Math.ceil(info.height),
      role: "img", "data-functions": data.nodes.filter(function (n) { return n.kind === "function"; }).length
    });
    var defs = el("defs", {}, svg);
    var marker = el("marker", {
      id: holder.id + "-arrow", viewBox: "0 0 10 10", refX: 10, refY: 5,
      markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse"
    }, defs);
    el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a96a8" }, marker);
    g.edges().forEach(function (e) {
      var points = g.edge(e).points;
      var d = points.map(function (p, i) { return (i ? "L" : "M") + p.x.toFixed(1) + " " + p.y.toFixed(1); }).join(" ");
      el("path", { class: "edge", d: d, "marker-end": "url(#" + holder.id + "-arrow)" }, svg);
    });
    g.nodes().forEach(function (id) {
      var node = g.node(id);
      var n = node.data;
      var classes = ["node", n.kind];
      if (n.custom) classes.push("custom");
      if (n.risky) classes.push("risky");
      var group = el("g", {
        class: classes.join(" "), "data-kind": n.kind,
        transform: "translate(" + (node.x - node.width / 2).toFixed(1) + "," + (node.y - node.height / 2).toFixed(1) + ")"
      }, svg);
      var title = el("title", {}, group);
      title.textContent = n.name + (n.notes.length ? "\n" + n.notes.join("\n") : "");
      el("rect", { width: node.width, height: node.height }, group);
      text(group, 8, 16, node.label);
      text(group, 8, 31, node.meta, "meta");
    });
    holder.textContent = "";
    holder.appendChild(svg);
  }

  function callGraphs() {
    var blocks = document.querySelectorAll("script.callgraph-data");
    Array.prototype.forEach.call(blocks, function (block) {
      var holder = document.getElementById(block.getAttribute("data-target"));
      if (!holder) return;
      if (typeof dagre === "undefined") {
        holder.textContent = "The picture needs JavaScript (dagre) to be drawn.";
        return;
      }
      drawCallGraph(holder, JSON.parse(block.textContent));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), sortable);
    Array.prototype.forEach.call(document.querySelectorAll("input.filter"), filterable);
    callGraphs();
    document.body.setAttribute("data-ready", "true");
  });
})();
