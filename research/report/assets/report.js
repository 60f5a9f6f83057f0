// hijack-clusters report: the network view (zoom, pan, hover, focus) and the card buttons.
// Data comes from a JSON block and reaches the page through textContent and canvas text only:
// every string in it was written by whoever ran the attack.
(function () {
  "use strict";
  var block = document.getElementById("network-data");
  var canvas = document.getElementById("network");
  if (!block || !canvas || !canvas.getContext) { return; }
  var data = JSON.parse(block.textContent);
  var nodes = data.nodes, edges = data.edges, clusters = data.clusters;
  var n = nodes.x.length;
  var ctx = canvas.getContext("2d");
  var tooltip = document.getElementById("network-tooltip");
  var controls = document.getElementById("network-controls");
  var status = document.getElementById("network-status");
  var BACKGROUND = "#ffffff";
  var COLOURS = {
    flagged: "#D55E00", other: "#56B4E9", app: "#0072B2", domain: "#009E73",
    edge: "rgba(90, 90, 90, 0.22)", edgeHot: "rgba(0, 0, 0, 0.75)", text: "#222222", box: "#dddddd"
  };
  var view = { k: 1, x: 0, y: 0 };
  var focus = -1;      // index into clusters, -1 = all
  var hover = -1;      // node index under the pointer
  var dpr = window.devicePixelRatio || 1;
  var adjacency = buildAdjacency();

  function buildAdjacency() {
    var adj = [];
    for (var i = 0; i < n; i++) { adj.push([]); }
    for (var e = 0; e < edges.s.length; e++) {
      adj[edges.s[e]].push(e);
      adj[edges.t[e]].push(e);
    }
    return adj;
  }

  function size() {
    var width = canvas.clientWidth || 800;
    var height = canvas.clientHeight || 560;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    return { w: width, h: height };
  }

  function fit(box) {
    var s = size();
    var bw = Math.max(box[2] - box[0], 1e-6), bh = Math.max(box[3] - box[1], 1e-6);
    view.k = 0.92 * Math.min(s.w / bw, s.h / bh);
    view.x = s.w / 2 - view.k * (box[0] + box[2]) / 2;
    view.y = s.h / 2 - view.k * (box[1] + box[3]) / 2;
  }

  function sx(i) { return nodes.x[i] * view.k + view.x; }
  function sy(i) { return nodes.y[i] * view.k + view.y; }

  function radius(kind) {
    var base = kind === 0 ? 2.2 : 6;
    return Math.max(base, Math.min(base * 4, base * Math.sqrt(view.k / 2)));
  }

  function colour(i) {
    var kind = nodes.kind[i];
    if (kind === 1) { return COLOURS.app; }
    if (kind === 2) { return COLOURS.domain; }
    return clusters[nodes.cluster[i]].flagged ? COLOURS.flagged : COLOURS.other;
  }

  function shape(i, r) {
    var x = sx(i), y = sy(i), kind = nodes.kind[i];
    ctx.beginPath();
    if (kind === 1) {
      ctx.rect(x - r, y - r, 2 * r, 2 * r);
    } else if (kind === 2) {
      ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.3, y); ctx.lineTo(x, y + r * 1.3); ctx.lineTo(x - r * 1.3, y);
      ctx.closePath();
    } else {
      ctx.arc(x, y, r, 0, 2 * Math.PI);
    }
  }

  function dimmed(i) { return focus >= 0 && nodes.cluster[i] !== focus; }

  function draw() {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.font = "12px system-ui, sans-serif";
    ctx.textBaseline = "top";
    var titles = [];
    for (var c = 0; c < clusters.length; c++) {
      var b = clusters[c].box;
      ctx.globalAlpha = focus >= 0 && focus !== c ? 0.25 : 1;
      ctx.strokeStyle = COLOURS.box;
      ctx.strokeRect(b[0] * view.k + view.x, b[1] * view.k + view.y, (b[2] - b[0]) * view.k, (b[3] - b[1]) * view.k);
      ctx.fillStyle = COLOURS.text;
      var title = fitted(clusterTitle(c), (b[2] - b[0]) * view.k - 8);
      var tx = b[0] * view.k + view.x + 4, ty = b[1] * view.k + view.y + 4;
      ctx.fillText(title, tx, ty);
      titles.push([tx, ty, tx + ctx.measureText(title).width, ty + LINE]);
    }
    ctx.lineWidth = 1;
    for (var e = 0; e < edges.s.length; e++) {
      var s = edges.s[e], t = edges.t[e];
      ctx.globalAlpha = dimmed(s) ? 0.08 : 1;
      ctx.strokeStyle = COLOURS.edge;
      ctx.beginPath(); ctx.moveTo(sx(s), sy(s)); ctx.lineTo(sx(t), sy(t)); ctx.stroke();
    }
    for (var i = 0; i < n; i++) {
      ctx.globalAlpha = dimmed(i) ? 0.15 : 0.95;
      ctx.fillStyle = colour(i);
      shape(i, radius(nodes.kind[i]));
      ctx.fill();
    }
    drawLabels(titles);
    if (hover >= 0) { drawHover(hover); }
  }

  var LINE = 13;  // height of a label, px
  // Apps and domains in the order their labels are placed: the most used of every cluster
  // first (its top app and top domain), then the next ones.
  var labelOrder = (function () {
    var order = [];
    for (var j = 0; j < n; j++) { if (nodes.kind[j] !== 0) { order.push(j); } }
    order.sort(function (a, b) {
      return (nodes.rank[a] - nodes.rank[b]) || (nodes.cluster[a] - nodes.cluster[b]) || (a - b);
    });
    return order;
  }());

  // Labels of apps and domains. Each goes on the side of its node that faces away from its
  // cluster's centre (the ring's outside) or, if that is taken, on another side; a place is
  // taken when it overlaps a label or cluster title drawn before, or another app or domain
  // marker. A label with no free place is left out: hovering shows every name. The boxes
  // drawn are recorded on the canvas (data-label-boxes, data-marker-boxes: node, x, y, width,
  // height in px), so that tests measure them.
  function drawLabels(titles) {
    ctx.globalAlpha = 1;
    ctx.fillStyle = COLOURS.text;
    var placed = titles.slice(), markers = [], drawn = [];
    for (var m = 0; m < labelOrder.length; m++) {
      var q = labelOrder[m], rq = 1.3 * radius(nodes.kind[q]);
      markers.push([sx(q) - rq, sy(q) - rq, sx(q) + rq, sy(q) + rq, q]);
    }
    for (var o = 0; o < labelOrder.length; o++) {
      var j = labelOrder[o];
      if (dimmed(j)) { continue; }
      var r = 1.3 * radius(nodes.kind[j]) + 3, w = ctx.measureText(nodes.label[j]).width, h = LINE;
      var x = sx(j), y = sy(j), b = clusters[nodes.cluster[j]].box;
      var dx = x - ((b[0] + b[2]) / 2 * view.k + view.x), dy = y - ((b[1] + b[3]) / 2 * view.k + view.y);
      var right = [x + r, y - h / 2], left = [x - r - w, y - h / 2], below = [x - w / 2, y + r], above = [x - w / 2, y - r - h];
      var sides = Math.abs(dx) >= Math.abs(dy)
        ? (dx >= 0 ? [right, below, above, left] : [left, below, above, right])
        : (dy >= 0 ? [below, right, left, above] : [above, right, left, below]);
      sides.push([x + r, y + r], [x + r, y - r - h], [x - r - w, y + r], [x - r - w, y - r - h]);
      for (var c = 0; c < sides.length; c++) {
        var box = [sides[c][0], sides[c][1], sides[c][0] + w, sides[c][1] + h];
        if (!overlaps(box, placed) && !coversMarker(box, markers, j)) {
          placed.push(box);
          drawn.push([j, box[0], box[1], w, h].map(function (v) { return Math.round(v * 10) / 10; }).join(","));
          ctx.fillText(nodes.label[j], box[0], box[1]);
          break;
        }
      }
    }
    canvas.setAttribute("data-label-boxes", drawn.join(";"));
    canvas.setAttribute("data-marker-boxes", markers.filter(function (o) { return !dimmed(o[4]); }).map(function (o) {
      return [o[4], o[0], o[1], o[2] - o[0], o[3] - o[1]].map(function (v) { return Math.round(v * 10) / 10; }).join(",");
    }).join(";"));
  }

  function overlaps(box, placed) {
    for (var p = 0; p < placed.length; p++) {
      var o = placed[p];
      if (box[0] < o[2] && box[2] > o[0] && box[1] < o[3] && box[3] > o[1]) { return true; }
    }
    return false;
  }

  function coversMarker(box, markers, own) {
    for (var p = 0; p < markers.length; p++) {
      var o = markers[p];
      if (o[4] !== own && !dimmed(o[4]) && box[0] < o[2] && box[2] > o[0] && box[1] < o[3] && box[3] > o[1]) { return true; }
    }
    return false;
  }

  function drawHover(i) {
    ctx.globalAlpha = 1;
    ctx.strokeStyle = COLOURS.edgeHot;
    ctx.lineWidth = 1.5;
    var list = adjacency[i];
    for (var a = 0; a < list.length; a++) {
      var e = list[a];
      ctx.beginPath(); ctx.moveTo(sx(edges.s[e]), sy(edges.s[e])); ctx.lineTo(sx(edges.t[e]), sy(edges.t[e])); ctx.stroke();
    }
    ctx.lineWidth = 2;
    shape(i, radius(nodes.kind[i]) + 2);
    ctx.stroke();
  }

  function clusterTitle(c) {
    var cl = clusters[c];
    var title = "Cluster " + cl.id + (cl.flagged ? " (flagged)" : " (not flagged)") + ": " + cl.size + " accounts";
    if (cl.shown < cl.size) { title += ", " + cl.shown + " shown"; }
    return title;
  }

  // The text cut to a width in pixels (with an ellipsis).
  function fitted(label, width) {
    if (ctx.measureText(label).width <= width) { return label; }
    var cut = label;
    while (cut.length > 1 && ctx.measureText(cut + "\u2026").width > width) { cut = cut.slice(0, -1); }
    return cut + "\u2026";
  }

  function nodeAt(px, py) {
    var best = -1, bestDist = 100;  // within 10 px
    for (var i = 0; i < n; i++) {
      var dx = sx(i) - px, dy = sy(i) - py, d = dx * dx + dy * dy;
      if (d < bestDist) { best = i; bestDist = d; }
    }
    return best;
  }

  function clusterAt(px, py) {
    var x = (px - view.x) / view.k, y = (py - view.y) / view.k;
    for (var c = 0; c < clusters.length; c++) {
      var b = clusters[c].box;
      if (x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3]) { return c; }
    }
    return -1;
  }

  function showAll() {
    focus = -1;
    fit(data.extent);
    markButtons();
    draw();
  }

  function focusCluster(c) {
    if (c < 0 || c >= clusters.length) { return; }
    focus = c;
    fit(clusters[c].box);
    markButtons();
    draw();
  }

  function markButtons() {
    var buttons = controls ? controls.querySelectorAll("button") : [];
    for (var b = 0; b < buttons.length; b++) {
      var index = Number(buttons[b].getAttribute("data-index"));
      buttons[b].setAttribute("aria-pressed", String(index === focus));
    }
  }

  function showTooltip(i, px, py) {
    if (!tooltip) { return; }
    if (i < 0) { tooltip.hidden = true; return; }
    tooltip.textContent = nodes.info[i];
    tooltip.hidden = false;
    var wrap = canvas.parentNode.getBoundingClientRect();
    var left = Math.min(px + 14, wrap.width - tooltip.offsetWidth - 4);
    var top = Math.min(py + 14, wrap.height - tooltip.offsetHeight - 4);
    tooltip.style.setProperty("left", Math.max(left, 0) + "px");
    tooltip.style.setProperty("top", Math.max(top, 0) + "px");
  }

  function pointer(event) {
    var rect = canvas.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  }

  var drag = null;
  canvas.addEventListener("mousedown", function (event) {
    var p = pointer(event);
    drag = { x: p.x, y: p.y, vx: view.x, vy: view.y, moved: false };
  });
  window.addEventListener("mouseup", function (event) {
    if (!drag) { return; }
    var wasClick = !drag.moved;
    drag = null;
    if (!wasClick || event.target !== canvas) { return; }
    var p = pointer(event);
    var i = nodeAt(p.x, p.y);
    var c = i >= 0 ? nodes.cluster[i] : clusterAt(p.x, p.y);
    if (c >= 0) { focusCluster(c); }
  });
  canvas.addEventListener("mousemove", function (event) {
    var p = pointer(event);
    if (drag) {
      if (Math.abs(p.x - drag.x) + Math.abs(p.y - drag.y) > 3) { drag.moved = true; }
      view.x = drag.vx + p.x - drag.x;
      view.y = drag.vy + p.y - drag.y;
      draw();
      return;
    }
    var i = nodeAt(p.x, p.y);
    if (i !== hover) { hover = i; draw(); }
    showTooltip(i, p.x, p.y);
  });
  canvas.addEventListener("mouseleave", function () { hover = -1; showTooltip(-1, 0, 0); draw(); });
  canvas.addEventListener("wheel", function (event) {
    event.preventDefault();
    var p = pointer(event);
    var factor = Math.exp(-event.deltaY * 0.0015);
    var k = Math.max(0.02, Math.min(view.k * factor, 400));
    view.x = p.x - (p.x - view.x) * (k / view.k);
    view.y = p.y - (p.y - view.y) * (k / view.k);
    view.k = k;
    draw();
  }, { passive: false });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { showAll(); }
  });
  window.addEventListener("resize", function () {
    if (focus >= 0) { fit(clusters[focus].box); } else { fit(data.extent); }
    draw();
  });

  function addButton(label, index) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.setAttribute("data-index", String(index));
    button.addEventListener("click", function () { if (index < 0) { showAll(); } else { focusCluster(index); } });
    controls.appendChild(button);
  }
  if (controls) {
    addButton("Show all", -1);
    for (var c = 0; c < clusters.length; c++) { addButton("Cluster " + clusters[c].id, c); }
  }

  // "Show in network" buttons on the cards.
  var cardButtons = document.querySelectorAll("button.show-in-network");
  for (var b = 0; b < cardButtons.length; b++) {
    cardButtons[b].addEventListener("click", function (event) {
      var id = Number(event.currentTarget.getAttribute("data-cluster"));
      for (var c = 0; c < clusters.length; c++) {
        if (clusters[c].id === id) {
          focusCluster(c);
          canvas.scrollIntoView({ behavior: "smooth", block: "center" });
        }
      }
    });
    cardButtons[b].hidden = false;
  }

  // Tell the reader (and the tests) what was drawn: node count and inked pixels.
  function inkedPixels() {
    try {
      var pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      var inked = 0;
      for (var p = 0; p < pixels.length; p += 16) {
        if (pixels[p] !== 255 || pixels[p + 1] !== 255 || pixels[p + 2] !== 255) { inked++; }
      }
      return inked;
    } catch (err) {
      return -1;
    }
  }

  function pageRect(element) {
    var rect = element.getBoundingClientRect();
    return [rect.left + window.scrollX, rect.top + window.scrollY, rect.width, rect.height].map(Math.round).join(",");
  }

  showAll();
  canvas.setAttribute("data-rect", pageRect(canvas));
  // Where the member lists are on the page, and whether the browser renders them (they show
  // without a click; tests check it).
  var boxes = document.querySelectorAll(".members-box");
  for (var mb = 0; mb < boxes.length; mb++) {
    boxes[mb].setAttribute("data-rect", pageRect(boxes[mb]));
    var first = boxes[mb].querySelector("li");
    var shown = first && first.checkVisibility ? first.checkVisibility({ contentVisibilityAuto: true, opacityProperty: true, visibilityProperty: true }) : null;
    boxes[mb].setAttribute("data-first-shown", String(shown));
  }
  canvas.setAttribute("data-drawn-nodes", String(n));
  canvas.setAttribute("data-inked", String(inkedPixels()));
  if (status) {
    status.textContent = n ? "" : "No cluster to draw.";
  }
})();
