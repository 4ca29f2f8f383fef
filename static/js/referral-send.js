// The referral send form (templates/referrals/send_form.html).
// - A suggested organisation's "Choose" link fills the receiver select in place, so what
//   was typed stays; without this script the link reloads the form with ?receiver=.
// - Only the fields of the chosen kind of referral are shown, and hidden ones are not
//   sent: services for a service referral or a transfer, the handover reason for a handover.
(function () {
  function pick(link) {
    var select = document.getElementById(link.getAttribute("data-target"));
    if (!select) { return false; }
    var value = link.getAttribute("data-pick-receiver");
    var option = Array.prototype.find.call(select.options, function (o) { return o.value === value; });
    if (!option) { return false; }
    option.hidden = false;
    select.value = value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    document.querySelectorAll("[data-suggestion]").forEach(function (row) {
      var chosen = row.getAttribute("data-suggestion") === value;
      row.classList.toggle("list-group-item-primary", chosen);
      var button = row.querySelector("[data-pick-receiver]");
      if (button && chosen) { button.setAttribute("aria-current", "true"); }
      if (button && !chosen) { button.removeAttribute("aria-current"); }
    });
    select.focus();
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-pick-receiver]");
    if (link && pick(link)) { event.preventDefault(); }
  });

  function showKind(form) {
    var checked = form.querySelector("input[name=kind]:checked");
    var kind = checked ? checked.value : "";
    form.querySelectorAll("[data-for-kinds]").forEach(function (part) {
      var shown = kind === "" || part.getAttribute("data-for-kinds").split(" ").indexOf(kind) !== -1;
      part.hidden = !shown;
      part.querySelectorAll("input, select, textarea").forEach(function (input) { input.disabled = !shown; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("referral-send-form");
    if (!form) { return; }
    showKind(form);
    // Capturing: the fields are switched before htmx reads them for the suggestions.
    form.addEventListener("change", function (event) {
      if (event.target.name === "kind") { showKind(form); }
    }, true);
  });
})();
