// Starts YASGUI on /sparql, prefilled with copgraph's prefixes; the example buttons load the canned queries.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("copgraph-editor-data").textContent);
  var endpoint = new URL("/sparql", window.location.href).toString();
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
    persistenceId: null,
  });
  yasgui.getTab().setQuery(data.starter);
  document.querySelectorAll("[data-query-index]").forEach(function (button) {
    button.addEventListener("click", function () {
      var query = data.queries[Number(button.getAttribute("data-query-index"))];
      yasgui.getTab().setQuery(query.text);
      document.getElementById("yasgui").scrollIntoView();
    });
  });
})();
