// A button that opens the browser's print dialog ("save as PDF" gives the A4 file):
// <button type="button" data-print>. Hidden until this script runs, so it never shows dead.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
});
