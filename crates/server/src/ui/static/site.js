// ctiforge web UI: live job status, evidence shown in the report's text, copy-link. Pages work
// without it; it only saves clicks. It calls this site's own API and nothing else.
(function () {
  'use strict';

  // A job page follows its job and opens the report when it is done.
  var status = document.getElementById('job-status');
  if (status && status.getAttribute('data-status') !== 'done' && status.getAttribute('data-status') !== 'failed') {
    var id = status.getAttribute('data-job');
    var poll = function () {
      fetch('/api/v1/jobs/' + id, { credentials: 'same-origin' })
        .then(function (r) { return r.json(); })
        .then(function (job) {
          if (job.status === 'done' && job.report) {
            window.location.assign('/reports/' + job.report);
          } else if (job.status === 'failed') {
            status.textContent = 'Failed: ' + (job.error || 'no reason given');
          } else {
            status.textContent = job.status.charAt(0).toUpperCase() + job.status.slice(1) + '… (attempt ' + job.attempts + ')';
            setTimeout(poll, 700);
          }
        })
        .catch(function () { setTimeout(poll, 2000); });
    };
    setTimeout(poll, 300);
  }

  // Evidence: a click on "show in the text" lights its sentence (or sentences) in the report
  // text and scrolls it into view.
  function light(start, end) {
    var first = null;
    document.querySelectorAll('.sentence.lit').forEach(function (s) { s.classList.remove('lit'); });
    document.querySelectorAll('.sentence').forEach(function (s) {
      var a = +s.getAttribute('data-start'), b = +s.getAttribute('data-end');
      if (a < end && start < b) {
        s.classList.add('lit');
        if (!first) { first = s; }
      }
    });
    if (first) {
      first.scrollIntoView({ block: 'center' });
      first.setAttribute('tabindex', '-1');
      first.focus({ preventScroll: true });
    }
    return first;
  }
  document.querySelectorAll('a.to-source').forEach(function (link) {
    link.addEventListener('click', function (event) {
      var start = +link.getAttribute('data-start'), end = +link.getAttribute('data-end');
      if (light(start, end)) {
        event.preventDefault();
        history.replaceState(null, '', '#s-' + start);
      }
    });
  });
  // The graph's details name the sentence of a technique's evidence: light it too.
  window.ctiforgeShowSentence = light;

  // Copy this page's permanent address.
  var permalink = document.querySelector('[data-copy-link]');
  if (permalink) {
    permalink.addEventListener('click', function () {
      var url = window.location.origin + window.location.pathname;
      var done = function () { permalink.textContent = 'Link copied'; setTimeout(function () { permalink.textContent = 'Copy link'; }, 1500); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(url).then(done, done);
      } else { done(); }
    });
  }
})();
