// Per-query explorer: builds the table from the JSON in #explorer-data. Plain DOM, no network.
// Every data string is written with textContent (never innerHTML), so it stays text. Values keyed by data
// (query ids, method names) are read as own properties or from a Map, never through a plain object's
// prototype: a query id "__proto__", "constructor" or "toString" is an id like any other.
(function () {
  "use strict";
  var source = document.getElementById("explorer-data");
  var table = document.getElementById("explorer");
  if (!source || !table) { return; }
  var data = JSON.parse(source.textContent);
  var thead = table.tHead, tbody = table.tBodies[0];
  var filter = document.getElementById("explorer-filter");
  var select = document.getElementById("explorer-measure");
  var count = document.getElementById("explorer-count");
  var measure = Math.max(0, data.measures.indexOf(data.primary));
  var others = data.methods.filter(function (m) { return m !== data.baseline; });
  var sortKey = null, sortDir = 1, open = new Map();  // query id -> expanded
  function own(obj, key) {
    return obj !== null && typeof obj === "object" && Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
  }
  var linkOk = typeof data.product_url === "string" && /^https?:\/\//.test(data.product_url);

  data.rows.forEach(function (r) {
    var parts = [r.id, r.query];
    data.methods.forEach(function (m) {
      parts.push(own(r.expansions, m) || "");
      (own(r.top, m) || []).forEach(function (t) { parts.push(t[1]); });
    });
    r._search = parts.join(" \u0001 ").toLowerCase();
  });
  data.measures.forEach(function (name, i) {
    var option = document.createElement("option");
    option.value = String(i);
    option.textContent = name;
    option.selected = i === measure;
    select.appendChild(option);
  });

  function columns() {
    var cols = [
      {key: "id", label: "query id", get: function (r) { return r.id; }},
      {key: "query", label: "query", get: function (r) { return r.query; }}
    ];
    data.methods.forEach(function (m) {
      cols.push({key: "v:" + m, label: m + " " + data.measures[measure], num: true,
                 get: function (r) { return (own(r.values, m) || [])[measure]; }});
    });
    others.forEach(function (m) {
      cols.push({key: "d:" + m, label: "Δ " + m + " vs " + data.baseline, num: true, delta: true,
                 get: function (r) { return (own(r.deltas, m) || [])[measure]; }});
    });
    others.slice(0, 3).forEach(function (m) {
      cols.push({key: "e:" + m, label: m + " expansion", cls: "expansion",
                 get: function (r) { return own(r.expansions, m) || ""; }});
    });
    return cols;
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }

  function fmt(v) { return v === null || v === undefined ? "—" : Number(v).toFixed(4); }

  function header(cols) {
    thead.textContent = "";
    var tr = el("tr");
    cols.forEach(function (c) {
      var th = el("th", c.label, c.num ? "num" : "");
      th.setAttribute("data-key", c.key);
      th.setAttribute("aria-sort", c.key === sortKey ? (sortDir > 0 ? "ascending" : "descending") : "none");
      th.addEventListener("click", function () {
        if (sortKey === c.key) { sortDir = -sortDir; } else { sortKey = c.key; sortDir = c.num ? -1 : 1; }
        render();
      });
      tr.appendChild(th);
    });
    tr.appendChild(el("th", "details"));
    thead.appendChild(tr);
  }

  function compare(col) {
    return function (a, b) {
      var x = col.get(a), y = col.get(b);
      if (x === y) { return 0; }
      if (x === null || x === undefined) { return 1; }
      if (y === null || y === undefined) { return -1; }
      if (col.num) { return (x - y) * sortDir; }
      return String(x).localeCompare(String(y)) * sortDir;
    };
  }

  function detail(r, span) {
    var tr = el("tr", null, "detail");
    var td = el("td");
    td.colSpan = span;
    var grid = el("div", null, "methods");
    data.methods.forEach(function (m) {
      var box = el("div", null, "method");
      box.appendChild(el("h4", m));
      var exp = el("div");
      exp.appendChild(el("strong", "expansion: "));
      exp.appendChild(document.createTextNode(own(r.expansions, m) || "(none)"));
      box.appendChild(exp);
      var violations = own(r.violations, m) || [];
      if (violations.length) {
        box.appendChild(el("div", "rule violations: " + violations.join(", "), "violation"));
      }
      var list = el("ol");
      (own(r.top, m) || []).forEach(function (t) {
        var li = el("li");
        li.appendChild(el("span", t[2], "label label-" + t[2]));
        var name = t[1] || t[0];
        if (linkOk) {
          var a = el("a", name);
          a.href = data.product_url.split("{id}").join(encodeURIComponent(t[0]));
          a.rel = "noopener noreferrer";
          a.target = "_blank";
          li.appendChild(a);
        } else {
          li.appendChild(el("span", name));
        }
        li.appendChild(el("span", " (" + t[0] + ")", "note"));
        list.appendChild(li);
      });
      box.appendChild(list);
      grid.appendChild(box);
    });
    td.appendChild(grid);
    tr.appendChild(td);
    return tr;
  }

  function render() {
    var cols = columns();
    header(cols);
    var needle = (filter.value || "").trim().toLowerCase();
    var rows = data.rows.filter(function (r) { return !needle || r._search.indexOf(needle) >= 0; });
    var col = cols.filter(function (c) { return c.key === sortKey; })[0];
    if (col) { rows = rows.slice().sort(compare(col)); }
    var body = document.createDocumentFragment();
    rows.forEach(function (r) {
      var tr = el("tr");
      tr.setAttribute("data-query-id", r.id);
      cols.forEach(function (c) {
        var v = c.get(r);
        var cls = c.num ? "num" + (c.delta && v > 0 ? " pos" : c.delta && v < 0 ? " neg" : "") : (c.cls || "");
        tr.appendChild(el("td", c.num ? fmt(v) : v, cls));
      });
      var cell = el("td");
      var expanded = open.get(r.id) === true;
      var button = el("button", expanded ? "hide" : "show", "toggle");
      button.type = "button";
      button.addEventListener("click", function () { open.set(r.id, !expanded); render(); });
      cell.appendChild(button);
      tr.appendChild(cell);
      body.appendChild(tr);
      if (expanded) { body.appendChild(detail(r, cols.length + 1)); }
    });
    tbody.textContent = "";
    tbody.appendChild(body);
    var shown = rows.length + " of " + data.rows.length + " queries shown";
    if (data.total_queries > data.rows.length) {
      shown += " (the " + data.rows.length + " of " + data.total_queries +
        " where methods differ most from the baseline)";
    }
    count.textContent = shown;
  }

  filter.addEventListener("input", render);
  select.addEventListener("change", function () { measure = Number(select.value); render(); });
  render();
}());
