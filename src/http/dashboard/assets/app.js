/* global window, document, fetch, location, DOMParser, setTimeout, EventSource */
// Sundial dashboard: live updates. The pages work without this file; with it, a run or job event
// from /events re-fetches the current page and swaps its <main>, unless the operator is typing.
(function () {
  "use strict";
  if (!window.EventSource || !window.fetch || !window.DOMParser) return;
  var dot = document.getElementById("live");
  var main = document.getElementById("main");
  if (!main) return;
  var timer = null;
  var busy = false;

  function typing() {
    var el = document.activeElement;
    return el && (el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA");
  }

  function refresh() {
    timer = null;
    if (busy) return schedule();
    if (typing()) return schedule();
    busy = true;
    fetch(location.href, { credentials: "same-origin", headers: { accept: "text/html" } })
      .then(function (response) {
        if (!response.ok || response.redirected) return null;
        return response.text();
      })
      .then(function (text) {
        if (!text) return;
        var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("main");
        if (fresh && !typing()) main.replaceChildren.apply(main, Array.prototype.slice.call(fresh.childNodes));
      })
      .catch(function () {})
      .then(function () {
        busy = false;
      });
  }

  function schedule() {
    if (!timer) timer = setTimeout(refresh, 700);
  }

  var source = new EventSource("/events");
  var lost = false;
  source.addEventListener("open", function () {
    if (dot) {
      dot.classList.add("on");
      dot.title = "Live: this page updates itself";
    }
    // Back after a lost connection: events may have been missed, so catch up once.
    if (lost) schedule();
    lost = false;
  });
  source.addEventListener("error", function () {
    lost = true;
    if (dot) dot.classList.remove("on");
    // No stream here (an older daemon, or signed out): the page still works, reload by hand.
    if (source.readyState === EventSource.CLOSED) source.close();
  });
  source.addEventListener("run", schedule);
  source.addEventListener("job", schedule);
})();
