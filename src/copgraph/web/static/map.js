// The interactive map on /map: Cytoscape.js over /map/network.json, filtered by the form's theme and year exactly
// as the server filters the tables (the rules are in the JSON's "definitions"). Without JavaScript the page keeps
// its tables; with it, the map section is shown. Every value from the data is set as text, never as HTML.
(function () {
  "use strict";
  var section = document.getElementById("map-section");
  if (!section || typeof cytoscape !== "function") {
    return;
  }
  var container = document.getElementById("map");
  var picker = document.getElementById("node-picker");
  var details = document.getElementById("node-details");
  var status = document.getElementById("map-count");
  var KINDS = ["community", "theme", "hashtag", "organisation", "platform"];
  var KIND_NAMES = {
    community: "Community",
    theme: "Theme",
    hashtag: "Hashtag",
    organisation: "Organisation",
    platform: "Platform",
  };
  var COLOURS = {
    community: "#1f5fa8",
    theme: "#2e7d32",
    hashtag: "#7b1fa2",
    organisation: "#b35900",
    platform: "#455a64",
  };
  var SHAPES = {
    community: "ellipse",
    theme: "round-rectangle",
    hashtag: "diamond",
    organisation: "rectangle",
    platform: "hexagon",
  };
  var order = []; // nodes in the picker's order, for moving through them with the arrow keys
  section.hidden = false;

  // YEAR_RULE of copgraph.model.network: founded by the year and not recorded closed before it, or observed that year.
  function onMapIn(node, year) {
    var lasting = node.founded !== null && node.founded <= year && (node.closed === null || node.closed >= year);
    return lasting || node.observed.indexOf(year) >= 0;
  }

  function filterValue(name) {
    var field = document.getElementById(name);
    return field ? field.value : "";
  }

  // THEME_RULE: a theme keeps the communities with that theme and everything they connect to.
  function visibleElements(data, themeSlug, year) {
    var theme = data.themes.filter(function (t) { return t.slug === themeSlug; })[0];
    var withTheme = {};
    data.edges.forEach(function (edge) {
      if (theme && edge.kind === "theme" && edge.target === theme.id) {
        withTheme[edge.source] = true;
      }
    });
    var kept = {};
    data.nodes.forEach(function (node) {
      if (node.kind === "community" && (!theme || withTheme[node.id]) && (!year || onMapIn(node, year))) {
        kept[node.id] = true;
      }
    });
    var edges = data.edges.filter(function (edge) {
      return kept[edge.source] && (edge.kind !== "part-of" || kept[edge.target]);
    });
    var degree = {};
    edges.forEach(function (edge) {
      degree[edge.source] = (degree[edge.source] || 0) + 1;
      degree[edge.target] = (degree[edge.target] || 0) + 1;
    });
    var nodes = data.nodes.filter(function (node) { return kept[node.id] || degree[node.id]; });
    return nodes.map(function (node) {
      var extra = { href: node.links.local_href, degree: degree[node.id] || 0 };
      return { group: "nodes", data: Object.assign({}, node, extra) };
    }).concat(edges.map(function (edge) { return { group: "edges", data: edge }; }));
  }

  function style() {
    var rules = [
      {
        selector: "node",
        style: {
          label: "data(label)",
          "font-size": "mapData(degree, 0, 25, 8, 16)", // hubs keep their labels when the whole map is shown
          "text-valign": "bottom",
          "text-margin-y": 2,
          color: "#1a1a1a",
          "text-outline-color": "#ffffff",
          "text-outline-width": 2,
          "min-zoomed-font-size": 8,
          width: "mapData(degree, 0, 25, 14, 46)",
          height: "mapData(degree, 0, 25, 14, 46)",
          "border-width": 1,
          "border-color": "#ffffff",
        },
      },
      { selector: "edge", style: { width: 1, "line-color": "#9e9e9e", opacity: 0.6, "curve-style": "haystack" } },
      { selector: "edge[kind = 'part-of']", style: { "line-style": "dashed", "line-color": "#1f5fa8", opacity: 1 } },
      { selector: ".faded", style: { opacity: 0.15 } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#111111", "font-size": 12, "z-index": 10 } },
      { selector: "edge.near", style: { "line-color": "#111111", opacity: 1, width: 2 } },
    ];
    KINDS.forEach(function (kind) {
      rules.push({
        selector: "node[kind = '" + kind + "']",
        style: { "background-color": COLOURS[kind], shape: SHAPES[kind] },
      });
    });
    return rules;
  }

  function element(tag, text) {
    var node = document.createElement(tag);
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function fillPicker(cy) {
    order = [];
    KINDS.forEach(function (kind) {
      var nodes = cy.nodes("[kind = '" + kind + "']").sort(function (a, b) {
        return a.data("label").localeCompare(b.data("label"));
      });
      if (nodes.length === 0) {
        return;
      }
      var group = document.createElement("optgroup");
      group.label = KIND_NAMES[kind] + " (" + nodes.length + ")";
      nodes.forEach(function (node) {
        var option = element("option", node.data("label"));
        option.value = node.id();
        group.appendChild(option);
        order.push(node);
      });
      picker.appendChild(group);
    });
  }

  function facts(node) {
    var lines = [KIND_NAMES[node.data("kind")] || node.data("kind")];
    if (node.data("kind") === "community") {
      if (node.data("status")) {
        lines.push("Status: " + node.data("status"));
      }
      if (node.data("founded") !== null) {
        lines.push("Founded: " + node.data("founded"));
      }
      if (node.data("closed") !== null) {
        lines.push("Recorded as closed in " + node.data("closed"));
      }
      if (node.data("observed").length) {
        lines.push("Observed in: " + node.data("observed").join(", "));
      }
    }
    return lines;
  }

  function showDetails(cy, node) {
    details.replaceChildren();
    var heading = element("h3", node.data("label"));
    heading.id = "details-heading";
    details.appendChild(heading);
    var list = element("ul");
    facts(node).forEach(function (line) { list.appendChild(element("li", line)); });
    details.appendChild(list);
    var record = element("a", "Open the record of " + node.data("label"));
    record.href = node.data("href");
    details.appendChild(element("p")).appendChild(record);
    var neighbours = node.neighborhood("node").sort(function (a, b) {
      return a.data("label").localeCompare(b.data("label"));
    });
    details.appendChild(element("h4", "Connected to (" + neighbours.length + ")"));
    var links = element("ul");
    links.className = "neighbours";
    neighbours.forEach(function (neighbour) {
      var edge = node.edgesWith(neighbour)[0];
      var button = element("button", neighbour.data("label"));
      button.type = "button";
      button.className = "linkish";
      button.addEventListener("click", function () { select(cy, neighbour, true); });
      var item = element("li");
      item.appendChild(button);
      item.appendChild(document.createTextNode(" (" + (edge ? edge.data("label") : "") + ")"));
      links.appendChild(item);
    });
    details.appendChild(links);
  }

  function select(cy, node, centre) {
    cy.elements().unselect().removeClass("faded near");
    node.select();
    var near = node.closedNeighborhood();
    cy.elements().not(near).addClass("faded");
    near.edges().addClass("near");
    if (centre) {
      cy.animate({ center: { eles: node }, duration: 200 });
    }
    picker.value = node.id();
    showDetails(cy, node);
  }

  function clear(cy) {
    cy.elements().unselect().removeClass("faded near");
    picker.value = "";
    details.replaceChildren(element("h3", "Details"), element("p", "Select a node to see its details."));
  }

  function step(cy, by) {
    if (order.length === 0) {
      return;
    }
    var selected = cy.nodes(":selected")[0];
    var index = selected ? order.indexOf(selected) : -1;
    var next = index < 0 ? (by > 0 ? 0 : order.length - 1) : (index + by + order.length) % order.length;
    select(cy, order[next], true);
  }

  function bindKeys(cy) {
    container.addEventListener("keydown", function (event) {
      var selected = cy.nodes(":selected")[0];
      if (event.key === "ArrowRight" || event.key === "ArrowDown") {
        step(cy, 1);
      } else if (event.key === "ArrowLeft" || event.key === "ArrowUp") {
        step(cy, -1);
      } else if (event.key === "Enter" && selected) {
        window.location.href = selected.data("href");
      } else if (event.key === "Escape") {
        clear(cy);
      } else if (event.key === "+" || event.key === "=") {
        cy.zoom({ level: cy.zoom() * 1.25, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
      } else if (event.key === "-") {
        cy.zoom({ level: cy.zoom() / 1.25, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
      } else {
        return;
      }
      event.preventDefault();
    });
  }

  function draw(data) {
    var year = Number(filterValue("year")) || null;
    var cy = cytoscape({
      container: container,
      elements: visibleElements(data, filterValue("theme"), year),
      style: style(),
      selectionType: "single",
      boxSelectionEnabled: false,
    });
    cy.layout({ name: "cose", animate: false, nodeRepulsion: function () { return 9000; }, idealEdgeLength: function () { return 50; } }).run();
    var communities = cy.nodes("[kind = 'community']").length;
    status.textContent = "The map shows " + cy.nodes().length + " nodes (" + communities + " communities) and " +
      cy.edges().length + " connections.";
    container.setAttribute("data-nodes", String(cy.nodes().length));
    fillPicker(cy);
    cy.on("tap", "node", function (event) { select(cy, event.target, false); });
    cy.on("tap", function (event) {
      if (event.target === cy) {
        clear(cy);
      }
    });
    picker.addEventListener("change", function () {
      var node = cy.getElementById(picker.value);
      if (node.nonempty()) {
        select(cy, node, true);
      } else {
        clear(cy);
      }
    });
    document.getElementById("map-fit").addEventListener("click", function () { cy.fit(undefined, 20); });
    bindKeys(cy);
    window.copgraphMap = cy;
  }

  fetch("/map/network.json", { headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("the server answered " + response.status);
      }
      return response.json();
    })
    .then(draw)
    .catch(function (error) {
      status.textContent = "The map could not be drawn (" + error.message + "); the tables below hold the same network.";
      container.hidden = true;
    });
})();
