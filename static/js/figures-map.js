// The map of open cases (/map/). The figures come from the JSON endpoint named in the map
// box's data-url (the page's own filters); the same figures are in the table below it, so
// nothing is lost when Leaflet or the tiles cannot load. Texts come from the server, put
// into the page as text (never as HTML). A click on a kab/kota loads its panel beside the
// map (htmx), or opens the page for it without htmx.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.querySelector("[data-figures-map]");
  if (!box || typeof window.L === "undefined") { return; }
  var L = window.L;
  // The bubbles' SVG is exactly the map's size (no padding around it) and the view jumps
  // rather than zooms to the figures: nothing is ever drawn wider than the map's box.
  var map = L.map(box, { scrollWheelZoom: false, renderer: L.svg({ padding: 0 }) }).setView([-2.5, 118], 4);
  // The services lie under the bubbles (figures-map.css gives their pane its place), so a
  // service in a kab/kota's centre never hides the kab/kota's bubble. They are drawn on one
  // canvas: Indonesia has thousands of LKSA, too many for one DOM element each on a phone.
  map.createPane("services");
  var services = L.canvas({ pane: "services" });
  if (box.dataset.tileUrl) {
    L.tileLayer(box.dataset.tileUrl, { maxZoom: 18, attribution: box.dataset.attribution || "" }).addTo(map);
  }

  function text(tag, value, className) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (className) { el.className = className; }
    return el;
  }

  function showRegion(code) {
    var url = box.dataset.regionUrl + encodeURIComponent(code);
    if (window.htmx) {
      window.htmx.ajax("GET", url, { target: "#map-region", swap: "innerHTML" });
    } else {
      var query = box.dataset.pageQuery;
      window.location.assign("?" + (query ? query + "&" : "") + "region=" + encodeURIComponent(code) + "#map-region");
    }
  }

  fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (data) {
      if (!data) { return; }
      var bounds = [];
      data.organisations.forEach(function (org) {
        var marker = L.circleMarker([org.lat, org.lng], {
          renderer: services, radius: 4, weight: 1, color: "#ffffff", fillColor: "#1f618d", fillOpacity: 1
        });
        var popup = document.createElement("div");
        var link = text("a", org.name);
        link.href = org.url;
        popup.appendChild(link);
        popup.appendChild(document.createElement("br"));
        popup.appendChild(text("span", org.kind));
        popup.appendChild(document.createElement("br"));
        popup.appendChild(text("span", org.places));
        marker.bindPopup(popup).addTo(map);
      });
      data.regencies.forEach(function (row) {
        var classes = "map-bubble" + (row.count === null ? " map-bubble-hidden" : "") + (row.approximate ? " map-bubble-approximate" : "");
        var bubble = L.circleMarker([row.lat, row.lng], { radius: row.radius, className: classes });
        bubble.bindTooltip(text("span", row.label));
        bubble.on("click", function () { showRegion(row.code); });
        bubble.addTo(map);
        bounds.push([row.lat, row.lng]);
      });
      if (bounds.length === 1) {
        map.setView(bounds[0], 8, { animate: false });
      } else if (bounds.length > 1) {
        map.fitBounds(bounds, { padding: [30, 30], maxZoom: 9, animate: false });
      }
      box.dataset.loaded = String(data.regencies.length);
    });
});
