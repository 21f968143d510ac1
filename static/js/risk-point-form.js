/* The risk-point form: Bootstrap's classes on its widgets, and "Add another control" appends a row
   from the formset's empty form (the <template id="empty-control-row">). */
document.querySelectorAll('[data-testid=risk-point-form] select, [data-testid=risk-point-form] input:not([type=hidden]):not([type=checkbox]), [data-testid=risk-point-form] textarea').forEach(function (el) {
  el.classList.add(el.tagName === 'SELECT' ? 'form-select' : 'form-control');
});
document.getElementById('add-control').addEventListener('click', function () {
  var total = document.getElementById('id_controls-TOTAL_FORMS');
  var html = document.getElementById('empty-control-row').innerHTML.replace(/__prefix__/g, total.value);
  document.querySelector('[data-testid=control-rows] tbody').insertAdjacentHTML('beforeend', html);
  total.value = parseInt(total.value, 10) + 1;
  document.querySelectorAll('[data-testid=control-rows] tbody tr:last-child select, [data-testid=control-rows] tbody tr:last-child input:not([type=hidden]):not([type=checkbox]), [data-testid=control-rows] tbody tr:last-child textarea').forEach(function (el) {
    el.classList.add(el.tagName === 'SELECT' ? 'form-select' : 'form-control');
  });
});
document.querySelectorAll('[data-testid=risk-point-form] input[type=checkbox]').forEach(function (el) { el.classList.add('form-check-input'); });
