/*
 * signal.js, served by the Bonbon-Keycloak bridge at /bonbon/signal.js.
 *
 * Tells Bonbon's Web Tags that the page's user is logged in, with
 * bonbontag("signal", "loggedIn", BONBON_ID_TOKEN), the token coming from the bridge's
 * GET /bonbon/id-token. Include it after Bonbon's install snippet:
 *
 *   <script src="https://bridge.example.com/bonbon/signal.js" async></script>
 *
 * The page hands over its user's Keycloak access token through one hook, which may be
 * set before or after this script loads:
 *
 *   window.bonbonBridge = window.bonbonBridge || {};
 *   window.bonbonBridge.accessToken = function () {
 *     // a token, a promise of one, or null when nobody is logged in; with keycloak-js:
 *     return keycloak.updateToken(30).then(function () { return keycloak.token; });
 *   };
 *
 * and calls window.bonbonBridge.refresh() when its user logs in (or out). When nobody is
 * logged in the script does nothing: no request, no console message. Once signalled, it
 * fetches a new token a minute before the current one expires, and signals that too.
 * Each signal also fires a "bonbon-bridge::signal" event on window (detail: expires_at).
 *
 * The bridge's URL is taken from this script's own src; data-bridge-url overrides it.
 */
(function () {
  "use strict";
  var me = document.currentScript;
  var bridge = me && me.getAttribute("data-bridge-url");
  if (!bridge && me && me.src) {
    var src = new URL(me.src, location.href);
    bridge = src.origin + src.pathname.replace(/\/bonbon\/signal\.js$/, "");
  }
  var bb = window.bonbonBridge = window.bonbonBridge || {};
  if (bb.refresh) {
    return; // included twice: the first copy is in charge
  }
  var timer = null;
  var lastToken = null;
  var generation = 0;

  // tag is the page's bonbontag, or the queue it would push to.
  function tag() {
    if (typeof window.bonbontag === "function") {
      window.bonbontag.apply(window, arguments);
      return;
    }
    (window.bonbonDataLayer = window.bonbonDataLayer || []).push(arguments);
  }

  function later(fn, ms) {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  }

  function fetchToken(accessToken) {
    return fetch(bridge + "/bonbon/id-token", {
      headers: { Authorization: "Bearer " + accessToken },
      credentials: "omit",
      cache: "no-store"
    }).then(function (res) {
      if (!res.ok) {
        var err = new Error("the bridge answered " + res.status);
        err.status = res.status;
        throw err;
      }
      return res.json();
    });
  }

  function signal(answer) {
    if (answer.token !== lastToken) {
      lastToken = answer.token;
      tag("signal", "loggedIn", answer.token);
      window.dispatchEvent(new CustomEvent("bonbon-bridge::signal",
        { detail: { expires_at: answer.expires_at } }));
    }
    var renewIn = Date.parse(answer.expires_at) - Date.now() - 60 * 1000;
    later(refresh, Math.max(renewIn, 30 * 1000));
  }

  // refresh fetches and signals a token for whoever is logged in now. Answers to an older
  // call are dropped, so a logout cannot be overtaken by a late token.
  function refresh() {
    var mine = ++generation;
    clearTimeout(timer);
    if (typeof bb.accessToken !== "function") {
      return Promise.resolve(null);
    }
    return Promise.resolve().then(bb.accessToken).then(function (accessToken) {
      if (!accessToken || mine !== generation) {
        lastToken = mine === generation ? null : lastToken;
        return null;
      }
      return fetchToken(accessToken).then(function (answer) {
        if (mine === generation) {
          signal(answer);
        }
        return answer.token;
      });
    }).catch(function (err) {
      // The user is logged in but no token came: say so once, retry later unless the
      // bridge refused the access token itself (the page must log the user in again).
      console.warn("bonbon bridge: no BONBON_ID_TOKEN:", err && err.message);
      if (!err || (err.status !== 401 && err.status !== 403)) {
        later(refresh, 60 * 1000);
      }
      return null;
    });
  }

  bb.refresh = refresh;
  refresh();
})();
