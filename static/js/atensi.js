// Small behaviours for the portal. Loaded from our own origin: the CSP forbids inline script.
document.addEventListener("DOMContentLoaded", function () {
  // htmx is configured to keep no page copies (historyCacheSize 0); drop any an older
  // version of the portal left in this browser, with children's names in them.
  try { window.localStorage.removeItem("htmx-history-cache"); } catch (e) { /* storage off */ }
  // Stop double submits on slow connections: a form's submit buttons are disabled
  // once it is on its way. The server is idempotent too; this saves a round trip.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
        window.setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  });
});
