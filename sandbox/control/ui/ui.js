// The dashboard: plain JavaScript over the control API (/_sandbox), no build step, no CDN.
"use strict";

const state = { shop: sessionStorage.getItem("shop") || "demo", timer: null, machines: null };

function token() {
  return sessionStorage.getItem("controlToken");
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token()) headers.Authorization = "Bearer " + token();
  const response = await fetch("/_sandbox" + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    const given = window.prompt("This sandbox runs with a control token. Token:");
    if (given) {
      sessionStorage.setItem("controlToken", given);
      return api(method, path, body);
    }
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error || response.status + " " + response.statusText);
  return answer;
}

function say(text, isError) {
  const message = document.getElementById("message");
  message.textContent = text;
  message.className = isError ? "error" : "";
}

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

function shopQuery() {
  return "?shop=" + encodeURIComponent(state.shop);
}

function age(iso) {
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 90) return Math.round(seconds) + " s";
  if (seconds < 5400) return Math.round(seconds / 60) + " min";
  if (seconds < 172800) return Math.round(seconds / 3600) + " h";
  return Math.round(seconds / 86400) + " d";
}

async function act(label, work) {
  try {
    const result = await work();
    say(label + ": done");
    return result;
  } catch (error) {
    say(label + ": " + error.message, true);
    return null;
  }
}

// ---- the payments page ----------------------------------------------------------------------

async function showList() {
  const view = document.getElementById("view");
  view.replaceChildren(document.getElementById("list-view").content.cloneNode(true));
  const picker = view.querySelector("select[name=magic]");
  const magic = await api("GET", "/magic").catch(() => ({ magic: [] }));
  for (const value of magic.magic) {
    picker.append(el("option", { value: value.name }, value.name + " (" + value.description + ")"));
  }
  view.querySelector("#checkout").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { shop: state.shop, manualCapture: form.has("manualCapture"), offsite: form.has("offsite") };
    if (form.get("magic")) body.magic = form.get("magic");
    if (form.get("amount")) body.amount = form.get("amount");
    const made = await act("Checkout", () => api("POST", "/checkouts", body));
    if (made) location.hash = "#/payment/" + made.paymentId;
  });
  view.querySelector("#advance").addEventListener("submit", async (event) => {
    event.preventDefault();
    const by = new FormData(event.target).get("advance");
    await act("Clock advanced by " + by, () => api("POST", "/clock", { shop: state.shop, advance: by }));
    refreshClock();
  });
  view.querySelector("#fault").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { target: form.get("target"), kind: form.get("kind"), shop: state.shop,
      count: Number(form.get("count") || 1) };
    if (body.kind === "status") body.status = 503;
    if (body.kind === "latency") body.latencyMs = 2000;
    await act("Fault armed", () => api("POST", "/faults", body));
  });
  view.querySelector("#reset").addEventListener("click", async () => {
    if (window.confirm("Reset shop " + state.shop + " to its fixtures?")) {
      await act("Shop reset", () => api("POST", "/reset", { shop: state.shop }));
    }
  });
  const refresh = async () => {
    const listing = await api("GET", "/payments" + shopQuery() + "&limit=50").catch((error) => {
      say(error.message, true);
      return null;
    });
    if (!listing) return;
    const rows = listing.payments.map((p) => el("tr", {},
      el("td", {}, el("a", { href: "#/payment/" + p.paymentId }, p.paymentId)),
      el("td", { class: "state " + p.state }, p.state),
      el("td", { class: "num" }, p.amount + " " + p.currency),
      el("td", {}, p.app || "–"),
      el("td", {}, el("time", { datetime: p.createdAt }, age(p.createdAt))),
      el("td", { class: "num" }, p.violations)));
    document.getElementById("payments")?.replaceChildren(...rows);
  };
  await refresh();
  state.timer = setInterval(refresh, 1000);
}

// ---- one payment ----------------------------------------------------------------------------

async function showPayment(paymentId) {
  const view = document.getElementById("view");
  view.replaceChildren(document.getElementById("payment-view").content.cloneNode(true));
  view.querySelector("#payment-title").textContent = "Payment " + paymentId;
  view.querySelector("#operate").addEventListener("submit", async (event) => {
    event.preventDefault();
    const op = event.submitter.value;
    const body = { shop: state.shop };
    const amount = new FormData(event.target).get("amount");
    if (amount && op !== "voids") body.amount = amount;
    await act(event.submitter.textContent, () => api("POST", "/payments/" + paymentId + "/" + op, body));
    refresh();
  });
  if (!state.machines) state.machines = (await api("GET", "/machines")).machines;
  let shown = "";
  const refresh = async () => {
    const data = await api("GET", "/payments/" + paymentId + "/timeline" + shopQuery()).catch((error) => {
      say(error.message, true);
      return null;
    });
    if (!data) return;
    const fingerprint = JSON.stringify(data);
    if (fingerprint === shown) return;  // nothing new: keep the page (and any open details) as is
    shown = fingerprint;
    renderPayment(data.payment, data.timeline);
  };
  await refresh();
  state.timer = setInterval(refresh, 1000);
}

function renderPayment(payment, timeline) {
  const facts = document.getElementById("facts");
  const pairs = [
    ["State", el("span", { class: "state " + payment.state, id: "payment-state" }, payment.state)],
    ["Amount", payment.amount + " " + payment.currency],
    ["Captured", payment.capturedAmount], ["Refunded", payment.refundedAmount],
    ["Card", payment.cardLast4 ? "···· " + payment.cardLast4
      : payment.kind === "offsite" ? "none (offsite payment)" : "number not recorded"],
    ["Manual capture", payment.manualCapture ? "yes" : "no"],
    ["Operations", payment.operations.map((o) => o.kind + " " + (o.amount || "") + " " + o.state).join(", ") || "none"],
    ["Violations", payment.violations.length ? payment.violations.map((v) => v.message || v.rule).join("; ") : "none"],
  ];
  facts.replaceChildren(...pairs.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
  const next = document.getElementById("next-action");
  next.replaceChildren();
  if (payment.nextAction) {
    const label = payment.nextAction.type === "three_ds" ? "Open the 3-D Secure page" : "Open the offsite payment page";
    next.append(el("a", { href: payment.nextAction.url, target: "_blank", id: "next-action-link" }, label));
  }
  drawMachine(state.machines.payment, payment.state);
  offerActions(state.machines.payment, payment.state);
  const items = timeline.map((entry) => {
    const summary = describe(entry);
    const item = el("li", { class: entry.type, "data-type": entry.type, "data-message": entry.message || entry.to || "" },
      el("time", { datetime: entry.at }, when(entry.at)), summary);
    const payload = {};
    for (const key of ["requestBody", "responseBody", "payload", "error"]) {
      if (entry[key] !== undefined && entry[key] !== null) payload[key] = entry[key];
    }
    const answer = entry.responseBody || {};
    const buyerPage = answer.threeDsUrl || answer.redirectUrl;
    if (buyerPage) {  // the app asked for a buyer step: its page opens from here too
      const label = answer.threeDsUrl ? "open the 3-D Secure page" : "open the offsite page";
      item.append(" ", el("a", { href: buyerPage, target: "_blank" }, label));
    }
    if (Object.keys(payload).length) {
      item.append(el("details", {}, el("summary", {}, "payload"), el("pre", {}, JSON.stringify(payload, null, 2))));
    }
    return item;
  });
  document.getElementById("timeline").replaceChildren(...items);
}

// Only what the machine allows from the payment's state is offered (its guards, such as
// what is left to refund, the platform checks when asked).
const ACTIONS = { captures: "capture", voids: "void", refunds: "refund" };

function offerActions(machine, current) {
  const events = new Set(machine.transitions.filter((t) => t.from === current).map((t) => t.event));
  let any = false;
  for (const button of document.querySelectorAll("#operate button")) {
    button.hidden = !events.has(ACTIONS[button.value]);
    any = any || !button.hidden;
  }
  document.getElementById("operate").hidden = !any;
  document.getElementById("no-action").hidden = any;
}

// The time of day for today (on the shop's clock); the date too for any other day.
function when(iso) {
  const day = iso.slice(0, 10);
  return (state.today && day !== state.today ? day + " " : "") + iso.slice(11, 23);
}

function describe(entry) {
  if (entry.type === "state") {
    return entry.kind + ": " + (entry.from ? entry.from + " → " : "") + entry.to + " (" + entry.event + ", " + (entry.cause || "") + ")";
  }
  const outcome = entry.status ? "→ " + entry.status : entry.error ? "→ " + entry.error : "→ waiting";
  const timing = entry.durationMs != null ? " in " + Math.round(entry.durationMs) + " ms" : "";
  const attempt = entry.attempt ? " attempt " + entry.attempt : "";
  return entry.type + " " + (entry.message || "") + attempt + ": " + (entry.method || "") + " " + (entry.url || entry.path || "") + " " + outcome + timing;
}

function drawMachine(machine, current) {
  // States in columns by their distance from the initial state; an arrow per transition.
  const depth = { [machine.initial]: 0 };
  const queue = [machine.initial];
  while (queue.length) {
    const from = queue.shift();
    for (const t of machine.transitions) {
      if (t.from === from && depth[t.to] === undefined) {
        depth[t.to] = depth[from] + 1;
        queue.push(t.to);
      }
    }
  }
  const columns = [];
  for (const name of Object.keys(machine.states)) {
    const column = depth[name] ?? 0;
    (columns[column] = columns[column] || []).push(name);
  }
  const width = 150, height = 44, gapX = 60, gapY = 18;
  const place = {};
  columns.forEach((names, x) => names.forEach((name, y) => {
    place[name] = { x: 10 + x * (width + gapX), y: 10 + y * (height + gapY) };
  }));
  const svgWidth = 20 + columns.length * (width + gapX);
  const svgHeight = 20 + Math.max(...columns.map((c) => c.length)) * (height + gapY);
  const ns = "http://www.w3.org/2000/svg";
  const make = (tag, attributes, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const svg = make("svg", { width: svgWidth, height: svgHeight, role: "img",
    "aria-label": "The payment state machine, current state " + current });
  const defs = make("defs", {});
  const marker = make("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5,
    markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" });
  marker.append(make("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#999" }));
  defs.append(marker);
  svg.append(defs);
  for (const t of machine.transitions) {
    const a = place[t.from], b = place[t.to];
    if (!a || !b || t.from === t.to) continue;
    const x1 = a.x + width, y1 = a.y + height / 2, x2 = b.x, y2 = b.y + height / 2;
    const path = b.x > a.x ? `M ${x1} ${y1} C ${x1 + 30} ${y1}, ${x2 - 30} ${y2}, ${x2} ${y2}`
      : `M ${a.x + width / 2} ${a.y + height} C ${a.x + width / 2} ${a.y + height + 30}, ${b.x + width / 2} ${b.y + height + 30}, ${b.x + width / 2} ${b.y + height}`;
    const edge = make("path", { d: path, class: "edge" });
    edge.append(make("title", {}, t.event + (t.guard ? " [" + t.guard + "]" : "")));
    svg.append(edge);
  }
  for (const [name, at] of Object.entries(place)) {
    const node = make("g", { class: "node" + (name === current ? " current" : ""), "data-state": name });
    node.append(make("rect", { x: at.x, y: at.y, width, height, rx: 6 }));
    node.append(make("text", { x: at.x + 10, y: at.y + 26 }, name));
    svg.append(node);
  }
  document.getElementById("machine").replaceChildren(svg);
}

// ---- the coverage page ----------------------------------------------------------------------

async function showCoverage() {
  const view = document.getElementById("view");
  view.replaceChildren(document.getElementById("coverage-view").content.cloneNode(true));
  const report = await api("GET", "/coverage" + shopQuery());
  document.getElementById("coverage-summary").textContent =
    report.percent + "% covered: " + report.covered + " of " + report.total + " items (" +
    report.groups.map((group) => group.name + " " + group.covered + "/" + group.total).join(", ") + ")";
  const rows = document.getElementById("coverage");
  for (const item of report.items) {
    const row = el("tr", { class: item.exercised ? "covered" : "missed", "data-item": item.id },
      el("td", {}, item.group), el("td", { title: item.id }, item.title),
      el("td", {}, item.exercised), el("td", {}, item.passed));
    rows.append(row);
  }
}

// ---- frame ----------------------------------------------------------------------------------

async function refreshClock() {
  const clock = await api("GET", "/clock" + shopQuery()).catch(() => null);
  if (clock) {
    state.today = clock.now.slice(0, 10);
    document.getElementById("clock").textContent =
      "Shop clock " + clock.now.slice(0, 19).replace("T", " ") + " UTC" + (clock.frozen ? " (frozen)" : "");
  }
}

async function route() {
  clearInterval(state.timer);
  const match = location.hash.match(/^#\/payment\/(.+)$/);
  try {
    if (match) await showPayment(decodeURIComponent(match[1]));
    else if (location.hash === "#/coverage") await showCoverage();
    else await showList();
  } catch (error) {
    say(error.message, true);
  }
}

async function start() {
  const shops = await api("GET", "/shops").catch((error) => {
    say(error.message, true);
    return { shops: [] };
  });
  const picker = document.getElementById("shop");
  for (const shop of shops.shops) picker.append(el("option", { value: shop.handle }, shop.name + " (" + shop.handle + ")"));
  if (!shops.shops.some((shop) => shop.handle === state.shop) && shops.shops.length) state.shop = shops.shops[0].handle;
  picker.value = state.shop;
  picker.addEventListener("change", () => {
    state.shop = picker.value;
    sessionStorage.setItem("shop", state.shop);
    location.hash = "#/";
    route();
    refreshClock();
  });
  window.addEventListener("hashchange", route);
  await refreshClock();  // the timeline dates what is not today: it needs the clock first
  setInterval(refreshClock, 5000);
  route();
}

start();
