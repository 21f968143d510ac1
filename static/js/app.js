/* Site-wide behaviour, without inline scripts or handlers (the Content-Security-Policy allows none).
   Pages declare what they need with data- attributes:
   - select[data-submit-on-change]: submits its form when the choice changes (the language switcher);
   - form[data-confirm]: asks this question before submitting, and submits only on OK;
   - input[data-check-all="name"]: checks or clears every checkbox named "name";
   - [data-colour], [data-percent]: background colour and width that come from data (level
     colours, progress), set here through the DOM because inline style attributes are refused;
     [data-ink] (ink-dark / ink-light, chosen by contrast on the server) colours the text on it;
   - [data-styled] (a form, or an element holding forms): their fields get Bootstrap's classes,
     the small ones with data-styled="sm" (Django renders bare widgets);
   - button[data-print]: opens the browser's print dialog (the print rules are in app.css);
   - .table-responsive that scrolls sideways (a wide table on a phone) becomes a named, focusable
     region, so a keyboard can scroll it (WCAG 2.1.1; axe "scrollable-region-focusable"). */
(function () {
  'use strict';

  function within(root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) { found.unshift(root); }
    return found;
  }

  function applyDataStyles(root) {
    within(root, '[data-colour]').forEach(function (el) {
      el.style.background = el.dataset.colour;
      if (el.dataset.ink) { el.classList.add(el.dataset.ink); }
    });
    within(root, '[data-percent]').forEach(function (el) { el.style.width = el.dataset.percent + '%'; });
    within(root, '[data-styled]').forEach(function (part) {
      var small = part.dataset.styled === 'sm';
      part.querySelectorAll('input, select, textarea').forEach(function (el) {
        if (el.type === 'hidden' || el.type === 'submit') { return; }
        if (el.type === 'checkbox' || el.type === 'radio') { el.classList.add('form-check-input'); return; }
        var base = el.tagName === 'SELECT' ? 'form-select' : 'form-control';
        el.classList.add(base);
        if (small) { el.classList.add(base + '-sm'); }
      });
    });
  }

  document.addEventListener('change', function (event) {
    var el = event.target;
    if (el.matches('select[data-submit-on-change]')) { el.form.submit(); }
    if (el.matches('input[data-check-all]')) {
      document.querySelectorAll('input[name="' + el.dataset.checkAll + '"]').forEach(function (box) { box.checked = el.checked; });
    }
  });

  document.addEventListener('click', function (event) {
    if (event.target.closest && event.target.closest('button[data-print]')) { window.print(); }
  });

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (form.matches('form[data-confirm]') && !window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  });

  function regionName(box) {
    var caption = box.querySelector('caption');
    if (caption && caption.textContent.trim()) { return caption.textContent.trim(); }
    var before = box.previousElementSibling;
    while (before && !/^H[1-6]$/.test(before.tagName)) { before = before.previousElementSibling; }
    if (before) { return before.textContent.trim(); }
    var head = box.closest('.card') && box.closest('.card').querySelector('.card-header');
    if (head) { return head.textContent.trim(); }
    var th = box.querySelector('th');
    return th ? th.textContent.trim() : '';
  }

  function markScrollableTables(root) {
    within(root, '.table-responsive').forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute('tabindex')) {
        box.setAttribute('tabindex', '0');
        box.setAttribute('role', 'region');
        box.dataset.scrollRegion = box.hasAttribute('aria-label') ? 'on' : 'named';
        if (box.dataset.scrollRegion === 'named') { box.setAttribute('aria-label', regionName(box)); }
      } else if (!scrolls && box.dataset.scrollRegion) {
        box.removeAttribute('tabindex');
        box.removeAttribute('role');
        if (box.dataset.scrollRegion === 'named') { box.removeAttribute('aria-label'); }
        delete box.dataset.scrollRegion;
      }
    });
  }

  applyDataStyles(document);
  markScrollableTables(document);
  window.addEventListener('resize', function () { markScrollableTables(document); });
  // Content htmx swaps in (rows of a list, a job's progress) gets the same treatment.
  document.addEventListener('htmx:load', function (event) {
    applyDataStyles(event.target);
    markScrollableTables(event.target);
  });
})();
