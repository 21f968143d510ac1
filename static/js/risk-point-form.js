/* The risk-point form and the revision of controls (form[data-control-form]): Bootstrap's classes on its widgets, and "Add another control" appends a row
   from the formset's empty form (the <template id="empty-control-row">). */
document.querySelectorAll('form[data-control-form] select, form[data-control-form] input:not([type=hidden]):not([type=checkbox]), form[data-control-form] textarea').forEach(function (el) {
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
document.querySelectorAll('form[data-control-form] input[type=checkbox]').forEach(function (el) { el.classList.add('form-check-input'); });

/* The level the chosen likelihood and severity give, by the institution's matrix (the badge's
   data-levels), shown while the holder chooses; the server grades again when the form is saved. */
(function () {
  var badge = document.querySelector('[data-testid=level-preview]');
  var likelihood = document.getElementById('id_likelihood');
  var severity = document.getElementById('id_severity');
  if (!badge || !likelihood || !severity) { return; }
  var levels = JSON.parse(badge.dataset.levels || '{}');
  function show() {
    var level = levels[likelihood.value + '-' + severity.value];
    badge.textContent = level ? level.name : badge.dataset.empty;
    badge.style.background = level ? level.colour : '';
    badge.classList.remove('ink-dark', 'ink-light');
    if (level) { badge.classList.add(level.ink); }
    badge.classList.toggle('text-muted', !level);
  }
  likelihood.addEventListener('change', show);
  severity.addEventListener('change', show);
  show();
})();
