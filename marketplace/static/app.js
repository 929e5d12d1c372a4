// Behaviour shared by every page.  The Content-Security-Policy forbids inline scripts and
// event handlers, so templates mark elements with data- attributes and this file acts on them.
(function () {
  "use strict";

  // <select data-autosubmit>: choosing an option submits its form (the language switcher, the
  // E-magazine preview's edition).  A <noscript> button does the same without JavaScript.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("select[data-autosubmit]") && select.form) {
      select.form.submit();
    }
  });

  // <details data-open-from="(media query)">: open where the query holds (the search
  // page's filters fold away on a phone and stand open beside the results on a wide screen).
  document.querySelectorAll("details[data-open-from]").forEach(function (details) {
    if (window.matchMedia(details.getAttribute("data-open-from")).matches) {
      details.open = true;
    }
  });

  // <button data-print>: print the page (the agenda's print style hides the rest).
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) {
      window.print();
    }
  });

  // <form data-confirm="question">: ask before submitting.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
