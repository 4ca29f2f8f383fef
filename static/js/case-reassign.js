// The case list's handover (supervisors): "select every case on this page" ticks the
// checkboxes of the cases shown. Delegated from the document, so it keeps working after
// htmx swaps the results in (a script file: the CSP forbids inline handlers).
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.classList.contains("js-select-all")) {
    return;
  }
  for (const row of document.querySelectorAll('input[name="cases"][form="reassign-form"]')) {
    row.checked = box.checked;
  }
});
