// Runs the simulator's bonbon.js in Node with a minimal fake page, against a running
// simulator, and prints what the page saw as JSON. Used by TestWebTagsInNode; a real
// browser test covers rendering.
//
// usage: node webtags_harness.js SIM_URL ID_TOKEN
"use strict";
const vm = require("vm");
const [simURL, idToken] = process.argv.slice(2);
const email = "harness.user@example.test";

function fakeElement(tag) {
  return {
    tag, style: {}, attrs: {}, children: [], textContent: "", value: "",
    setAttribute(k, v) { this.attrs[k] = v; },
    getAttribute(k) { return this.attrs[k]; },
    appendChild(c) { this.children.push(c); return c; },
    focus() {},
  };
}

function fakePage(storage, withCrypto) {
  const win = new EventTarget();
  const events = [];
  for (const name of ["bonbon::initialized", "bonbon::auth::login", "bonbon::login",
    "bonbon::logout", "bonbon::opened", "bonbon::dismissed"]) {
    win.addEventListener(name, (e) => events.push({ name, detail: e.detail }));
  }
  const body = fakeElement("body");
  const script = fakeElement("script");
  script.src = simURL + "/bonbon.js";
  script.attrs["data-clientId"] = "client-1";
  const document = {
    body, currentScript: script,
    createElement: fakeElement,
    getElementById: (id) => findById(body, id),
    querySelector: () => script,
    addEventListener() {},
  };
  const localStorage = {
    getItem: (k) => (k in storage ? storage[k] : null),
    setItem: (k, v) => { storage[k] = String(v); },
    removeItem: (k) => { delete storage[k]; },
  };
  const ctx = {
    window: win, document, localStorage, location: { href: "http://127.0.0.1/page", origin: "http://127.0.0.1" },
    fetch, atob, CustomEvent, TextEncoder, URL, Promise, Uint8Array, Math, JSON, Array, Object, String,
    Error, Date, console,
  };
  if (withCrypto) {
    ctx.crypto = globalThis.crypto;
  }
  win.crypto = ctx.crypto;
  vm.createContext(ctx);
  return { win, events, ctx };
}

function findById(node, id) {
  if (node.attrs && node.attrs.id === id) return node;
  for (const c of node.children || []) {
    const f = findById(c, id);
    if (f) return f;
  }
  return null;
}

function load(page, src) {
  // The install snippet: a queue and bonbontag pushing its arguments object.
  page.win.bonbonDataLayer = page.win.bonbonDataLayer || [];
  page.ctx.bonbontag = function () { page.win.bonbonDataLayer.push(arguments); };
  vm.runInContext("bonbontag('js', new Date()); bonbontag('signal', 'loggedIn', 'queued-before-load');",
    page.ctx);
  vm.runInContext(src, page.ctx);
}

async function main() {
  const src = await (await fetch(simURL + "/bonbon.js")).text();
  const storage = {};
  const out = {};

  // First page view: logged out; the queue is drained, later commands still handled.
  const p1 = fakePage(storage, true);
  load(p1, src);
  out.queueAfterLoad = p1.win.bonbonDataLayer.length;
  out.tokenBefore = p1.win.Bonbon.getEarnToken();
  vm.runInContext(`bonbontag('signal', 'loggedIn', ${JSON.stringify(idToken)});`, p1.ctx);

  // The one-time-code login, reading the code as a test does.
  await p1.win.Bonbon.requestCode(email);
  const otp = (await (await fetch(simURL + "/_sim/otp?email=" + email)).json()).otp;
  out.answer = await p1.win.Bonbon.verifyCode(email, otp);
  out.tokenAfter = p1.win.Bonbon.getEarnToken();
  out.events1 = p1.events;

  // Second page view: the stored session fires bonbon::login again.
  const p2 = fakePage(storage, true);
  load(p2, src);
  out.events2 = p2.events;
  p2.win.Bonbon.logout();
  out.events2 = p2.events;
  out.tokenAfterLogout = p2.win.Bonbon.getEarnToken();

  // Third page view without crypto.subtle: the fallback hash must agree.
  const p3 = fakePage({}, false);
  load(p3, src);
  await p3.win.Bonbon.requestCode(email);
  const otp3 = (await (await fetch(simURL + "/_sim/otp?email=" + email)).json()).otp;
  await p3.win.Bonbon.verifyCode(email, otp3);
  out.events3 = p3.events;

  await new Promise((r) => setTimeout(r, 200)); // let the signal POSTs land
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
