/* The audit log: Bootstrap's small form classes on the search fields. */
document.querySelectorAll('main form input').forEach(function (el) { el.classList.add('form-control', 'form-control-sm'); });
