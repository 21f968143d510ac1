/* The export menu of the risk-point list. The list's filters change without a reload (htmx pushes
   them to the address): an export link takes them from the address at click time. */
document.querySelectorAll('[data-export-base]').forEach(function (link) {
  link.addEventListener('click', function () {
    var params = new URLSearchParams(window.location.search);
    params.delete('after');
    var rest = params.toString();
    link.href = link.dataset.exportBase + (rest ? '&' + rest : '');
  });
});
