// Confirmation prompts for dangerous admin buttons, without inline handlers, so they work under
// the Content-Security-Policy (script-src 'self'). Mark a <form> or a submit button with data-confirm.
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var message = (button && button.dataset && button.dataset.confirm) || event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
