// Launch form: the phase dates follow the chosen year (the server checks them against it too).
(function () {
  const year = document.querySelector("[data-phase-year]");
  if (!year) return;
  let previous = parseInt(year.value, 10);
  year.addEventListener("change", function () {
    const chosen = parseInt(year.value, 10);
    if (!(chosen >= 2000 && chosen <= 2100) || !(previous >= 2000)) return;
    const shift = chosen - previous;
    document.querySelectorAll("input[type=date][name^=phase_]").forEach(function (input) {
      const match = /^(\d{4})(-\d{2}-\d{2})$/.exec(input.value);
      if (!match) return;
      let day = String(parseInt(match[1], 10) + shift) + match[2];
      if (day.endsWith("-02-29") && new Date(day + "T00:00:00").getMonth() !== 1) day = day.replace("-02-29", "-02-28");
      input.value = day;
    });
    previous = chosen;
  });
})();
