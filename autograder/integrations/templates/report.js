(function () {
  // Sets document.body.dataset.imagesLoaded to "all" once every figure is drawn (an image
  // decoded, an inline SVG chart laid out with a size), or "k of n", so a headless browser
  // can tell that the report rendered.
  function drawn(figure) {
    if (figure.tagName.toLowerCase() === "img") return figure.complete && figure.naturalWidth > 0;
    var box = figure.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && figure.querySelector("rect") !== null;
  }
  function check() {
    var figures = document.querySelectorAll("figure > img, figure > svg"), ok = 0;
    for (var i = 0; i < figures.length; i++) {
      if (drawn(figures[i])) ok++;
    }
    document.body.dataset.imagesLoaded = ok === figures.length ? "all" : ok + " of " + figures.length;
  }
  if (document.readyState === "complete") check(); else window.addEventListener("load", check);
})();
