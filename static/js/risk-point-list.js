/* The risk-point list: Bootstrap's small form classes on the filter widgets. */
document.querySelectorAll('[data-testid=filters] select, [data-testid=filters] input').forEach(function (el) {
  el.classList.add(el.tagName === 'SELECT' ? 'form-select' : 'form-control', el.tagName === 'SELECT' ? 'form-select-sm' : 'form-control-sm');
});
