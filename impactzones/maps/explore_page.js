/* The proposal page: draw a zone, read its figures from the embedded grid of counts. */
(function () {
  "use strict";
  const D = window.IZ_DATA;
  const api = { ready: false, error: null };
  window.izExplore = api;
  document.getElementById("iz-title").textContent = window.IZ_TITLE;
  document.title = window.IZ_TITLE;

  function bytes(b64) {
    const s = atob(b64), out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  async function inflate(b64) {
    const stream = new Blob([bytes(b64)]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }
  const F = D.fit;
  function poly6(c, u, v) { return c[0] + c[1] * u + c[2] * v + c[3] * u * u + c[4] * u * v + c[5] * v * v; }
  function toXY(lat, lng) {
    const u = lng - F.lon0, v = lat - F.lat0;
    return [poly6(F.x, u, v), poly6(F.y, u, v)];
  }
  function toLL(x, y) {
    const u = (x - F.xm) / 1000, v = (y - F.ym) / 1000;
    return [poly6(F.lat, u, v), poly6(F.lon, u, v)];
  }

  const G = D.grid, M = D.months.length, N = G.n;
  let counts = null, cx = null, cy = null;

  function insidePoly(px, py, P) {
    let inside = false;
    for (let i = 0, j = P.length - 1; i < P.length; j = i++) {
      const xi = P[i][0], yi = P[i][1], xj = P[j][0], yj = P[j][1];
      if ((yi > py) !== (yj > py) && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function distSeg(px, py, ax, ay, bx, by) {
    const dx = bx - ax, dy = by - ay, L = dx * dx + dy * dy;
    let t = L > 0 ? ((px - ax) * dx + (py - ay) * dy) / L : 0;
    t = Math.max(0, Math.min(1, t));
    const qx = ax + t * dx - px, qy = ay + t * dy - py;
    return Math.sqrt(qx * qx + qy * qy);
  }
  function distPoly(px, py, P) {
    let d = Infinity;
    for (let i = 0, j = P.length - 1; i < P.length; j = i++) d = Math.min(d, distSeg(px, py, P[j][0], P[j][1], P[i][0], P[i][1]));
    return d;
  }
  /* Cells of a zone (centre inside) and of its ring (centre within `ring` metres, outside). */
  function cellsOf(latlngs, ring) {
    const P = latlngs.map(p => toXY(p[0], p[1]));
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const [x, y] of P) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    const zone = [], around = [];
    for (let c = 0; c < N; c++) {
      const x = cx[c], y = cy[c];
      if (x < x0 - ring || x > x1 + ring || y < y0 - ring || y > y1 + ring) continue;
      if (insidePoly(x, y, P)) zone.push(c);
      else if (ring > 0 && distPoly(x, y, P) <= ring) around.push(c);
    }
    return { zone, around };
  }
  function groupsOf(group) {
    if (group === "all") return D.groups.map((_, i) => i);
    const i = D.groups.indexOf(group);
    return i >= 0 ? [i] : [];
  }
  function sum(cells, m0, m1, gs) {
    let s = 0;
    for (const g of gs) for (let m = Math.max(m0, 0); m <= Math.min(m1, M - 1); m++) {
      const base = (g * M + m) * N;
      if (cells === null) { for (let c = 0; c < N; c++) s += counts[base + c]; }
      else for (const c of cells) s += counts[base + c];
    }
    return s;
  }
  function monthIndex(ym) { return D.months.indexOf(ym); }

  /* Counts of a zone for months m0..m1 (indices, inclusive): zone, ring and city. */
  api.count = function (latlngs, from, to, group) {
    const z = cellsOf(latlngs, D.ring);
    const m0 = typeof from === "string" ? monthIndex(from) : from;
    const m1 = typeof to === "string" ? monthIndex(to) : to;
    const gs = groupsOf(group || "violent");
    return { zone: sum(z.zone, m0, m1, gs), ring: sum(z.around, m0, m1, gs), city: sum(null, m0, m1, gs),
             cells: z.zone.length, area_km2: z.zone.length * G.cell * G.cell / 1e6 };
  };
  /* Every figure the panel shows, for a zone, a crime group and a start month. */
  api.figures = function (latlngs, group, start) {
    const s = typeof start === "string" ? monthIndex(start) : start;
    const z = cellsOf(latlngs, D.ring), gs = groupsOf(group);
    const area = z.zone.length * G.cell * G.cell / 1e6;
    const len = Math.max(Math.min(12, s, M - s), 0);
    const b = [s - len, s - 1], a = [s, s + len - 1];
    const win = (m0, m1) => {
      const zone = sum(z.zone, m0, m1, gs), city = sum(null, m0, m1, gs), ring = sum(z.around, m0, m1, gs);
      const share = city > 0 ? zone / city : NaN;
      return { from: D.months[m0], to: D.months[m1], zone, ring, city, share,
               pai: area > 0 ? share / (area / D.study_area_km2) : NaN };
    };
    const years = {}, nmonths = {};
    D.months.forEach((m, i) => {
      const y = m.slice(0, 4);
      years[y] = (years[y] || 0) + sum(z.zone, i, i, gs); nmonths[y] = (nmonths[y] || 0) + 1;
    });
    const before = len ? win(b[0], b[1]) : null, after = len ? win(a[0], a[1]) : null;
    const change = before && before.zone > 0 ? after.zone / before.zone - 1 : NaN;
    return { area_km2: area, cells: z.zone.length, years, nmonths, before, after, change,
             ring_change: before && before.ring > 0 ? after.ring / before.ring - 1 : NaN };
  };

  const map = L.map("map", { preferCanvas: false });
  window.izMap = map; /* for checkers and tests: the page's one Leaflet map */
  const outline = L.geoJSON(D.boundary, { style: { color: "#333", weight: 1.5, fill: false } }).addTo(map);
  map.fitBounds(outline.getBounds());
  const dens = L.imageOverlay("data:image/png;base64," + D.density.png, D.density.bounds, { opacity: 0.8 }).addTo(map);
  const districts = L.geoJSON(D.districts, { style: { color: "#222", weight: 1, fill: false, dashArray: "4 3" } });
  const zones = L.geoJSON(D.zones, { style: { color: "#7b1fa2", weight: 2.5, fillOpacity: 0.05 },
    onEachFeature: (f, l) => l.bindTooltip(document.createTextNode(f.properties.name || "")) }).addTo(map);
  const hot = L.layerGroup();
  const proposals = L.geoJSON(D.proposals, { style: { color: "#00897b", weight: 2, dashArray: "5 4", fillOpacity: 0.05 },
    onEachFeature: (f, l) => {
      l.bindTooltip(document.createTextNode(f.properties.summary || f.properties.name || ""));
      l.on("click", ev => { L.DomEvent.stopPropagation(ev); edit(l.getLatLngs()[0].map(p => [p.lat, p.lng])); });
    } }).addTo(map);
  /* each proposal's letter, as in the tables (a text node: a name never becomes markup);
     in the proposals' layer, so that they show and hide together */
  const letters = [];
  proposals.eachLayer(l => {
    const name = String((l.feature && l.feature.properties.name) || "").replace(/^Proposal /, "");
    if (!name || !l.getBounds) return;
    const span = document.createElement("span");
    span.textContent = name;
    letters.push(L.marker(l.getBounds().getCenter(), { interactive: false, keyboard: false,
      icon: L.divIcon({ className: "iz-prop-letter", html: span, iconSize: null }) }));
  });
  letters.forEach(m => proposals.addLayer(m));
  const overlays = {};
  overlays[D.density.label] = dens;
  overlays["Hot cells (top 2%, last 12 months)"] = hot;
  overlays["Existing Impact Zones"] = zones;
  overlays["Proposals (click one to edit it)"] = proposals;
  overlays["Patrol districts"] = districts;
  L.control.layers(null, overlays, { collapsed: false }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);

  /* the hand-written vertex tool */
  let verts = [], drawing = false;
  const shape = L.polygon([], { color: "#d81b60", weight: 3, fillOpacity: 0.15 }).addTo(map);
  const handles = L.layerGroup().addTo(map);
  function redraw() {
    shape.setLatLngs(verts);
    handles.clearLayers();
    verts.forEach((p, i) => {
      const m = L.marker(p, { draggable: true, icon: L.divIcon({ className: "iz-vertex", iconSize: [8, 8] }) });
      m.on("drag", e => { const q = e.target.getLatLng(); verts[i] = [q.lat, q.lng]; shape.setLatLngs(verts); });
      m.on("dragend", update);
      handles.addLayer(m);
    });
    update();
  }
  function edit(latlngs) {
    verts = latlngs.slice();
    if (verts.length > 1) {
      const a = verts[0], b = verts[verts.length - 1];
      if (a[0] === b[0] && a[1] === b[1]) verts.pop();
    }
    drawing = false; redraw();
  }
  api.setZone = edit;
  api.zone = () => verts.slice();
  map.on("click", e => { if (drawing) { verts.push([e.latlng.lat, e.latlng.lng]); redraw(); } });
  document.getElementById("iz-draw").onclick = () => { verts = []; drawing = true; redraw(); };
  document.getElementById("iz-done").onclick = () => { drawing = false; update(); };
  document.getElementById("iz-clear").onclick = () => { verts = []; drawing = false; redraw(); };

  api.geojson = function () {
    const ring = verts.map(p => [p[1], p[0]]);
    if (ring.length) ring.push(ring[0]);
    const start = document.getElementById("iz-start").value;
    return { type: "FeatureCollection", features: [{ type: "Feature",
      properties: { name: "Drawn zone", start: start ? start + "-01" : null },
      geometry: { type: "Polygon", coordinates: [ring] } }] };
  };
  document.getElementById("iz-export").onclick = () => {
    if (verts.length < 3) return;
    const blob = new Blob([JSON.stringify(api.geojson(), null, 1)], { type: "application/geo+json" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob); a.download = "drawn_zone.geojson";
    document.body.appendChild(a); a.click(); a.remove();
  };

  const gsel = document.getElementById("iz-group");
  [...D.groups, "all"].forEach(g => { const o = document.createElement("option"); o.value = g; o.textContent = g; gsel.appendChild(o); });
  const startIn = document.getElementById("iz-start");
  startIn.min = D.months[1]; startIn.max = D.months[M - 1];
  startIn.value = D.months[Math.max(M - 12, 1)];
  gsel.onchange = update; startIn.onchange = update;

  function cell(tr, text, tag) { const td = document.createElement(tag || "td"); td.textContent = text; tr.appendChild(td); }
  function fmt(v, digits) { return Number.isFinite(v) ? v.toFixed(digits) : "–"; }
  function pct(v) { return Number.isFinite(v) ? (v >= 0 ? "+" : "") + (100 * v).toFixed(1) + "%" : "–"; }
  function update() {
    const box = document.getElementById("iz-figures");
    box.replaceChildren();
    if (!counts || verts.length < 3) { const p = document.createElement("p"); p.className = "iz-note"; p.textContent = "No zone yet."; box.appendChild(p); return; }
    const f = api.figures(verts, gsel.value, startIn.value);
    api.last = f;
    const t = document.createElement("table");
    const rows = [["Area", fmt(f.area_km2, 2) + " km²"]];
    Object.keys(f.years).sort().forEach(y => rows.push([gsel.value + " in " + y +
      (f.nmonths[y] < 12 ? " (" + f.nmonths[y] + " months)" : ""), String(f.years[y])]));
    if (f.before) {
      rows.push(["Before: " + f.before.from + " to " + f.before.to, String(f.before.zone)]);
      rows.push(["After: " + f.after.from + " to " + f.after.to, String(f.after.zone)]);
      rows.push(["Change", pct(f.change)]);
      rows.push(["Share of the city's crime (before)", fmt(100 * f.before.share, 1) + "%"]);
      rows.push(["PAI (before)", fmt(f.before.pai, 2)]);
      rows.push(["PAI (after)", fmt(f.after.pai, 2)]);
      rows.push(["Ring (" + D.ring + " m) before / after", f.before.ring + " / " + f.after.ring]);
      rows.push(["Ring change", pct(f.ring_change)]);
    }
    rows.forEach(r => { const tr = document.createElement("tr"); cell(tr, r[0]); cell(tr, r[1]); t.appendChild(tr); });
    box.appendChild(t);
  }

  function showCapture(c) {
    const box = document.getElementById("iz-capture");
    const h = document.createElement("h2");
    h.textContent = "Capture of " + c.period + " crime by zones chosen from " + c.before;
    h.style.fontSize = "14px";
    box.appendChild(h);
    const t = document.createElement("table");
    c.rows.forEach((r, i) => { const tr = document.createElement("tr"); r.forEach(v => cell(tr, v, i ? "td" : "th")); t.appendChild(tr); });
    box.appendChild(t);
    const img = document.createElement("img");
    img.src = "data:image/png;base64," + c.png; img.alt = "Capture curves"; img.style.width = "100%";
    box.appendChild(img);
  }

  /* The sensitive incidents kept off the grid: only counts by district and year. */
  function showPrivate(p) {
    const box = document.getElementById("iz-private");
    const note = document.createElement("p");
    note.textContent = "Rape, sexual offences and domestic violence (" + p.total + " incidents) are not in " +
      "the grid, so a zone's figures leave them out. Counts by district and year only; " +
      "fewer than " + p.min_shown + " shown as <" + p.min_shown + ".";
    box.appendChild(note);
    if (!p.rows.length) return;
    const t = document.createElement("table");
    const head = document.createElement("tr");
    cell(head, "District", "th"); p.years.forEach(y => cell(head, String(y), "th"));
    t.appendChild(head);
    p.rows.forEach(r => {
      const tr = document.createElement("tr");
      cell(tr, r[0]);
      r.slice(1).forEach(v => cell(tr, v === null ? "<" + p.min_shown : String(v)));
      t.appendChild(tr);
    });
    box.appendChild(t);
  }

  (async function () {
    try {
      const idx = new Uint32Array((await inflate(G.cells)).buffer);
      cx = new Float64Array(N); cy = new Float64Array(N);
      let flat = 0;
      for (let c = 0; c < N; c++) {
        flat += idx[c];
        const r = Math.floor(flat / G.width), k = flat % G.width;
        cx[c] = G.x0 + (k + 0.5) * G.cell; cy[c] = G.y0 - (r + 0.5) * G.cell;
      }
      counts = new Uint16Array((await inflate(D.counts)).buffer);
      const hotBits = await inflate(D.density.hot);
      for (let f = 0; f < G.width * G.height; f++) {
        if (!(hotBits[f >> 3] & (128 >> (f & 7)))) continue;
        const r = Math.floor(f / G.width), k = f % G.width;
        const x = G.x0 + k * G.cell, y = G.y0 - r * G.cell;
        hot.addLayer(L.polygon([toLL(x, y), toLL(x + G.cell, y), toLL(x + G.cell, y - G.cell), toLL(x, y - G.cell)],
          { color: "#b2182b", weight: 0.5, fillOpacity: 0.5 }));
      }
      if (D.capture) showCapture(D.capture);
      if (D.private) showPrivate(D.private);
      document.getElementById("iz-about").textContent = "Grid: " + N + " cells of " + G.cell + " m, " + D.months[0] +
        " to " + D.months[M - 1] + "; " + D.outside + " incidents fall outside the grid or the months.";
      api.ready = true;
      update();
    } catch (e) { api.error = String(e); throw e; }
  })();
})();
