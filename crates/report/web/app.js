// ctiforge report page: the threat graph (cytoscape.js), the IOC filter and exports, copy
// buttons. Everything it needs is inlined in the page; it makes no network request.
(function () {
  'use strict';
  var bundle = JSON.parse(document.getElementById('ctiforge-bundle').textContent);
  var byId = {};
  bundle.objects.forEach(function (o) { byId[o.id] = o; });

  // Graphable STIX types: colour, shape and legend label.
  var TYPES = {
    'intrusion-set': { color: '#b3261e', shape: 'diamond', label: 'Threat actor' },
    'campaign': { color: '#7d2ae8', shape: 'hexagon', label: 'Campaign' },
    'malware': { color: '#c75b00', shape: 'octagon', label: 'Malware' },
    'tool': { color: '#8a6d00', shape: 'round-rectangle', label: 'Tool' },
    'attack-pattern': { color: '#1a5fb4', shape: 'ellipse', label: 'Technique' },
    'indicator': { color: '#26734d', shape: 'triangle', label: 'Indicator' },
    'vulnerability': { color: '#a1005a', shape: 'star', label: 'Vulnerability' },
    'course-of-action': { color: '#4d5b6b', shape: 'rectangle', label: 'Mitigation' }
  };

  function nodeLabel(o) {
    var ref = (o.external_references || []).find(function (r) { return r.external_id; });
    if (o.type === 'attack-pattern' && ref) { return ref.external_id + ' ' + o.name; }
    return o.name || o.id;
  }

  var elements = [];
  bundle.objects.forEach(function (o) {
    if (TYPES[o.type]) {
      elements.push({ group: 'nodes', data: { id: o.id, label: nodeLabel(o), type: o.type } });
    }
  });
  bundle.objects.forEach(function (o) {
    if (o.type === 'relationship' && TYPES[(byId[o.source_ref] || {}).type] && TYPES[(byId[o.target_ref] || {}).type]) {
      elements.push({ group: 'edges', data: { id: o.id, source: o.source_ref, target: o.target_ref, label: o.relationship_type } });
    }
  });

  var style = [
    { selector: 'node', style: {
      'label': 'data(label)', 'font-size': 9, 'text-wrap': 'ellipsis', 'text-max-width': 120,
      'text-valign': 'bottom', 'text-margin-y': 3, 'width': 18, 'height': 18,
      'color': '#1f1f1f', 'text-background-color': '#ffffff', 'text-background-opacity': 0.7 } },
    { selector: 'edge', style: {
      'width': 1, 'line-color': '#9aa3ad', 'curve-style': 'bezier', 'target-arrow-shape': 'triangle',
      'target-arrow-color': '#9aa3ad', 'arrow-scale': 0.6 } },
    { selector: '.faded', style: { 'opacity': 0.12 } },
    { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#000000' } },
    { selector: '.hidden', style: { 'display': 'none' } }
  ];
  Object.keys(TYPES).forEach(function (t) {
    style.push({ selector: 'node[type = "' + t + '"]', style: { 'background-color': TYPES[t].color, 'shape': TYPES[t].shape } });
  });

  var container = document.getElementById('graph-canvas');
  var cy = cytoscape({
    container: container, elements: elements, style: style,
    layout: { name: 'cose', animate: false, randomize: false, nodeRepulsion: 9000, idealEdgeLength: 70, numIter: 1500 },
    wheelSensitivity: 0.3, minZoom: 0.1, maxZoom: 4
  });
  window.ctiforgeGraph = cy;

  // Legend and type filters.
  var legend = document.getElementById('graph-legend');
  Object.keys(TYPES).forEach(function (t) {
    var count = cy.nodes('[type = "' + t + '"]').length;
    if (!count) { return; }
    var label = document.createElement('label');
    var box = document.createElement('input');
    box.type = 'checkbox'; box.checked = true; box.dataset.type = t;
    box.addEventListener('change', function () {
      cy.nodes('[type = "' + t + '"]').toggleClass('hidden', !box.checked);
    });
    var swatch = document.createElement('span');
    swatch.className = 'swatch'; swatch.style.background = TYPES[t].color;
    swatch.setAttribute('aria-hidden', 'true');
    label.appendChild(box); label.appendChild(swatch);
    label.appendChild(document.createTextNode(' ' + TYPES[t].label + ' (' + count + ')'));
    legend.appendChild(label);
  });

  // Details of a node, and its neighbourhood highlighted.
  var details = document.getElementById('graph-details');
  function show(node) {
    var o = byId[node.id()];
    cy.elements().addClass('faded');
    node.closedNeighborhood().removeClass('faded');
    details.innerHTML = '';
    var h = document.createElement('h3');
    h.textContent = nodeLabel(o);
    var kind = document.createElement('p');
    kind.className = 'muted';
    kind.textContent = (TYPES[o.type] || {}).label || o.type;
    details.appendChild(h); details.appendChild(kind);
    if (o.description) {
      var d = document.createElement('p');
      d.className = 'evidence';
      d.textContent = o.description;
      details.appendChild(d);
    }
    if (o.pattern) {
      var p = document.createElement('code');
      p.textContent = o.pattern;
      details.appendChild(p);
    }
    (o.external_references || []).forEach(function (r) {
      if (!r.url) { return; }
      var a = document.createElement('a');
      a.href = r.url; a.textContent = (r.external_id || r.source_name) + ' ↗';
      a.rel = 'noreferrer'; a.target = '_blank';
      var line = document.createElement('p'); line.appendChild(a);
      details.appendChild(line);
    });
    var links = node.connectedEdges().map(function (e) {
      var other = e.source().id() === node.id() ? e.target() : e.source();
      return e.data('label') + ' → ' + other.data('label');
    });
    if (links.length) {
      var ul = document.createElement('ul');
      links.slice(0, 30).forEach(function (text) {
        var li = document.createElement('li'); li.textContent = text; ul.appendChild(li);
      });
      details.appendChild(ul);
    }
    details.focus();
  }
  cy.on('tap', 'node', function (event) { show(event.target); });
  cy.on('tap', function (event) {
    if (event.target === cy) { cy.elements().removeClass('faded'); }
  });

  // Search: matching nodes stay lit.
  var search = document.getElementById('graph-search');
  search.addEventListener('input', function () {
    var q = search.value.trim().toLowerCase();
    if (!q) { cy.elements().removeClass('faded'); return; }
    cy.elements().addClass('faded');
    cy.nodes().filter(function (n) { return n.data('label').toLowerCase().indexOf(q) >= 0; })
      .removeClass('faded');
  });
  document.getElementById('graph-fit').addEventListener('click', function () { cy.fit(undefined, 20); });

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
    shown.textContent = visible + ' of ' + rows.length;
  }
  if (filter) { filter.addEventListener('input', applyFilter); applyFilter(); }

  function copy(text, button) {
    var done = function () { button.textContent = 'Copied'; setTimeout(function () { button.textContent = 'Copy'; }, 1200); };
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
    a.href = 'data:' + type + ';charset=utf-8,' + encodeURIComponent(text);
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
