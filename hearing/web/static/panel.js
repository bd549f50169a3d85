// The judge's speaker-order panel. The server is authoritative: this module
// draws what the live feed says, and sends the judge's commands over HTTP.
// Every floor update carries its version; a gap means a missed update, and
// the panel fetches a fresh snapshot. No framework, no build step.

import { Lobby } from "/static/lobby.js";

const RECONNECT_MS = [250, 500, 1000, 2000, 4000];
const SPEAKING_HOLD_MS = 600; // how long the speaking mark stays after the last loud frame

// Commands whose meaning depends on the queue the judge saw: "the next in
// line", a position. Sent with the version shown, so a queue that moved in
// the meantime refuses them (stale_version) instead of acting on someone else.
function orderDependent(command) {
  return ["skip", "clear", "reorder"].includes(command.action) || (command.action === "grant" && !command.speaker);
}

class Panel {
  constructor(root) {
    this.root = root;
    this.hearing = root.dataset.hearing;
    this.canAct = root.dataset.canAct === "true";
    this.csrf = root.dataset.csrf;
    this.text = JSON.parse(root.querySelector("[data-role=text]").textContent);
    this.version = -1;
    this.floor = null;
    this.seats = {}; // presence and health per seat
    this.people = {}; // who is at each seat, from the docket
    this.speaking = {}; // seat -> time of the last loud frame
    this.attempt = 0;
    this.onKey = (event) => this.shortcut(event);
    this.asked = new Set(); // seats whose people a fresh snapshot was fetched for
    this.lobby = new Lobby({
      section: root.querySelector(".panel-lobby"),
      t: (key) => this.t(key),
      seatName: (seat) => this.seatName(seat),
      canAct: this.canAct,
      send: (command) => this.send(command),
      badge: (seat) => this.healthBadge(seat),
    });
    this.bind();
    this.connect();
    this.ticker = setInterval(() => this.drawSpeaking(), 200);
  }

  // The page switched language in place: this panel gives way to the one
  // rendered in the new language, which fetches the same state again.
  destroy() {
    this.destroyed = true;
    clearInterval(this.ticker);
    this.lobby.destroy();
    document.removeEventListener("keydown", this.onKey);
    if (this.socket) this.socket.close();
  }

  $(role) {
    return this.root.querySelector(`[data-role="${role}"]`);
  }

  t(key) {
    return this.text[key] || key;
  }

  seatName(seat) {
    // A remote seat ("interpreter-12") is named by its kind.
    return this.text[`seat.${seat}`] || this.text[`seat.${seat.split("-")[0]}`] || seat;
  }

  speakerName(name) {
    const speaker = this.floor && this.floor.speakers.find((s) => s.name === name);
    if (!speaker) return name;
    return `${this.text[`role.${speaker.role}`] || speaker.role} (${this.seatName(speaker.seat)})`;
  }

  // --- the live feed ----------------------------------------------------------

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/hearings/${this.hearing}/panel`);
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.setLink(true);
    });
    socket.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => {
      if (this.destroyed || event.code === 1000) return; // gone for good: the hearing ended, or the page moved on
      if (event.code === 4401) {
        // The session ended (signed out, expired, disabled): a reconnect would be refused too.
        this.$("link").textContent = this.t("panel.session_ended");
        this.$("link").classList.remove("ok");
        return;
      }
      this.setLink(false);
      const delay = RECONNECT_MS[Math.min(this.attempt++, RECONNECT_MS.length - 1)];
      setTimeout(() => this.connect(), delay);
    });
    this.socket = socket;
  }

  setLink(up) {
    const link = this.$("link");
    link.textContent = this.t(up ? "panel.online" : "panel.offline");
    link.classList.toggle("ok", up);
  }

  receive(message) {
    // Other modules of the hearing page (the custody desk's check-in, the
    // link's notices) follow the same feed without a socket of their own.
    window.dispatchEvent(new CustomEvent("hearing:feed", { detail: message }));
    switch (message.type) {
      case "snapshot":
        this.seats = message.seats;
        this.people = message.people || {};
        this.version = -1; // a snapshot always wins
        this.applyFloor(message.version, message.floor);
        this.showRecording(message.recording);
        break;
      case "floor":
        if (message.version > this.version + 1 && this.version >= 0) {
          this.refresh(); // missed one: the snapshot brings presence too
        }
        this.applyFloor(message.version, message.floor);
        break;
      case "presence":
        this.seats = message.seats;
        this.draw();
        break;
      case "health":
        this.seats[message.seat] = { ...(this.seats[message.seat] || { present: true, media: true }), health: message };
        this.draw();
        break;
      case "level":
        if (message.speaking) this.speaking[message.seat] = performance.now();
        break;
      case "hearing":
        this.hearingMoved(message.hearing_state, message.transitions);
        break;
      case "recording":
        this.showRecording(message.recording);
        break;
      case "error":
        this.showError(message.message);
        break;
    }
  }

  showRecording(on) {
    const badge = this.$("recording");
    badge.textContent = this.t(on ? "panel.recording.on" : "panel.recording.off");
    badge.classList.toggle("recording-on", on);
    badge.classList.toggle("recording-off", !on);
  }

  applyFloor(version, floor) {
    if (version <= this.version) return; // old news, arrived late
    this.version = version;
    this.floor = floor;
    this.root.dataset.version = String(version); // for the tests and diagnostics
    this.draw();
    // A party added to the hearing while it runs (issue 12) has a seat the
    // floor names but whose people only a snapshot says: fetched once.
    const unknown = Object.keys(floor.seats).filter((seat) => seat.includes("-") && !this.people[seat] && !this.asked.has(seat));
    if (unknown.length) {
      for (const seat of unknown) this.asked.add(seat);
      this.refresh();
    }
  }

  async refresh() {
    const response = await fetch(`/hearings/${this.hearing}/floor`, { headers: { Accept: "application/json" } });
    if (response.ok) this.receive(await response.json());
  }

  // --- commands -------------------------------------------------------------

  async send(command) {
    if (!this.canAct) return;
    const response = await fetch(`/hearings/${this.hearing}/floor`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": this.csrf },
      body: JSON.stringify(
        orderDependent(command) ? { ...command, version: this.version } : command,
      ),
    });
    const body = await response.json();
    if (response.ok) {
      this.showError("");
      this.applyFloor(body.version, body.floor);
    } else {
      this.showError(body.message);
      if (body.error === "stale_version") this.refresh();
    }
  }

  // --- the lifecycle: without reloading, so the judge's video link stays up ---

  async transition(form) {
    // getAttribute: form.action would be the form's input named "action".
    const response = await fetch(form.getAttribute("action"), {
      method: "POST",
      headers: { Accept: "application/json" },
      body: new URLSearchParams(new FormData(form)),
    });
    const body = await response.json();
    if (response.ok) this.hearingMoved(body.state, body.transitions);
    else this.showError(body.message);
  }

  hearingMoved(state, transitions) {
    if (!transitions.length) {
      location.reload(); // the hearing has ended: the page says so
      return;
    }
    const badge = document.querySelector("[data-role=hearing-state]");
    badge.textContent = this.t(`state.${state}`);
    badge.className = `state state-${state}`;
    const controls = document.querySelector("[data-role=controls]");
    if (!controls) return;
    const template = controls.querySelector("form");
    const option = document.querySelector("template[data-role=interpreter-option]");
    controls.replaceChildren(
      ...transitions.map((action) => {
        const form = template.cloneNode(true);
        for (const extra of form.querySelectorAll("label")) extra.remove();
        // The consultation may include the interpreter, where the hearing has one.
        if (action === "begin_consultation" && option) form.append(option.content.cloneNode(true));
        form.querySelector("input[name=action]").value = action;
        const button = form.querySelector("button");
        button.className = `action-${action}`;
        button.dataset.transition = action;
        button.textContent = this.t(`transition.${action}`);
        return form;
      }),
    );
  }

  showError(text) {
    const box = this.$("error");
    box.textContent = text;
    box.hidden = !text;
  }

  bind() {
    for (const button of this.root.querySelectorAll("button[data-act]")) {
      button.addEventListener("click", () => this.commandFor(button.dataset.act));
    }
    for (const radio of this.root.querySelectorAll("[data-role=mode]")) {
      radio.addEventListener("change", () => this.send({ action: "mode", mode: radio.value }));
    }
    const add = this.$("add");
    if (add) add.addEventListener("click", () => this.send({ action: "request", speaker: this.$("behalf").value }));
    const hide = this.$("hide-form");
    if (hide) {
      hide.addEventListener("submit", (event) => {
        event.preventDefault();
        this.send({
          action: "hide",
          source: this.$("hide-source").value,
          receiver: this.$("hide-receiver").value,
          medium: this.$("hide-medium").value,
        });
      });
    }
    if (this.canAct) document.addEventListener("keydown", this.onKey);
    const controls = document.querySelector("[data-role=controls]");
    if (controls && this.canAct) {
      controls.addEventListener("submit", (event) => {
        event.preventDefault();
        this.transition(event.target);
      });
    }
  }

  commandFor(act) {
    if (act === "grant") {
      return this.send({ action: "grant", keep_previous: this.$("keep-previous").checked });
    }
    return this.send({ action: act });
  }

  shortcut(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.repeat) return;
    if (event.target.closest("input, select, textarea")) return;
    const key = event.key.toLowerCase();
    if (key === "g") this.commandFor("grant");
    else if (key === "t") this.commandFor("take_back");
    else if (key === "m") this.commandFor("mute_all");
    else if (key === "p") {
      const pause = document.querySelector("[data-transition=pause]");
      if (pause) pause.click();
      else return;
    } else return;
    event.preventDefault();
  }

  // --- drawing ----------------------------------------------------------------

  draw() {
    if (!this.floor) return;
    this.drawFloor();
    this.drawQueue();
    this.drawLobby();
    this.drawSeats();
    this.drawScreening();
  }

  drawFloor() {
    const floor = this.floor;
    this.$("holder").textContent = floor.holder
      ? `${this.speakerName(floor.holder)} ${this.t("panel.has_floor")}`
      : this.t("panel.judge_has_floor");
    this.$("kept").textContent = floor.kept_live.length
      ? `${this.t("panel.kept_live")}: ${floor.kept_live.map((s) => this.speakerName(s)).join(", ")}`
      : "";
    for (const radio of this.root.querySelectorAll("[data-role=mode]")) radio.checked = radio.value === floor.mode;
    const behalf = this.$("behalf");
    if (behalf) {
      const chosen = behalf.value;
      const admitted = new Set(floor.admitted);
      const speakers = floor.speakers.filter((s) => admitted.has(s.seat)).map((s) => s.name);
      replaceOptions(behalf, speakers.map((name) => [name, this.speakerName(name)]), chosen);
    }
  }

  drawQueue() {
    const list = this.$("queue");
    // Redrawing must not take the keyboard user's place away: the request
    // that had the focus has it again afterwards, wherever it moved.
    const focused = list.contains(document.activeElement) && document.activeElement.closest("[data-speaker]");
    const keep = focused ? focused.dataset.speaker : null;
    list.replaceChildren();
    this.floor.queue.forEach((request, index) => {
      const item = element("li", { class: "request", "data-speaker": request.speaker, tabindex: "0" });
      item.append(element("span", { class: "who" }, this.speakerName(request.speaker)));
      if (request.priority) item.append(element("span", { class: "badge priority" }, this.t("panel.priority")));
      if (this.canAct) {
        item.draggable = true;
        const name = this.speakerName(request.speaker);
        item.append(
          this.button("panel.grant", name, () => this.send({ action: "grant", speaker: request.speaker, keep_previous: this.$("keep-previous").checked })),
          this.button("panel.up", name, () => this.move(request.speaker, index - 1), "secondary", index === 0),
          this.button("panel.down", name, () => this.move(request.speaker, index + 1), "secondary", index === this.floor.queue.length - 1),
          this.button("panel.remove", name, () => this.send({ action: "remove", speaker: request.speaker }), "secondary"),
        );
        item.addEventListener("keydown", (event) => {
          if (!event.altKey || !["ArrowUp", "ArrowDown"].includes(event.key)) return;
          event.preventDefault();
          this.move(request.speaker, index + (event.key === "ArrowUp" ? -1 : 1));
        });
        item.addEventListener("dragstart", (event) => event.dataTransfer.setData("text/plain", request.speaker));
        item.addEventListener("dragover", (event) => event.preventDefault());
        item.addEventListener("drop", (event) => {
          event.preventDefault();
          this.move(event.dataTransfer.getData("text/plain"), index);
        });
      }
      list.append(item);
    });
    this.$("queue-empty").hidden = this.floor.queue.length > 0;
    const again = keep && list.querySelector(`[data-speaker="${CSS.escape(keep)}"]`);
    if (again) again.focus();
  }

  move(speaker, position) {
    if (position >= 0 && position < this.floor.queue.length) this.send({ action: "reorder", speaker, position });
  }

  drawLobby() {
    const admitted = new Set(this.floor.admitted);
    const waiting = Object.keys(this.seats).filter(
      (seat) => this.seats[seat].present && !admitted.has(seat) && seat in this.floor.seats,
    );
    this.lobby.draw(waiting, this.people);
  }

  drawSeats() {
    const list = this.$("seats");
    list.replaceChildren();
    const muted = new Set(this.floor.muted);
    for (const seat of Object.keys(this.floor.seats)) {
      if (!this.floor.admitted.includes(seat)) continue; // the lobby shows it
      const state = this.seats[seat];
      const item = element("li", { "data-seat": seat, class: "seat" });
      item.append(element("span", { class: "speaking-mark", "aria-hidden": "true" }));
      item.append(element("span", { class: "who" }, this.seatName(seat)));
      const people = (this.people[seat] || []).map((p) => `${this.text[`role.${p.role}`] || p.role}: ${p.name}`);
      if (people.length) item.append(element("span", { class: "people" }, people.join(" · ")));
      item.append(element("span", { class: "presence" }, this.t(state && state.present ? "panel.connected" : "panel.not_connected")));
      item.append(this.healthBadge(seat));
      if (muted.has(seat)) item.append(element("span", { class: "badge muted" }, this.t("panel.muted")));
      if (this.floor.consultation.includes(seat)) {
        item.append(element("span", { class: "badge priority" }, this.t("panel.in_consultation")));
      }
      const bench = this.floor.seats[seat] === "judge";
      if (this.canAct && !bench) {
        const unmute = muted.has(seat);
        item.append(this.button(unmute ? "panel.unmute" : "panel.mute", this.seatName(seat), () => this.send({ action: unmute ? "unmute" : "mute", seat }), "secondary"));
      }
      list.append(item);
    }
    this.drawSpeaking();
  }

  drawSpeaking() {
    const now = performance.now();
    for (const item of this.root.querySelectorAll("[data-role=seats] li")) {
      const speaking = now - (this.speaking[item.dataset.seat] || -1e9) < SPEAKING_HOLD_MS;
      item.classList.toggle("speaking", speaking);
      item.querySelector(".speaking-mark").title = speaking ? this.t("panel.speaking") : "";
    }
  }

  drawScreening() {
    const seats = Object.keys(this.floor.seats);
    const source = this.$("hide-source");
    if (source) {
      const hideable = seats.filter((seat) => this.floor.seats[seat] !== "judge");
      replaceOptions(source, hideable.map((s) => [s, this.seatName(s)]), source.value);
      const receiver = this.$("hide-receiver");
      replaceOptions(receiver, seats.map((s) => [s, this.seatName(s)]), receiver.value);
    }
    const list = this.$("hidden");
    list.replaceChildren();
    for (const hidden of this.floor.hidden) {
      const what = this.t(`panel.medium.${hidden.medium}`);
      const label = `${this.seatName(hidden.source)}: ${what} ${this.t("panel.hide_from")} ${this.seatName(hidden.receiver)}`;
      const item = element("li", {}, label + " ");
      if (this.canAct) item.append(this.button("panel.unhide", label, () => this.send({ action: "unhide", ...hidden }), "secondary"));
      list.append(item);
    }
    this.$("hidden-empty").hidden = this.floor.hidden.length > 0;
  }

  healthBadge(seat) {
    const health = this.seats[seat] && this.seats[seat].health;
    if (!health) return element("span");
    const badge = element("span", { class: `badge health-${health.grade}` }, this.t(`panel.health.${health.grade}`));
    badge.title = `${Math.round(health.bitrate_kbps)} kbps, ${health.loss_percent.toFixed(1)} % loss`;
    return badge;
  }

  button(key, subject, onClick, style = "", disabled = false) {
    const button = element("button", { type: "button", class: style, "aria-label": `${this.t(key)}: ${subject}` }, this.t(key));
    button.disabled = disabled;
    button.addEventListener("click", onClick);
    return button;
  }
}

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function replaceOptions(select, choices, chosen) {
  select.replaceChildren(...choices.map(([value, label]) => new Option(label, value, false, value === chosen)));
}

for (const root of document.querySelectorAll("[data-panel]")) window.hearingPanel = new Panel(root);

window.addEventListener("hearing:language", () => {
  if (window.hearingPanel) window.hearingPanel.destroy();
  const root = document.querySelector("[data-panel]");
  window.hearingPanel = root ? new Panel(root) : null;
});
