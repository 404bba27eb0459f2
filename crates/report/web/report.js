// ctiforge report page: the threat graph (pan, zoom, select, type filters, search), the IOC
// filter and exports, copy buttons and query tabs. The graph is drawn by ctiforge as SVG; this
// script only moves and highlights it. Everything it needs is in the page; it makes no network
// request.
(function () {
  'use strict';

  var bundleElement = document.getElementById('ctiforge-bundle');
  var bundle = bundleElement ? JSON.parse(bundleElement.textContent) : { objects: [] };
  var byId = {};
  bundle.objects.forEach(function (o) { byId[o.id] = o; });

  var svg = document.getElementById('graph-svg');
  if (svg) { setUpGraph(svg); }

  function setUpGraph(svg) {
    var viewport = document.getElementById('graph-viewport');
    var nodes = Array.prototype.slice.call(svg.querySelectorAll('.node'));
    var edges = Array.prototype.slice.call(svg.querySelectorAll('.edge'));
    var details = document.getElementById('graph-details');
    var width = parseFloat(svg.getAttribute('data-width'));
    var height = parseFloat(svg.getAttribute('data-height'));
    var view = { x: 0, y: 0, scale: 1 };
    var selected = null;

    // Which edges touch each node.
    var touching = nodes.map(function () { return []; });
    edges.forEach(function (edge) {
      touching[+edge.getAttribute('data-source')].push(edge);
      touching[+edge.getAttribute('data-target')].push(edge);
    });
    function label(node) {
      var title = node.querySelector('title');
      var text = title ? title.textContent : '';
      return text.slice(text.indexOf(': ') + 2);
    }

    function apply() {
      viewport.setAttribute('transform',
        'translate(' + view.x + ' ' + view.y + ') scale(' + view.scale + ')');
    }
    function zoomAt(factor, cx, cy) {
      var next = Math.min(8, Math.max(0.2, view.scale * factor));
      factor = next / view.scale;
      view.x = cx - (cx - view.x) * factor;
      view.y = cy - (cy - view.y) * factor;
      view.scale = next;
      apply();
    }
    function fit() { view = { x: 0, y: 0, scale: 1 }; apply(); }
    // Screen point → drawing coordinates (before the viewport's own transform).
    function toDrawing(event) {
      var box = svg.getBoundingClientRect();
      var s = Math.min(box.width / width, box.height / height);
      var offsetX = (box.width - width * s) / 2;
      var offsetY = (box.height - height * s) / 2;
      return { x: (event.clientX - box.left - offsetX) / s, y: (event.clientY - box.top - offsetY) / s };
    }

    svg.addEventListener('wheel', function (event) {
      event.preventDefault();
      var p = toDrawing(event);
      zoomAt(event.deltaY < 0 ? 1.2 : 1 / 1.2, p.x, p.y);
    }, { passive: false });
    var drag = null;
    svg.addEventListener('pointerdown', function (event) {
      if (event.target.closest('.node')) { return; }
      var p = toDrawing(event);
      drag = { x: p.x - view.x, y: p.y - view.y, moved: false };
      svg.setPointerCapture(event.pointerId);
    });
    svg.addEventListener('pointermove', function (event) {
      if (!drag) { return; }
      var p = toDrawing(event);
      view.x = p.x - drag.x; view.y = p.y - drag.y; drag.moved = true;
      apply();
    });
    svg.addEventListener('pointerup', function (event) {
      if (drag && !drag.moved && !event.target.closest('.node')) { clear(); }
      drag = null;
    });

    function clear() {
      selected = null;
      nodes.forEach(function (n) { n.classList.remove('faded', 'selected'); });
      edges.forEach(function (e) { e.classList.remove('faded', 'lit'); });
    }

    function show(node) {
      selected = node;
      var index = +node.getAttribute('data-index');
      var lit = {}; lit[index] = true;
      touching[index].forEach(function (e) {
        lit[+e.getAttribute('data-source')] = true; lit[+e.getAttribute('data-target')] = true;
      });
      nodes.forEach(function (n, i) {
        n.classList.toggle('faded', !lit[i]);
        n.classList.toggle('selected', i === index);
      });
      edges.forEach(function (e) {
        var on = touching[index].indexOf(e) >= 0;
        e.classList.toggle('faded', !on); e.classList.toggle('lit', on);
      });
      var o = byId[node.getAttribute('data-id')] || {};
      details.textContent = '';
      var h = document.createElement('h3'); h.textContent = label(node); details.appendChild(h);
      var kind = document.createElement('p'); kind.className = 'muted';
      kind.textContent = node.getAttribute('data-type'); details.appendChild(kind);
      if (o.description) {
        var d = document.createElement('p'); d.className = 'evidence'; d.textContent = o.description;
        details.appendChild(d);
      }
      if (o.pattern) {
        var code = document.createElement('code'); code.textContent = o.pattern; details.appendChild(code);
      }
      (o.external_references || []).forEach(function (r) {
        if (!r.url) { return; }
        var a = document.createElement('a');
        a.href = r.url; a.textContent = (r.external_id || r.source_name) + ' ↗';
        a.rel = 'noreferrer'; a.target = '_blank';
        var line = document.createElement('p'); line.appendChild(a); details.appendChild(line);
      });
      var links = touching[index].map(function (e) {
        var source = +e.getAttribute('data-source');
        var other = source === index ? +e.getAttribute('data-target') : source;
        var relation = e.querySelector('title').textContent;
        return { text: relation, node: nodes[other] };
      });
      if (links.length) {
        var ul = document.createElement('ul');
        links.slice(0, 40).forEach(function (link) {
          var li = document.createElement('li');
          var b = document.createElement('button'); b.type = 'button'; b.className = 'link';
          b.textContent = link.text;
          b.addEventListener('click', function () { show(link.node); link.node.focus(); });
          li.appendChild(b); ul.appendChild(li);
        });
        details.appendChild(ul);
      }
    }

    nodes.forEach(function (node) {
      node.addEventListener('click', function () { show(node); });
      node.addEventListener('keydown', function (event) {
        if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); show(node); }
        if (event.key === 'Escape') { clear(); }
      });
    });

    // Type filters.
    var legend = document.getElementById('graph-legend');
    if (legend) {
      legend.querySelectorAll('input[data-type]').forEach(function (box) {
        box.addEventListener('change', function () {
          var type = box.getAttribute('data-type');
          nodes.forEach(function (n, i) {
            if (n.getAttribute('data-type') !== type) { return; }
            n.classList.toggle('hidden', !box.checked);
            touching[i].forEach(function (e) {
              var a = nodes[+e.getAttribute('data-source')], b = nodes[+e.getAttribute('data-target')];
              e.classList.toggle('hidden', a.classList.contains('hidden') || b.classList.contains('hidden'));
            });
          });
        });
      });
    }

    // Search: matching nodes stay lit.
    var search = document.getElementById('graph-search');
    if (search) {
      search.addEventListener('input', function () {
        var q = search.value.trim().toLowerCase();
        if (!q) { clear(); return; }
        nodes.forEach(function (n) { n.classList.toggle('faded', label(n).toLowerCase().indexOf(q) < 0); });
        edges.forEach(function (e) { e.classList.add('faded'); });
      });
    }
    var button = function (id, action) {
      var b = document.getElementById(id);
      if (b) { b.addEventListener('click', action); }
    };
    button('graph-fit', fit);
    button('graph-zoom-in', function () { zoomAt(1.3, width / 2, height / 2); });
    button('graph-zoom-out', function () { zoomAt(1 / 1.3, width / 2, height / 2); });

    window.ctiforgeGraph = {
      total: +svg.getAttribute('data-total') || nodes.length,
      nodes: function () {
        return nodes.map(function (n) {
          return { id: n.getAttribute('data-id'), type: n.getAttribute('data-type'), label: label(n) };
        });
      },
      select: function (id) {
        var node = nodes.find(function (n) { return n.getAttribute('data-id') === id; });
        if (node) { show(node); }
        return !!node;
      },
      selected: function () { return selected ? selected.getAttribute('data-id') : null; }
    };
  }

  // IOC table: filter, copy, export.
  var filter = document.getElementById('ioc-filter');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#ioc-table tbody tr'));
  var shown = document.getElementById('ioc-count');
  function applyFilter() {
    var q = filter.value.trim().toLowerCase();
    var visible = 0;
    rows.forEach(function (row) {
      var hit = !q || row.textContent.toLowerCase().indexOf(q) >= 0;
      row.hidden = !hit;
      if (hit) { visible += 1; }
    });
    if (shown) { shown.textContent = visible + ' of ' + rows.length; }
  }
  if (filter) { filter.addEventListener('input', applyFilter); applyFilter(); }

  function copy(text, button) {
    var done = function () {
      var before = button.textContent;
      button.textContent = 'Copied';
      setTimeout(function () { button.textContent = before === 'Copied' ? 'Copy' : before; }, 1200);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
    } else { fallback(text); done(); }
  }
  function fallback(text) {
    var area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    try { document.execCommand('copy'); } catch (e) { /* the text stays selected */ }
    document.body.removeChild(area);
  }
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    button.addEventListener('click', function () { copy(button.getAttribute('data-copy'), button); });
  });

  // Query tabs: one panel visible per rule; arrows move between tabs.
  document.querySelectorAll('.query-tabs').forEach(function (group) {
    var tabs = Array.prototype.slice.call(group.querySelectorAll('[role="tab"]'));
    function select(index) {
      tabs.forEach(function (tab, i) {
        var on = i === index;
        tab.setAttribute('aria-selected', on ? 'true' : 'false');
        tab.tabIndex = on ? 0 : -1;
        document.getElementById(tab.getAttribute('aria-controls')).hidden = !on;
      });
    }
    tabs.forEach(function (tab, i) {
      tab.addEventListener('click', function () { select(i); });
      tab.addEventListener('keydown', function (e) {
        var next = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : null;
        if (next === null) { return; }
        next = (next + tabs.length) % tabs.length;
        select(next); tabs[next].focus(); e.preventDefault();
      });
    });
    select(0);
  });

  function download(name, type, text) {
    var a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: type }));
    a.download = name; document.body.appendChild(a); a.click(); document.body.removeChild(a);
  }
  var csvButton = document.getElementById('ioc-csv');
  if (csvButton) {
    csvButton.addEventListener('click', function () {
      var lines = ['type,value,defanged,occurrences'];
      rows.filter(function (r) { return !r.hidden; }).forEach(function (r) {
        var c = r.querySelectorAll('td');
        lines.push([c[0].textContent, c[1].dataset.value, c[2].textContent, c[3].textContent]
          .map(function (v) { return '"' + String(v).replace(/"/g, '""') + '"'; }).join(','));
      });
      download('iocs.csv', 'text/csv', lines.join('\n') + '\n');
    });
  }
  var stixButton = document.getElementById('stix-download');
  if (stixButton) {
    stixButton.addEventListener('click', function () {
      download('bundle.json', 'application/json', JSON.stringify(bundle, null, 2));
    });
  }
})();
