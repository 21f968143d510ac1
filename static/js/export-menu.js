/* The export menu of the risk-point list. The list's filters change without a reload (htmx pushes
   them to the address): an export form takes them from the address when it is sent. */
document.querySelectorAll('[data-export-filters]').forEach(function (input) {
  input.form.addEventListener('submit', function () {
    var params = new URLSearchParams(window.location.search);
    params.delete('after');
    input.value = params.toString();
  });
});
