// The printable case summary: the "Print" button opens the browser's print dialog
// (a script file, not an inline handler: the portal's CSP forbids inline script).
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print-page]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
});
