// Type to narrow a long <select>: <input data-select-filter="id_of_the_select">.
// Chosen options stay visible, so narrowing never hides what will be submitted.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-select-filter]").forEach(function (input) {
    var select = document.getElementById(input.getAttribute("data-select-filter"));
    if (!select) { return; }
    input.hidden = false;
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(select.options, function (option) {
        option.hidden = needle !== "" && !option.selected && option.text.toLowerCase().indexOf(needle) === -1;
      });
    });
    // Enter in the search box narrows the list; it must not submit the form.
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }
    });
  });
});
