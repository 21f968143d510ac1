/* A register: Bootstrap's small form classes on the widgets of its forms (decisions, notice, comments). */
document.querySelectorAll('main form input:not([type=checkbox]):not([type=hidden]), main form textarea, main form select').forEach(function (el) {
  el.classList.add('form-control', 'form-control-sm');
});
