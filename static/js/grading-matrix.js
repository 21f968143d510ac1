/* The grading matrix editor: colours each cell with the level it names and previews the change
   (cells changed, risk points that saving will flag for re-grading) as the selects change. */
(function () {
  var form = document.querySelector('[data-grading-form]');
  if (!form) { return; }
  var colours = {}, inks = {};
  form.querySelectorAll('[data-level-code]').forEach(function (el) {
    colours[el.dataset.levelCode] = el.dataset.levelColour;
    inks[el.dataset.levelCode] = el.dataset.levelInk;
  });
  var summary = form.querySelector('[data-preview-summary]');
  function update() {
    var cells = 0, points = 0;
    form.querySelectorAll('select[data-cell]').forEach(function (select) {
      var td = select.closest('td');
      td.style.background = colours[select.value] || '';
      td.classList.remove('ink-dark', 'ink-light');
      if (inks[select.value]) { td.classList.add(inks[select.value]); }
      var changed = select.value !== select.dataset.initial;
      td.classList.toggle('cell-changed', changed);
      if (changed) { cells += 1; points += parseInt(select.dataset.points || '0', 10); }
    });
    summary.textContent = summary.dataset.template.replace('{cells}', cells).replace('{points}', points);
    summary.classList.toggle('text-danger', points > 0);
  }
  form.addEventListener('change', update);
  update();
}());
