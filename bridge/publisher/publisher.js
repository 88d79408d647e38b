/*
 * The demo publisher's own login: OAuth 2.0 authorization code with PKCE (S256) against
 * the realm's public client, as a single-page app does without an adapter library. The
 * tokens stay in sessionStorage for this tab, which is enough for a demo; a production
 * page would use its usual Keycloak adapter and only wire its token into
 * window.bonbonBridge.accessToken, as below.
 *
 * crypto.subtle needs a secure context: https, or http on localhost / 127.0.0.1.
 */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("publisher-config").textContent);
  var endpoints = cfg.issuer + "/protocol/openid-connect";
  var here = location.origin + location.pathname;
  var tokensKey = "publisher.tokens";
  var flowKey = "publisher.pkce";

  function b64url(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) {
      s += String.fromCharCode(bytes[i]);
    }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function random(n) {
    var a = new Uint8Array(n);
    crypto.getRandomValues(a);
    return b64url(a);
  }

  function claims(jwt) {
    var p = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    while (p.length % 4) {
      p += "=";
    }
    return JSON.parse(decodeURIComponent(escape(atob(p))));
  }

  function load() {
    try {
      return JSON.parse(sessionStorage.getItem(tokensKey));
    } catch (e) {
      return null;
    }
  }

  function save(t) {
    if (!t) {
      sessionStorage.removeItem(tokensKey);
      return null;
    }
    var kept = {
      access: t.access_token, refresh: t.refresh_token, id: t.id_token || (tokens && tokens.id),
      expiresAt: Date.now() + t.expires_in * 1000
    };
    sessionStorage.setItem(tokensKey, JSON.stringify(kept));
    return kept;
  }

  var tokens = load();

  // login sends the browser to the realm's login page.
  function login() {
    var flow = { verifier: random(32), state: random(16), nonce: random(16) };
    sessionStorage.setItem(flowKey, JSON.stringify(flow));
    var data = new TextEncoder().encode(flow.verifier);
    crypto.subtle.digest("SHA-256", data).then(function (hash) {
      var q = new URLSearchParams({
        client_id: cfg.clientId, redirect_uri: here, response_type: "code",
        scope: "openid email profile", state: flow.state, nonce: flow.nonce,
        code_challenge: b64url(new Uint8Array(hash)), code_challenge_method: "S256"
      });
      location.assign(endpoints + "/auth?" + q.toString());
    });
  }

  function tokenRequest(params) {
    params.client_id = cfg.clientId;
    return fetch(endpoints + "/token", { method: "POST", body: new URLSearchParams(params) })
      .then(function (res) {
        if (!res.ok) {
          throw new Error("the token endpoint answered " + res.status);
        }
        return res.json();
      });
  }

  // callback finishes a login when Keycloak sent the browser back with a code.
  function callback() {
    var q = new URLSearchParams(location.search);
    if (!q.has("code") && !q.has("error")) {
      return Promise.resolve();
    }
    var flow = JSON.parse(sessionStorage.getItem(flowKey) || "null");
    sessionStorage.removeItem(flowKey);
    history.replaceState(null, "", here);
    if (q.has("error") || !flow || q.get("state") !== flow.state) {
      return Promise.reject(new Error(q.get("error") || "the login answer does not match"));
    }
    return tokenRequest({
      grant_type: "authorization_code", code: q.get("code"), redirect_uri: here,
      code_verifier: flow.verifier
    }).then(function (t) {
      if (claims(t.id_token).nonce !== flow.nonce) {
        throw new Error("the ID token's nonce does not match");
      }
      tokens = save(t);
    });
  }

  // accessToken is the hook signal.js calls: a fresh access token, or null.
  function accessToken() {
    return ready.then(function () {
      if (!tokens) {
        return null;
      }
      if (Date.now() < tokens.expiresAt - 30 * 1000) {
        return tokens.access;
      }
      return tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh })
        .then(function (t) {
          tokens = save(t);
          return tokens.access;
        }, function () {
          tokens = save(null); // the Keycloak session ended: signed out
          render();
          return null;
        });
    });
  }

  function logout() {
    var idToken = tokens && tokens.id;
    tokens = save(null);
    var q = new URLSearchParams({ client_id: cfg.clientId, post_logout_redirect_uri: here });
    if (idToken) {
      q.set("id_token_hint", idToken);
    }
    location.assign(endpoints + "/logout?" + q.toString());
  }

  function render() {
    var who = tokens && claims(tokens.access);
    document.getElementById("kc-status").textContent = who ?
      "Signed in as " + (who.preferred_username || who.email) : "Not signed in";
    document.getElementById("login").hidden = !!who;
    document.getElementById("logout").hidden = !who;
  }

  function showError(err) {
    var p = document.getElementById("login-error");
    p.textContent = "Sign-in failed: " + err.message;
    p.hidden = false;
  }

  window.addEventListener("bonbon-bridge::signal", function (e) {
    var p = document.getElementById("signal-status");
    p.textContent = "Signalled to Bonbon: logged in (token valid until " +
      new Date(e.detail.expires_at).toLocaleTimeString() + ")";
    p.className = "ok";
  });
  document.getElementById("login").addEventListener("click", login);
  document.getElementById("logout").addEventListener("click", logout);

  var ready = callback().catch(showError).then(render);
  window.bonbonBridge = window.bonbonBridge || {};
  window.bonbonBridge.accessToken = accessToken;
  ready.then(function () {
    if (window.bonbonBridge.refresh) {
      window.bonbonBridge.refresh();
    }
  });
})();
