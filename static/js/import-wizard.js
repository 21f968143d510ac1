/* The import wizard's values step: beside each level word of the file, the level it goes to,
   with the scheme's colour, band (高/中/低) and rank, shown again as soon as the select changes (the check step
   refuses an inverted order in any case). */
document.querySelectorAll('[data-testid=level-map] select').forEach(function (select) {
  var now = select.closest('tr').querySelector('[data-level-now]');
  select.addEventListener('change', function () {
    var option = select.options[select.selectedIndex];
    now.textContent = '';
    if (!option || !option.value) { return; }
    var badge = document.createElement('span');
    badge.className = 'level-badge';
    badge.textContent = option.dataset.name;
    badge.style.background = option.dataset.colour;
    var rank = document.createElement('span');
    rank.className = 'text-muted';
    rank.textContent = ' ' + option.dataset.rank;
    now.appendChild(badge);
    if (option.dataset.band) {
      var band = document.createElement('span');
      band.className = 'band-badge band-' + option.dataset.band;
      band.dataset.testid = 'band';
      band.textContent = option.dataset.bandLabel;
      now.appendChild(document.createTextNode(' '));
      now.appendChild(band);
    }
    now.appendChild(rank);
  });
});
