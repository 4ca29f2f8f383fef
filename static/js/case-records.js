// Case records: parts of a form shown only when a checkbox is ticked.
// <fieldset data-reveal-when="id_of_checkbox">: without script it is always shown.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-reveal-when]").forEach(function (part) {
    var box = document.getElementById(part.getAttribute("data-reveal-when"));
    if (!box) { return; }
    var sync = function () { part.hidden = !box.checked; };
    box.addEventListener("change", sync);
    sync();
  });
});
