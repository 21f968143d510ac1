/* The risk-point form and the revision of controls (form[data-control-form]): Bootstrap's classes on its widgets, "Add another control" appends a card
   from the formset's empty form (the <template id="empty-control-row">), the level preview, the
   coaching of the control rows and the suggested controls. */
(function () {
  var form = document.querySelector('form[data-control-form]');
  if (!form) { return; }
  var rows = form.querySelector('[data-testid=control-rows]');
  var total = document.getElementById('id_controls-TOTAL_FORMS');

  function style(root) {
    root.querySelectorAll('select, input:not([type=hidden]):not([type=checkbox]), textarea').forEach(function (el) {
      el.classList.add(el.tagName === 'SELECT' ? 'form-select' : 'form-control');
    });
    root.querySelectorAll('input[type=checkbox]').forEach(function (el) { el.classList.add('form-check-input'); });
  }
  style(form);

  function addRow() {
    var index = total.value;
    var html = document.getElementById('empty-control-row').innerHTML.replace(/__prefix__/g, index);
    rows.insertAdjacentHTML('beforeend', html);
    total.value = parseInt(index, 10) + 1;
    var row = rows.lastElementChild;
    row.querySelector('.control-row-number').textContent = String(parseInt(index, 10) + 1);
    style(row);
    return row;
  }
  document.getElementById('add-control').addEventListener('click', function () { addRow(); });

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

  if (!form.dataset.coachUrl) { return; }  /* the revision form is not coached */

  /* Coaching: the rows and the risk type go to one endpoint that runs the register's own quality
     checks (controls/quality.py) and finds the institution's earlier controls of that risk type.
     No rule of the checks is written here. */
  var riskType = document.getElementById('id_risk_type');
  var list = form.querySelector('[data-testid=suggestion-list]');
  var note = form.querySelector('[data-testid=suggestions-note]');
  var timer = null;
  var FIELDS = ['line', 'measure', 'owner', 'frequency', 'evidence', 'rule'];

  function field(index, name) { return document.getElementById('id_controls-' + index + '-' + name); }

  function query() {
    var params = new URLSearchParams();
    params.set('institution', form.dataset.institution);
    params.set('risk_type', riskType ? riskType.value : '');
    params.set('controls-TOTAL_FORMS', total.value);
    for (var i = 0; i < parseInt(total.value, 10); i++) {
      FIELDS.forEach(function (name) {
        var el = field(i, name);
        if (el && el.value) { params.set('controls-' + i + '-' + name, el.value); }
      });
      var gone = field(i, 'DELETE');
      if (gone && gone.checked) { params.set('controls-' + i + '-DELETE', 'on'); }
    }
    return params;
  }

  function line(cls, label, items) {
    var div = document.createElement('div');
    div.className = cls;
    div.textContent = label + ' ' + items.join('；');
    return div;
  }

  function showChecks(checks) {
    rows.querySelectorAll('.control-row').forEach(function (row) {
      var index = row.dataset.row;
      if (index === '__prefix__') { return; }
      var box = row.querySelector('.control-coach');
      var found = checks[index];
      box.replaceChildren();
      if (!found) { return; }
      if (found.warnings.length) {
        box.appendChild(line('text-danger', form.dataset.warnLabel, found.warnings));
      } else {
        box.appendChild(line('text-success', form.dataset.okLabel, []));
      }
      if (found.hints.length) { box.appendChild(line('text-muted', form.dataset.hintLabel, found.hints)); }
    });
  }

  function emptyRow() {
    var n = parseInt(total.value, 10);
    for (var i = 0; i < n; i++) {
      var measure = field(i, 'measure');
      if (measure && !measure.value.trim()) { return i; }
    }
    return parseInt(addRow().dataset.row, 10);
  }

  function insert(suggestion) {
    var i = emptyRow();
    ['line', 'measure', 'owner', 'frequency', 'evidence'].forEach(function (name) {
      var el = field(i, name);
      if (el && suggestion[name]) { el.value = suggestion[name]; }
    });
    field(i, 'measure').focus();
    schedule();
  }

  function showSuggestions(suggestions) {
    list.replaceChildren();
    if (!riskType || !riskType.value) { note.textContent = note.dataset.emptyText; return; }
    note.textContent = suggestions.length ? '' : note.dataset.noneText;
    suggestions.forEach(function (s) {
      var item = document.createElement('li');
      item.className = 'mb-2 border-bottom pb-2';
      var text = document.createElement('div');
      text.textContent = s.measure;
      var meta = document.createElement('div');
      meta.className = 'text-muted';
      meta.textContent = [s.line_label, s.frequency_label, s.owner, s.evidence].filter(Boolean).join(' · ');
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'btn btn-sm btn-outline-danger mt-1';
      button.dataset.testid = 'insert-suggestion';
      button.textContent = list.dataset.insertLabel;
      button.setAttribute('aria-label', list.dataset.insertLabel + '：' + s.measure);
      button.addEventListener('click', function () { insert(s); });
      item.append(text, meta, button);
      list.appendChild(item);
    });
  }

  function coach() {
    fetch(form.dataset.coachUrl + '?' + query().toString(), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        showChecks(data.rows);
        showSuggestions(data.suggestions);
      })
      .catch(function () { /* coaching is advice: the form still saves without it */ });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(coach, 350);
  }
  rows.addEventListener('input', schedule);
  rows.addEventListener('change', schedule);
  if (riskType) { riskType.addEventListener('change', schedule); }
  coach();
})();
