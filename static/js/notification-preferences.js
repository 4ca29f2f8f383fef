// E-mail settings: a daily digest is an e-mail, so with e-mail off the digest is unticked
// and greyed out, and the hour only matters with the digest on. (The server refuses a
// digest without e-mail too; a disabled hour is not sent and the saved one is kept.)
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-notification-preferences]");
  if (!form) { return; }
  var email = form.querySelector("input[name=email_enabled]");
  var digest = form.querySelector("input[name=digest]");
  var hour = form.querySelector("select[name=digest_hour]");
  if (!email || !digest || !hour) { return; }
  function sync() {
    if (!email.checked) { digest.checked = false; }
    digest.disabled = !email.checked;
    hour.disabled = !digest.checked;
  }
  email.addEventListener("change", sync);
  digest.addEventListener("change", sync);
  sync();
});
