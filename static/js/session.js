// The idle warning: shortly before the server signs an idle session out
// (stakeholders.sessions), a warning offers to stay signed in. The countdown is asked of the
// server, marked as a poll so asking is not activity: another tab's work counts too.
document.addEventListener("DOMContentLoaded", function () {
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-session-idle") || "0", 10);
  var url = body.getAttribute("data-session-url");
  var warning = document.getElementById("session-warning");
  if (!idle || !url || !warning) { return; }
  var lead = Math.min(120, Math.floor(idle / 2)); // seconds of warning before the end
  var timer = null;
  // Styled only when shown: hidden, the page carries no warning.
  function show() { warning.className = "alert alert-warning d-flex flex-wrap align-items-center gap-2"; }
  function hide() { warning.className = "d-none"; }

  function csrf() {
    try { return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }
  function signedOut() {
    window.location.assign(body.getAttribute("data-login-url") + "?next=" + encodeURIComponent(window.location.pathname));
  }
  function later(seconds, what) {
    window.clearTimeout(timer);
    timer = window.setTimeout(what, Math.max(1, seconds) * 1000);
  }
  function answer(response) {
    if (response.redirected || !response.ok) { signedOut(); return null; }
    return response.json();
  }
  function plan(data) {
    if (!data) { return; }
    if (data.remaining <= 0) { signedOut(); return; }
    if (data.remaining > lead) {
      hide();
      later(data.remaining - lead, check);
    } else {
      show();
      later(data.remaining, check);
    }
  }
  function check() {
    fetch(url, { credentials: "same-origin", headers: { "X-Atensi-Poll": "1" } }).then(answer).then(plan)
      .catch(function () { later(30, check); });
  }
  warning.querySelector("[data-testid=session-stay]").addEventListener("click", function () {
    fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf() } })
      .then(answer).then(plan).catch(function () { later(30, check); });
  });
  later(idle - lead, check);
});
