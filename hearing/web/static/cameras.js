// The courtroom's cameras on the hearing page (issue 13): the program the rig
// sends and why, a tile per camera with its preview, its state and its seat's
// microphone level, and for the judge one click to pin a camera or a layout
// and one to release it. Like checkin.js and interpretation.js it opens no
// socket: it follows the panel's feed ("hearing:feed": the snapshot's "rig",
// then "rig", "preview", "rig_levels" and "floor" messages) and sends through
// the panel (its CSRF token, its error line). The state lives here, not in
// the DOM, so a section redrawn in another language ("hearing:language")
// shows the same at once.

const METER_MIN = -60; // dBFS: quieter than this is shown as the empty meter

let rig = null; // the newest "rig" message, or null before the rig ever spoke
let pin = null; // the judge's choice from the floor: {camera, layout} or null
let version = -1; // the floor's version `pin` came with
const previews = new Map(); // camera id (or "program") -> base64 JPEG
let levels = {}; // seat -> dBFS, or null for silence

function root() {
  return document.querySelector("[data-cameras]");
}

function texts(section) {
  return JSON.parse(section.querySelector("[data-role=text]").textContent);
}

function say(t, key, values = {}) {
  let text = t[key] || key;
  for (const [name, value] of Object.entries(values)) text = text.replace(`{${name}}`, value);
  return text;
}

function canAct(section) {
  return section.dataset.canAct === "true";
}

function lang() {
  return document.documentElement.lang === "da" ? "da" : "en";
}

function label(camera) {
  if (!camera) return "";
  const own = camera.label || {};
  return own[lang()] || own.en || own.da || camera.id;
}

function cameraById(id) {
  return rig && rig.cameras ? rig.cameras.find((camera) => camera.id === id) : undefined;
}

// "Witness", "Witness, speaker and strip", "one camera": what a program or a pin shows.
function describe(t, camera, layout) {
  const parts = [];
  if (camera) parts.push(label(cameraById(camera)) || camera);
  if (layout && (layout !== "single" || !camera)) parts.push(say(t, `cameras.shape.${layout}`));
  return parts.join(", ") || say(t, "cameras.nothing");
}

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function show(img, blank, jpeg) {
  if (!jpeg) return; // keep the last picture until the next
  const src = `data:image/jpeg;base64,${jpeg}`;
  if (img.getAttribute("src") !== src) img.setAttribute("src", src);
  img.hidden = false;
  if (blank) blank.hidden = true;
}

// --- drawing ------------------------------------------------------------------

function tileOf(section, id) {
  return [...section.querySelectorAll("[data-role=tiles] > li")].find((li) => li.dataset.camera === id);
}

function newTile(section, t, camera) {
  const li = element("li", { class: "camera-tile" });
  li.dataset.camera = camera.id;
  // The judge's tile is a button (one click pins it); the clerk's the same picture without one.
  const face = canAct(section)
    ? element("button", { type: "button", "data-role": "pin", "aria-pressed": "false" })
    : element("div", { class: "camera-face" });
  face.append(
    element("img", { alt: "", width: "160", height: "90", "data-role": "preview", hidden: "" }),
    element("span", { class: "camera-blank", "data-role": "blank" }, say(t, "cameras.no_picture")),
    element("span", { class: "camera-label", "data-role": "label" }),
    element("span", { class: "camera-state", "data-role": "state" }),
  );
  const meter = element("meter", { min: String(METER_MIN), max: "0", low: "-45", high: "-12", optimum: "-20" });
  meter.dataset.role = "level";
  li.append(face, element("span", { class: "help camera-reason", "data-role": "reason", hidden: "" }), meter);
  return li;
}

function drawTiles(section, t) {
  const list = section.querySelector("[data-role=tiles]");
  const cameras = (rig && rig.cameras) || [];
  for (const li of [...list.children]) if (!cameraById(li.dataset.camera)) li.remove();
  cameras.forEach((camera, index) => {
    let li = tileOf(section, camera.id);
    if (!li) li = newTile(section, t, camera);
    if (list.children[index] !== li) list.insertBefore(li, list.children[index] || null);
    const name = label(camera);
    const state = ["live", "starting", "unavailable"].includes(camera.state) ? camera.state : "unavailable";
    li.dataset.state = state; // for the styles and the tests
    setText(li.querySelector("[data-role=label]"), name);
    setText(li.querySelector("[data-role=state]"), say(t, `cameras.state.${state}`));
    const reason = li.querySelector("[data-role=reason]");
    setText(reason, state === "unavailable" && camera.reason ? camera.reason : "");
    reason.hidden = !reason.textContent;
    const button = li.querySelector("button[data-role=pin]");
    if (button) {
      const pinned = Boolean(pin && pin.camera === camera.id);
      button.setAttribute("aria-pressed", pinned ? "true" : "false");
      button.setAttribute("aria-label", `${say(t, "cameras.pin", { camera: name })}: ${say(t, `cameras.state.${state}`)}`);
      // A camera that cannot be shown cannot be pinned; the tile says why.
      button.disabled = state === "unavailable" && !pinned;
    }
    li.classList.toggle("pinned", Boolean(pin && pin.camera === camera.id));
    li.querySelector("meter").setAttribute("aria-label", say(t, "cameras.level", { camera: name }));
    show(li.querySelector("[data-role=preview]"), li.querySelector("[data-role=blank]"), previews.get(camera.id));
  });
  drawLevels(section, t);
}

function drawLevels(section, t) {
  for (const li of section.querySelectorAll("[data-role=tiles] > li")) {
    const camera = cameraById(li.dataset.camera);
    const meter = li.querySelector("meter");
    const level = camera ? levels[camera.seat] : undefined;
    const db = typeof level === "number" && Number.isFinite(level) ? Math.max(METER_MIN, Math.min(0, level)) : null;
    meter.value = db === null ? METER_MIN : db;
    // The meter's words for a screen reader (and a browser that draws no meter).
    setText(meter, db === null ? say(t, "cameras.level.silent") : say(t, "cameras.level.value", { db: Math.round(db) }));
    meter.setAttribute("aria-valuetext", meter.textContent);
  }
}

// A camera that stops: said in words where the judge and the clerk look, once
// (role="alert" speaks when the notice appears), and gone when it is back.
function drawAlerts(section, t) {
  const box = section.querySelector("[data-role=alerts]");
  const down = rig && rig.connected ? rig.cameras.filter((camera) => camera.state === "unavailable") : [];
  for (const notice of [...box.children]) {
    if (!down.some((camera) => camera.id === notice.dataset.camera)) notice.remove();
  }
  for (const camera of down) {
    const text = say(t, "cameras.unavailable", { camera: label(camera) });
    let notice = [...box.children].find((node) => node.dataset.camera === camera.id);
    if (!notice) {
      notice = element("p", { class: "notice notice-danger", role: "alert", "data-notice": "camera-unavailable" });
      notice.dataset.camera = camera.id;
      box.append(notice);
    }
    setText(notice, text);
  }
}

function drawProgram(section, t) {
  const program = rig && rig.program;
  const showing = section.querySelector("[data-role=program-showing]");
  setText(
    showing,
    program
      ? say(t, "cameras.showing", {
          what: describe(t, program.camera, program.layout),
          why: say(t, `cameras.reason.${program.reason}`),
        })
      : "",
  );
  section.dataset.program = program && program.camera ? program.camera : ""; // for the tests
  const pinned = section.querySelector("[data-role=program-pinned]");
  setText(pinned, pin ? say(t, "cameras.pinned", { what: describe(t, pin.camera, pin.layout) }) : say(t, "cameras.automatic"));
  show(section.querySelector("[data-role=program-image]"), section.querySelector("[data-role=program-blank]"), previews.get("program"));
}

function drawControls(section) {
  const offered = (rig && rig.layouts) || [];
  for (const button of section.querySelectorAll("button[data-layout]")) {
    button.hidden = !offered.includes(button.dataset.layout);
    button.setAttribute("aria-pressed", pin && pin.layout === button.dataset.layout ? "true" : "false");
  }
  const release = section.querySelector("[data-role=release]");
  if (release) release.hidden = !pin;
}

function draw() {
  const section = root();
  if (!section) return;
  const t = texts(section);
  const connected = Boolean(rig && rig.connected);
  section.dataset.connected = connected ? "true" : "false";
  section.querySelector("[data-role=offline]").hidden = connected;
  section.querySelector("[data-role=body]").hidden = !connected;
  drawAlerts(section, t);
  drawTiles(section, t);
  drawProgram(section, t);
  drawControls(section);
}

// --- the judge's clicks -------------------------------------------------------

function takeFloor(floorVersion, floor) {
  if (floorVersion < version || !floor) return;
  version = floorVersion;
  pin = floor.camera || null;
}

async function send(command) {
  const section = root();
  if (!window.hearingPanel || !section || !canAct(section)) return;
  await window.hearingPanel.send(command);
  // The panel applied the floor the server answered with (or showed why not).
  const panel = window.hearingPanel;
  if (panel && panel.floor) takeFloor(panel.version, panel.floor);
  draw();
}

// The judge's new pin after a click: a camera or a layout is added to what
// is pinned (one click changes one thing), and a pressed one is taken off
// again, as a toggle button does; with nothing left, the pin is released.
function after(part, value) {
  const next = { camera: (pin && pin.camera) || null, layout: (pin && pin.layout) || null };
  next[part] = next[part] === value ? null : value;
  if (!next.camera && !next.layout) return { action: "release_camera" };
  const command = { action: "pin_camera" };
  if (next.camera) command.camera = next.camera;
  if (next.layout) command.layout = next.layout;
  return command;
}

document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const section = target && target.closest("[data-cameras]");
  if (!section || !canAct(section)) return;
  const tile = target.closest("button[data-role=pin]");
  const layout = target.closest("button[data-layout]");
  if (tile && !tile.disabled) send(after("camera", tile.closest("li").dataset.camera));
  else if (layout) send(after("layout", layout.dataset.layout));
  else if (target.closest("[data-role=release]")) send({ action: "release_camera" });
});

// --- the feed -------------------------------------------------------------------

window.addEventListener("hearing:feed", (event) => {
  const message = event.detail;
  const section = root();
  switch (message.type) {
    case "snapshot":
      // A snapshot without the key (a server that knows no rig) leaves what was shown.
      if ("rig" in message) rig = message.rig || null;
      version = -1; // a snapshot always wins
      takeFloor(message.version, message.floor);
      draw();
      break;
    case "floor":
      takeFloor(message.version, message.floor);
      draw();
      break;
    case "rig":
      rig = message;
      draw();
      break;
    case "preview":
      if (typeof message.camera !== "string" || typeof message.jpeg !== "string") return;
      previews.set(message.camera, message.jpeg);
      if (!section) return;
      if (message.camera === "program") {
        show(section.querySelector("[data-role=program-image]"), section.querySelector("[data-role=program-blank]"), message.jpeg);
      } else {
        const li = tileOf(section, message.camera);
        if (li) show(li.querySelector("[data-role=preview]"), li.querySelector("[data-role=blank]"), message.jpeg);
      }
      break;
    case "rig_levels":
      levels = message.levels || {};
      if (section) drawLevels(section, texts(section));
      break;
  }
});

window.addEventListener("hearing:language", () => draw());
draw();
