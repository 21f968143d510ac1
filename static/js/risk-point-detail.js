/* A risk point: Bootstrap's small form classes on the widgets of the folded forms (proposals, steps). */
document.querySelectorAll('details form input, details form select, details form textarea').forEach(function (el) {
  el.classList.add('form-control', 'form-control-sm');
});
