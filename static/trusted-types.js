// The page's Trusted Types policy (the Content-Security-Policy in index.html enforces
// Trusted Types: `require-trusted-types-for 'script'`).
//
// Under enforcement no string reaches a sink that turns text into markup or code
// (innerHTML, eval, a script's src, a worker's URL) unless a policy lets it through.
// The app builds every element through the DOM, so it needs no policy for HTML at all
// and none is created: any attempt to write markup from a string is refused and
// reported. The one string-to-code place is starting the background worker, whose URL
// this policy lets through when, and only when, it is this app's own worker loader on
// this page's origin; it returns nothing for anything else, so the browser refuses it.
//
// It is a classic script in <head>, so it runs before the app's module starts.
(() => {
  if (!self.trustedTypes || !self.trustedTypes.createPolicy) return;
  self.trustedTypes.createPolicy('default', {
    createScriptURL(input) {
      const url = new URL(input, document.baseURI);
      const ours = url.origin === location.origin && url.pathname.endsWith('/eventscope-worker_loader.js');
      return ours ? url.href : null;
    },
  });
})();
