/*
 * Bonbon bridge: step-up link (served at /link/script.js).
 *
 * Load it on the publisher's pages after Bonbon's Web Tags snippet:
 *   <script src="BRIDGE_URL/link/script.js" async></script>
 *
 * On bonbon::login it asks the bridge, once per browser session, whether this Bonbon user's
 * email belongs to an existing account on the site that is not linked yet. If so it offers
 * a button; the user's click submits the earn token to the bridge, which sends the browser
 * to the site's login page. Nothing links without that login.
 *
 * A page may replace the offer with its own: define window.bonbonBridgeOffer(start) before
 * this script runs and call start() when the user agrees.
 */
(function () {
  "use strict";
  var bridge = __BRIDGE_URL__;
  var seen = "bonbon-bridge-link-checked";

  // start submits a top-level form POST, so the bridge can set its cookie and redirect.
  function start(token) {
    var form = document.createElement("form");
    form.method = "POST";
    form.action = bridge + "/link/start";
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "earn_token";
    field.value = token;
    form.appendChild(field);
    document.body.appendChild(form);
    form.submit();
  }

  function offer(token) {
    var go = function () { start(token); };
    if (typeof window.bonbonBridgeOffer === "function") {
      window.bonbonBridgeOffer(go);
      return;
    }
    var box = panel("An account with your Bonbon email already exists on this site. " +
      "Log in to it once to link it with Bonbon.");
    var yes = document.createElement("button");
    yes.id = "bonbon-bridge-link-start";
    yes.textContent = "Log in to link";
    yes.onclick = go;
    var no = document.createElement("button");
    no.textContent = "Not now";
    no.onclick = function () { box.remove(); };
    box.append(yes, " ", no);
  }

  // panel shows a small box with a message; the bridge's refusals use it too.
  function panel(message) {
    var box = document.createElement("div");
    box.id = "bonbon-bridge-link";
    box.setAttribute("role", "dialog");
    box.style.cssText = "position:fixed;bottom:1em;left:1em;max-width:22em;padding:1em;" +
      "background:#fff;border:1px solid #888;border-radius:6px;font:14px sans-serif;z-index:99999";
    var text = document.createElement("p");
    text.textContent = message;
    box.append(text);
    document.body.appendChild(box);
    return box;
  }

  function once() {
    try {
      if (sessionStorage.getItem(seen)) return false;
      sessionStorage.setItem(seen, "1");
    } catch (e) { /* storage blocked: check on every page view */ }
    return true;
  }

  window.BonbonBridgeLink = { start: start };
  window.addEventListener("bonbon::login", function (ev) {
    var token = ev.detail && ev.detail.earn_token;
    if (!token || !once()) return;
    var body = new URLSearchParams({ earn_token: token });
    fetch(bridge + "/link/check", { method: "POST", body: body })
      .then(function (r) {
        return r.json().then(function (j) { return { ok: r.ok, body: j }; });
      })
      .then(function (ans) {
        if (ans.ok && ans.body.link_required) {
          offer(token);
        } else if (ans.body.error === "account_email_unverified") {
          panel(ans.body.message).id = "bonbon-bridge-link-notice";
        }
      })
      .catch(function () { /* the bridge is down: offer nothing */ });
  });
})();
