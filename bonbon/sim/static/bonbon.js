/*
 * bonbon.js: the Bonbon simulator's stand-in for Bonbon Web Tags.
 *
 * Loaded the way the real install snippet loads Bonbon's script:
 *
 *   <script>window.bonbonDataLayer = window.bonbonDataLayer || [];
 *     function bonbontag(){ bonbonDataLayer.push(arguments); }</script>
 *   <script async src="http://127.0.0.1:8090/bonbon.js" data-clientId="CLIENT_ID"></script>
 *
 * It drains window.bonbonDataLayer and keeps listening to it, fires the documented window
 * events (bonbon::initialized, bonbon::auth::login, bonbon::login, bonbon::logout,
 * bonbon::opened, bonbon::dismissed), implements window.Bonbon.getEarnToken(), offers a
 * small login modal running the email one-time-code flow against the simulator, and
 * reports each bonbontag("signal", ...) to the simulator's POST /_sim/signals.
 *
 * Assumed where Bonbon documents nothing: the session lives in localStorage, and
 * hashed_email is the SHA-256 hex of the trimmed, lower-cased email.
 */
(function () {
  "use strict";
  if (window.Bonbon && window.Bonbon.simulator) {
    return; // loaded twice: the first copy already owns the queue
  }

  // Configuration comes from the script tag, as with the real Web Tags.
  var script = document.currentScript ||
    document.querySelector("script[data-clientId]") ||
    document.querySelector("script[src*='bonbon.js']");
  var clientId = script ? script.getAttribute("data-clientId") : null;
  var origin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var api = origin + "/v1";
  var storeKey = "bonbon.sim.session." + clientId;

  function fire(name, detail) {
    window.dispatchEvent(new CustomEvent(name, { detail: detail || {} }));
  }

  // The session: the earn token and the hashed email, kept across page views.
  function loadSession() {
    try {
      var s = JSON.parse(localStorage.getItem(storeKey));
      if (s && s.earn_token && tokenExp(s.earn_token) * 1000 > Date.now()) {
        return s;
      }
    } catch (e) { /* no storage or a broken entry: logged out */ }
    saveSession(null);
    return null;
  }

  function saveSession(s) {
    try {
      if (s) {
        localStorage.setItem(storeKey, JSON.stringify(s));
      } else {
        localStorage.removeItem(storeKey);
      }
    } catch (e) { /* storage blocked: the session lasts this page view */ }
    memorySession = s;
  }
  var memorySession = null;

  function tokenExp(token) {
    try {
      var p = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      while (p.length % 4) {
        p += "=";
      }
      return JSON.parse(atob(p)).exp || 0;
    } catch (e) {
      return 0;
    }
  }

  function hashEmail(email) {
    var data = new TextEncoder().encode(email.trim().toLowerCase());
    if (!window.crypto || !crypto.subtle) {
      return Promise.resolve(sha256Hex(data));
    }
    return crypto.subtle.digest("SHA-256", data).then(function (buf) {
      return Array.prototype.map.call(new Uint8Array(buf), function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("");
    });
  }

  // sha256Hex is for pages outside a secure context, where crypto.subtle is missing.
  function sha256Hex(bytes) {
    var K = [], H = [], i, j;
    function frac(x) { return (x - Math.floor(x)) * 4294967296 | 0; }
    for (var n = 2, found = 0; found < 64; n++) {
      var prime = true;
      for (j = 2; j * j <= n; j++) { if (n % j === 0) { prime = false; break; } }
      if (prime) {
        if (found < 8) { H[found] = frac(Math.sqrt(n)); }
        K[found++] = frac(Math.cbrt(n));
      }
    }
    var len = bytes.length, words = [];
    var padded = new Uint8Array(((len + 9 + 63) >> 6) << 6);
    padded.set(bytes);
    padded[len] = 0x80;
    var bits = len * 8, end = padded.length;
    padded[end - 4] = bits >>> 24; padded[end - 3] = bits >>> 16;
    padded[end - 2] = bits >>> 8; padded[end - 1] = bits;
    for (i = 0; i < end; i += 4) {
      words.push(padded[i] << 24 | padded[i + 1] << 16 | padded[i + 2] << 8 | padded[i + 3]);
    }
    function rotr(x, r) { return (x >>> r) | (x << (32 - r)); }
    for (i = 0; i < words.length; i += 16) {
      var w = words.slice(i, i + 16), a = H.slice();
      for (j = 0; j < 64; j++) {
        if (j >= 16) {
          var x = w[j - 15], y = w[j - 2];
          var s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3);
          var s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y >>> 10);
          w[j] = (w[j - 16] + s0 + w[j - 7] + s1) | 0;
        }
        var e = a[4], t1 = (a[7] + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) +
          ((e & a[5]) ^ (~e & a[6])) + K[j] + w[j]) | 0;
        var b = a[0], t2 = ((rotr(b, 2) ^ rotr(b, 13) ^ rotr(b, 22)) +
          ((b & a[1]) ^ (b & a[2]) ^ (a[1] & a[2]))) | 0;
        a = [(t1 + t2) | 0, a[0], a[1], a[2], (a[3] + t1) | 0, a[4], a[5], a[6]];
      }
      for (j = 0; j < 8; j++) { H[j] = (H[j] + a[j]) | 0; }
    }
    return H.map(function (h) { return ("00000000" + (h >>> 0).toString(16)).slice(-8); }).join("");
  }

  // post calls the simulated Bonbon API with the page's client id, as Web Tags do.
  function post(path, body) {
    return fetch(api + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "x-bonbon-clientid": clientId || "" },
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (j) {
        if (!resp.ok) {
          throw new Error(j.message || j.error || "HTTP " + resp.status);
        }
        return j;
      });
    });
  }

  function requestCode(email) {
    return post("/earn/otp", { email: email });
  }

  // verifyCode finishes the one-time-code login and fires the login events.
  function verifyCode(email, code) {
    return post("/earn/otp-token", {
      email: email, otp: code, preferences: { pAds: false, newsletter: false },
      lastLoginUrl: location.href
    }).then(function (ans) {
      return hashEmail(email).then(function (hashed) {
        var s = { earn_token: ans.earnToken, hashed_email: hashed };
        saveSession(s);
        fire("bonbon::auth::login", { hashed_email: hashed, earn_token: ans.earnToken,
          signUp: ans.signUp });
        fire("bonbon::login", { hashed_email: hashed, earn_token: ans.earnToken });
        return ans;
      });
    });
  }

  function logout() {
    var was = loadSession() || memorySession;
    saveSession(null);
    if (was) {
      fire("bonbon::logout", {});
    }
    renderModal();
  }

  function getEarnToken() {
    var s = loadSession() || memorySession;
    return s && tokenExp(s.earn_token) * 1000 > Date.now() ? s.earn_token : null;
  }

  // The data layer: bonbontag pushes its arguments object; arrays work as well.
  var lastSignal = null;

  function handle(command) {
    var args = Array.prototype.slice.call(command || []);
    switch (args[0]) {
      case "signal":
        recordSignal(args);
        break;
      case "open":
        openModal();
        break;
      case "logout":
        logout();
        break;
      default:
        // "config", "js" and the like need nothing from the simulator.
    }
  }

  function recordSignal(args) {
    lastSignal = { name: String(args[1] || ""), token: args[2] == null ? "" : String(args[2]) };
    fetch(origin + "/_sim/signals", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      keepalive: true,
      body: JSON.stringify({ command: "signal", name: lastSignal.name, token: lastSignal.token,
        clientId: clientId, page: location.href })
    }).catch(function () { /* the simulator is gone; nothing to report to */ });
    renderModal();
  }

  // The modal: email, then the code, then the login events.
  var modal = null;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) { e.textContent = text; }
    return e;
  }

  function buildModal() {
    modal = el("div", { id: "bonbon-modal", role: "dialog", "aria-label": "Bonbon Rewards",
      style: "position:fixed;inset:0;background:rgba(0,0,0,.45);display:none;" +
        "align-items:center;justify-content:center;z-index:2147483646;font-family:sans-serif" });
    var box = el("div", { style: "background:#fff;padding:24px;border-radius:12px;width:320px;" +
      "box-shadow:0 8px 30px rgba(0,0,0,.3);position:relative" });
    box.appendChild(el("button", { id: "bonbon-close", "aria-label": "Close",
      style: "position:absolute;top:8px;right:8px;border:0;background:none;font-size:20px" }, "×"));
    box.appendChild(el("h2", { style: "margin-top:0" }, "Bonbon Rewards"));
    box.appendChild(el("p", { id: "bonbon-status" }));
    box.appendChild(el("p", { id: "bonbon-signal", style: "color:#555;font-size:13px" }));
    box.appendChild(el("input", { id: "bonbon-email", type: "email", placeholder: "Email",
      autocomplete: "email", style: "width:100%;margin-bottom:8px" }));
    box.appendChild(el("button", { id: "bonbon-send-code" }, "Send code"));
    box.appendChild(el("input", { id: "bonbon-otp", inputmode: "numeric", placeholder: "6-digit code",
      style: "width:100%;margin:8px 0;display:none" }));
    box.appendChild(el("button", { id: "bonbon-verify", style: "display:none" }, "Sign in"));
    box.appendChild(el("button", { id: "bonbon-logout", style: "display:none" }, "Log out"));
    box.appendChild(el("p", { id: "bonbon-error", role: "alert", style: "color:#b00020" }));
    modal.appendChild(box);
    document.body.appendChild(modal);
    wireModal();
  }

  function byId(id) { return document.getElementById(id); }

  function wireModal() {
    byId("bonbon-close").onclick = function () { closeModal(true); };
    byId("bonbon-send-code").onclick = function () {
      var email = byId("bonbon-email").value;
      showError("");
      requestCode(email).then(function () {
        byId("bonbon-otp").style.display = "";
        byId("bonbon-verify").style.display = "";
        byId("bonbon-status").textContent = "We sent a code to " + email + ".";
        byId("bonbon-otp").focus();
      }, function (err) { showError(err.message); });
    };
    byId("bonbon-verify").onclick = function () {
      showError("");
      verifyCode(byId("bonbon-email").value, byId("bonbon-otp").value).then(function () {
        closeModal(false);
      }, function (err) { showError(err.message); });
    };
    byId("bonbon-logout").onclick = function () { logout(); closeModal(false); };
  }

  function showError(msg) { byId("bonbon-error").textContent = msg; }

  function renderModal() {
    if (!modal) {
      return;
    }
    var loggedIn = !!getEarnToken();
    ["bonbon-email", "bonbon-send-code"].forEach(function (id) {
      byId(id).style.display = loggedIn ? "none" : "";
    });
    if (loggedIn) {
      byId("bonbon-otp").style.display = "none";
      byId("bonbon-verify").style.display = "none";
    }
    byId("bonbon-logout").style.display = loggedIn ? "" : "none";
    byId("bonbon-status").textContent = loggedIn ? "You are signed in to Bonbon." :
      "Sign in with a one-time code sent to your email.";
    byId("bonbon-signal").textContent = lastSignal ?
      "The site says you are signed in (" + lastSignal.name + ")." : "";
  }

  function openModal() {
    if (!document.body) {
      return;
    }
    if (!modal) {
      buildModal();
    }
    renderModal();
    modal.style.display = "flex";
    fire("bonbon::opened", {});
  }

  function closeModal(dismissed) {
    if (!modal || modal.style.display === "none") {
      return;
    }
    modal.style.display = "none";
    if (dismissed) {
      fire("bonbon::dismissed", {});
    }
  }

  function addLauncher() {
    var b = el("button", { id: "bonbon-launcher", style: "position:fixed;right:16px;bottom:16px;" +
      "z-index:2147483645;padding:10px 16px;border-radius:20px;border:0;background:#ff5a5f;color:#fff" },
      "Bonbon Rewards");
    b.onclick = openModal;
    document.body.appendChild(b);
  }

  window.Bonbon = {
    simulator: true,
    clientId: clientId,
    getEarnToken: getEarnToken,
    open: openModal,
    close: function () { closeModal(true); },
    logout: logout,
    requestCode: requestCode,
    verifyCode: verifyCode
  };

  // Start: announce, drain the queue and keep listening, then replay the login if any.
  function start() {
    addLauncher();
    fire("bonbon::initialized", { clientId: clientId });
    var queue = window.bonbonDataLayer = window.bonbonDataLayer || [];
    var pending = queue.splice(0, queue.length);
    queue.push = function () {
      for (var i = 0; i < arguments.length; i++) {
        handle(arguments[i]);
      }
      return queue.length;
    };
    pending.forEach(handle);
    var s = loadSession();
    if (s) {
      fire("bonbon::login", { hashed_email: s.hashed_email, earn_token: s.earn_token });
    }
  }

  if (document.body) {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
