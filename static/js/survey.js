/* The anonymous survey's answer page: a printed slip's link carries its code after "#", which the
   browser never sends to the server (so no server log holds it). This copies it into the code
   field, removes it from the address bar and the history, and submits. A link opened over the
   page itself only changes the fragment (no new page): hashchange covers it. */
(function () {
  'use strict';
  function fromFragment() {
    var field = document.querySelector('[data-survey-code]');
    var code = window.location.hash.replace(/^#/, '');
    if (!field || !/^[0-9A-Za-z-]{4,32}$/.test(code)) { return; }
    field.value = code;
    history.replaceState(null, '', window.location.pathname);
    field.form.submit();
  }
  document.addEventListener('DOMContentLoaded', fromFragment);
  window.addEventListener('hashchange', fromFragment);
}());
