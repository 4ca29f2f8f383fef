// The pin on an organisation's page. Coordinates and the tile server come from the map
// box's data- attributes; the coordinates are on the page as text as well, so when
// Leaflet or the tiles cannot load (offline, blocked) nothing is lost. Without a tile
// server (ATENSI_MAP_TILE_URL empty) the pin is drawn on a plain background.
document.addEventListener("DOMContentLoaded", function () {
  if (typeof window.L === "undefined") { return; }
  document.querySelectorAll("[data-organisation-map]").forEach(function (box) {
    var lat = parseFloat(box.dataset.lat);
    var lon = parseFloat(box.dataset.lon);
    if (!isFinite(lat) || !isFinite(lon)) { return; }
    box.classList.add("is-ready"); // gives the box its size before Leaflet measures it
    var map = window.L.map(box, { scrollWheelZoom: false }).setView([lat, lon], parseInt(box.dataset.zoom, 10) || 13);
    if (box.dataset.tileUrl) {
      window.L.tileLayer(box.dataset.tileUrl, { maxZoom: 19, attribution: box.dataset.attribution || "" }).addTo(map);
    }
    window.L.marker([lat, lon], { title: box.dataset.label || "", alt: box.dataset.label || "" }).addTo(map);
  });
});
