// How the interpreter is heard, on the judge's panel (issue 12): the mode the
// judge chooses (none, consecutive, simultaneous, and whether counsel needs it
// too) and, in words, where the interpretation goes now. The direction of
// simultaneous interpretation follows the floor by itself; this module only
// says so. It opens no socket: it follows the panel's feed ("hearing:feed")
// and sends through the panel (its CSRF token, its error line), like
// checkin.js. Event handlers are delegated, so a panel redrawn in another
// language keeps working.

let floor = null; // the panel's floor: seats, holder, the interpretation's fields
let told = null; // the newest "interpretation" message: heard_by per seat

function root() {
  return document.querySelector("[data-panel] [data-interpretation]");
}

function texts() {
  const node = document.querySelector("[data-panel] [data-role=text]");
  return node ? JSON.parse(node.textContent) : {};
}

function seatsOf(role) {
  return floor ? Object.keys(floor.seats).filter((seat) => floor.seats[seat] === role) : [];
}

// Counsel with a seat of their own: the consultation booth, or remote counsel.
function counselSeats() {
  return seatsOf("defence_counsel");
}

function seatName(t, seat) {
  if (seat === "recorder") return t["panel.interpretation.recorder"] || seat;
  return t[`seat.${seat}`] || t[`seat.${seat.split("-")[0]}`] || seat;
}

function stateKey(direction, needs) {
  if (direction === "to_party") {
    const counsel = counselSeats().some((seat) => needs.includes(seat));
    if (needs.includes("custody")) return counsel ? "to_party_counsel" : "to_party";
    return "to_party_others";
  }
  return direction === "none" ? "none" : direction;
}

function draw() {
  const section = root();
  if (!section || !floor) return;
  const t = texts();
  const mode = floor.interpretation || "none";
  const needs = floor.needs_interpretation || [];
  const direction = floor.direction || "none";
  section.dataset.mode = mode;
  section.dataset.direction = direction; // for the tests and diagnostics
  section.querySelector("[data-role=interpretation-state]").textContent =
    t[`panel.interpretation.state.${stateKey(direction, needs)}`] || direction;
  const interpreters = seatsOf("interpreter");
  for (const radio of section.querySelectorAll("[data-role=interpretation-mode]")) {
    radio.checked = radio.value === mode;
    if (radio.value === "simultaneous" && !interpreters.length && mode !== "simultaneous") {
      radio.disabled = true;
      radio.title = t["panel.interpretation.no_seat"] || "";
    } else if (radio.value === "simultaneous") {
      radio.disabled = !canAct();
      radio.title = "";
    }
  }
  const option = section.querySelector("[data-role=interpretation-counsel-option]");
  option.hidden = !counselSeats().length;
  section.querySelector("[data-role=interpretation-counsel]").checked = counselSeats().some((s) => needs.includes(s));
  const heard = section.querySelector("[data-role=interpretation-heard]");
  const byInterpreter = told && told.heard_by ? interpreters.flatMap((seat) => told.heard_by[seat] || []) : null;
  if (mode === "none" || byInterpreter === null || !interpreters.length) heard.textContent = "";
  else if (!byInterpreter.length) heard.textContent = t["panel.interpretation.heard_by_nobody"] || "";
  else {
    const who = [...new Set(byInterpreter)].map((seat) => seatName(t, seat)).join(", ");
    heard.textContent = (t["panel.interpretation.heard_by"] || "{who}").replace("{who}", who);
  }
}

function canAct() {
  const panel = document.querySelector("[data-panel]");
  return Boolean(panel && panel.dataset.canAct === "true");
}

async function send(command) {
  if (!window.hearingPanel || !canAct()) return;
  await window.hearingPanel.send(command);
  draw(); // a refused choice shows the mode that stands (the panel says why)
}

function choose() {
  const section = root();
  const chosen = section.querySelector("[data-role=interpretation-mode]:checked");
  if (!chosen) return;
  const command = { action: "interpretation", mode: chosen.value };
  if (chosen.value === "simultaneous") {
    const counsel = section.querySelector("[data-role=interpretation-counsel]").checked;
    command.needs = ["custody", ...(counsel ? counselSeats() : [])];
  }
  send(command);
}

document.addEventListener("change", (event) => {
  const target = event.target;
  if (!(target instanceof HTMLInputElement) || !target.closest("[data-interpretation]")) return;
  if (target.dataset.role === "interpretation-mode") choose();
  else if (target.dataset.role === "interpretation-counsel") {
    // Counsel's need matters only while the interpretation is whispered.
    if (floor && floor.interpretation === "simultaneous") choose();
  }
});

window.addEventListener("hearing:feed", (event) => {
  const message = event.detail;
  if (message.type === "snapshot") {
    floor = message.floor;
    told = message.interpretation || null;
  } else if (message.type === "floor" && (!floor || message.version >= floor.version)) {
    floor = message.floor;
  } else if (message.type === "interpretation") {
    told = message;
  } else return;
  draw();
});
