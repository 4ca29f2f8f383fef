// The case list's search box is sent in the page's address (GET, and htmx pushes it to the
// history): a NIK typed there would be kept by servers, history and Referer headers. Digits
// only, six or more, is a NIK being typed (a case number has letters or a slash): the request
// is not made, and the NIK box (a POST) is offered with the digits moved into it. The server
// refuses a whole NIK in the address anyway (cases.list_forms).
(function () {
  "use strict";
  function looksLikeNik(value) {
    var digits = (value || "").replace(/\s+/g, "");
    return /^\d{6,}$/.test(digits);
  }
  function offerNikBox(value) {
    var hint = document.getElementById("case-q-nik-hint");
    var box = document.getElementById("case-nik");
    var q = document.getElementById("id_q");
    if (hint) hint.classList.remove("d-none");
    if (box) box.value = (value || "").replace(/\s+/g, "");
    if (q) q.value = "";
    if (box) box.focus();
  }
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.target;
    if (!form || !form.matches || !form.matches("[data-testid=case-filters]")) return;
    var params = event.detail.parameters;
    var q = params && typeof params.get === "function" ? params.get("q") : params && params.q;
    if (looksLikeNik(q)) {
      event.preventDefault();
      offerNikBox(q);
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || !form.matches || !form.matches("[data-testid=case-filters]")) return;
    var q = form.querySelector("#id_q");
    if (q && looksLikeNik(q.value)) {
      // Before htmx (on the form) sees it: no request at all.
      event.preventDefault();
      event.stopPropagation();
      offerNikBox(q.value);
    }
  }, true);
})();
