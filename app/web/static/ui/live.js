// pactmock dashboard: an element with data-live="<ms>" (and an id) is refreshed in place every <ms> milliseconds
// from this page's own URL, so a run's status or the journal moves without a reload. Focus and scrolling stay
// where they are: only the element's content is replaced, and not while focus is inside it.
(function () {
  "use strict";
  function refresh(element, every) {
    window.setTimeout(function () {
      if (document.hidden || element.contains(document.activeElement)) {
        refresh(element, every);
        return;
      }
      fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (answer) { return answer.ok ? answer.text() : null; })
        .then(function (html) {
          if (html !== null) {
            var fresh = new DOMParser().parseFromString(html, "text/html");
            var replacement = fresh.getElementById(element.id);
            if (replacement !== null) { element.innerHTML = replacement.innerHTML; }
            var clock = fresh.getElementById("mock-clock"), shown = document.getElementById("mock-clock");
            if (clock !== null && shown !== null) { shown.innerHTML = clock.innerHTML; }
          }
        })
        .catch(function () { /* the mock is restarting: try again next time */ })
        .then(function () { refresh(element, every); });
    }, every);
  }
  document.querySelectorAll("[data-live][id]").forEach(function (element) {
    var every = parseInt(element.getAttribute("data-live"), 10);
    if (every > 0) { refresh(element, every); }
  });
})();
