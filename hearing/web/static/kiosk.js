// The detainee's kiosk (and a consultation booth's): one screen, one state
// at a time, in words and colour. It keeps the kiosk socket (/ws/device)
// open for as long as it is shown: the heartbeat the officer's console calls
// "online", the day's hearings at this site, and the console's requests
// (connect, test call). When a hearing here is live it joins its media by
// itself (media_link.js) and rejoins after any drop, with backoff; the seat
// is the device's, so a reload or a reconnect takes the same seat, and the
// floor, the mutes and the consultation are the server's, so they are intact.

import { MediaLink, PING_MS, camera, socketUrl } from "/static/media_link.js";

const LIVE = ["open", "in_session", "paused", "consultation"];
const OVER = ["adjourned", "closed", "converted_to_physical"];
const BACKOFF_MS = [1000, 2000, 4000, 8000];
// The server's last words after which trying again would be wrong.
const FINAL = { ended: "ended", denied: "denied", replaced: "replaced", revoked: "not_enrolled" };

class Kiosk {
  constructor(body) {
    this.body = body;
    this.seat = body.dataset.seat;
    this.texts = JSON.parse(body.querySelector("[data-role=text]").textContent);
    this.lang = document.documentElement.lang;
    this.el = (role) => body.querySelector(`[data-role=${role}]`);
    this.courtroomVideo = body.querySelector("video[data-view=courtroom]");
    this.interpreterVideo = body.querySelector("video[data-view=interpreter]");
    this.hearings = JSON.parse(this.el("docket").textContent).hearings;
    this.requested = null; // the hearing the console asked this kiosk to join
    this.kioskSocket = null;
    this.kioskUp = false;
    this.kioskTries = 0;
    this.final = null; // this kiosk may not go on: not_enrolled or replaced
    this.link = null;
    this.linkHearing = null;
    this.mediaTries = 0;
    this.retry = null;
    this.stream = null;
    this.resetSeat();
    this.ended = null; // the hearing whose end this screen last saw
    this.refused = new Set(); // hearings that said they are not open (until the docket moves)
    this.el("ask").addEventListener("click", () => this.ask());
    this.el("language").addEventListener("submit", (event) => this.chooseLanguage(event));
    window.kiosk = this; // for diagnostics and the browser tests
    this.openKioskSocket();
    this.draw();
  }

  resetSeat() {
    this.welcome = null;
    this.floor = null;
    this.hearingState = null;
    this.recording = false;
    this.health = null;
    this.audioOnly = new Set();
    this.pictures = null;
    this.seatLast = null;
    this.floorError = "";
  }

  t(key, values = {}) {
    const text = (this.texts[this.lang] || {})[key] || key;
    return text.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
  }

  // A receiver, in words ("the courtroom", "the interpreter").
  seatName(seat) {
    for (const key of [`kiosk.seat.${seat}`, `kiosk.seat.${seat.split("-")[0]}`]) {
      if ((this.texts[this.lang] || {})[key]) return this.t(key);
    }
    return seat;
  }

  // --- the kiosk socket -------------------------------------------------------

  openKioskSocket() {
    const socket = new WebSocket(socketUrl("/ws/device"));
    this.kioskSocket = socket;
    let nonce = 0;
    let pinger = null;
    socket.addEventListener("open", () => {
      pinger = setInterval(() => socket.send(JSON.stringify({ type: "ping", nonce: nonce++ })), PING_MS);
    });
    socket.addEventListener("message", (event) => this.kioskMessage(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => {
      clearInterval(pinger);
      this.kioskUp = false;
      if (event.code === 4401) this.final = "not_enrolled";
      else if (event.code === 4409) this.final = "replaced";
      else {
        const wait = BACKOFF_MS[Math.min(this.kioskTries++, BACKOFF_MS.length - 1)];
        setTimeout(() => this.openKioskSocket(), wait);
      }
      if (this.final && this.link) this.link.leave();
      this.draw();
    });
  }

  kioskMessage(message) {
    if (message.type === "welcome" || message.type === "docket") {
      if (message.type === "welcome") {
        this.kioskUp = true;
        this.kioskTries = 0;
      }
      this.hearings = message.hearings;
      this.refused.clear();
      this.ensureMedia();
    } else if (message.type === "connect") {
      this.requested = message.hearing;
      this.refused.delete(message.hearing);
      if (this.seatLast === "denied") this.seatLast = null;
      this.ensureMedia();
    } else if (message.type === "test_call") {
      // Never in the middle of a hearing: the test call is for before it.
      if (!this.link) location.assign("/device/test-call?auto=1");
    }
    this.draw();
  }

  // --- which hearing, and its media ---------------------------------------------

  liveHearing() {
    const live = this.hearings.filter((h) => LIVE.includes(h.state) && !this.refused.has(h.id));
    return live.find((h) => h.id === this.requested) || live[0] || null;
  }

  shownHearing() {
    const byId = (id) => this.hearings.find((h) => h.id === id);
    return (
      (this.linkHearing && byId(this.linkHearing)) ||
      this.liveHearing() ||
      this.hearings.find((h) => h.state === "scheduled") ||
      (this.ended && byId(this.ended)) ||
      this.hearings[this.hearings.length - 1] ||
      null
    );
  }

  ensureMedia() {
    if (this.final || this.link || this.retry) return;
    const hearing = this.liveHearing();
    if (!hearing || (hearing.id === this.ended && hearing.id !== this.requested)) return;
    if (this.seatLast === "denied" && hearing.id === this.linkHearing) return;
    this.join(hearing.id);
  }

  async join(hearingId) {
    this.resetSeat();
    this.linkHearing = hearingId;
    try {
      if (!this.stream) {
        this.stream = await camera();
        this.el("local").srcObject = this.stream;
      }
    } catch (error) {
      this.floorError = error.name;
      this.scheduleMedia();
      return;
    }
    this.link = new MediaLink({
      hearing: hearingId,
      stream: this.stream,
      views: (welcome) => {
        const interpreter = (welcome.seats || []).find((s) => s.startsWith("interpreter-"));
        return interpreter ? ["courtroom", interpreter] : ["courtroom"];
      },
      onTrack: (track, view) => {
        let target = this.el("remote");
        if (view === "courtroom") target = this.courtroomVideo;
        else if (view) target = this.interpreterVideo;
        else if (track.kind === "video") return; // the courtroom program is pinned above
        if (!target.srcObject) target.srcObject = new MediaStream();
        target.srcObject.addTrack(track);
      },
      onAnswer: () => {
        this.mediaTries = 0;
        this.draw();
      },
      onMessage: (message) => this.seatMessage(message),
      onClose: (code, last) => this.mediaClosed(code, last),
    });
    window.hearingMedia = this.link;
    this.link.open();
    this.draw();
  }

  seatMessage(message) {
    switch (message.type) {
      case "welcome":
        this.welcome = message;
        this.floor = message.floor;
        this.hearingState = message.hearing_state;
        this.recording = message.recording;
        break;
      case "floor":
        this.floor = message;
        this.floorError = "";
        break;
      case "hearing":
        this.hearingState = message.hearing_state;
        break;
      case "recording":
        this.recording = message.recording;
        break;
      case "health":
        if (message.seat === this.seat) this.health = message.grade;
        break;
      case "link":
        if (message.audio_only) this.audioOnly.add(message.seat);
        else this.audioOnly.delete(message.seat);
        break;
      case "pictures":
        this.pictures = message;
        break;
      case "error":
        if (message.error === "hearing_not_open") this.refused.add(this.linkHearing);
        this.floorError = message.message;
        break;
      default:
        if (message.type in FINAL) this.seatLast = message.type;
    }
    this.draw();
  }

  mediaClosed(code, last) {
    const hearing = this.linkHearing;
    this.link = null;
    for (const video of [this.el("remote"), this.courtroomVideo, this.interpreterVideo]) {
      if (video.srcObject) video.srcObject.getTracks().forEach((track) => track.stop());
      video.srcObject = null;
    }
    if (last === "ended") this.ended = hearing;
    if (last === "revoked" || code === 4401) this.final = "not_enrolled";
    else if (last === "replaced") this.final = "replaced";
    const final = last && last in FINAL ? last : null;
    // A drop keeps what the seat was told (the screen says "reconnecting"
    // over it); a final word or a refusal starts afresh.
    if (!final && !this.refused.has(hearing)) this.scheduleMedia();
    else this.resetSeat();
    this.seatLast = final;
    this.draw();
  }

  scheduleMedia() {
    const wait = BACKOFF_MS[Math.min(this.mediaTries++, BACKOFF_MS.length - 1)];
    this.retry = setTimeout(() => {
      this.retry = null;
      this.ensureMedia();
      this.draw();
    }, wait);
  }

  // --- the floor ------------------------------------------------------------------

  speaker() {
    const speakers = (this.welcome && this.welcome.speakers) || [];
    return speakers.find((s) => s.endsWith(":detainee")) || speakers[0] || null;
  }

  ask() {
    const speaker = this.speaker();
    if (!this.link || !speaker) return;
    const queued = this.floor && this.floor.queued.includes(speaker);
    this.link.send({ type: queued ? "withdraw" : "request", speaker });
  }

  // --- what the screen says --------------------------------------------------------

  state() {
    if (this.final) return this.final;
    // Reconnecting is a link that is down. A poor one still carries the
    // hearing: it is a notice (below), and the detainee can still ask to speak.
    const reconnecting = !this.kioskUp || this.retry;
    if (this.seatLast === "denied") return "denied";
    if (this.link && this.welcome) {
      if (reconnecting) return "reconnecting";
      if (this.floor.consultation || this.hearingState === "consultation") return "consultation";
      if (!this.floor.admitted) return "lobby";
      if (this.hearingState === "paused") return "paused";
      if (OVER.includes(this.hearingState)) return "ended";
      // Let in, before the judge starts the hearing.
      if (this.hearingState === "open") return "admitted";
      return "in_session";
    }
    if (this.link) return this.mediaTries ? "reconnecting" : "connecting";
    if (reconnecting && (this.retry || this.linkHearing)) return "reconnecting";
    const shown = this.shownHearing();
    if (shown && (shown.id === this.ended || OVER.includes(shown.state))) return "ended";
    if (!this.kioskUp && this.kioskTries) return "reconnecting";
    return shown ? "waiting" : "none";
  }

  notices() {
    const notes = [];
    if (!this.link || !this.welcome) return notes;
    // A consultation is never recorded (its members are cut off from the
    // recorder): the screen says so rather than "recording".
    const consulting = this.floor.consultation || this.hearingState === "consultation";
    if (this.recording && consulting) notes.push(["not-recorded", this.t("kiosk.notice.not_recorded")]);
    else if (this.recording) notes.push(["recording", this.t("kiosk.notice.recording")]);
    if (this.floor.muted) notes.push(["muted", this.t("kiosk.notice.muted")]);
    const interpretation = this.interpretation();
    if (interpretation) notes.push(["interpretation", interpretation]);
    for (const medium of ["audio", "video"]) {
      const from = this.floor.hidden_from.filter((h) => h.medium === medium).map((h) => this.seatName(h.receiver));
      if (from.length) notes.push(["hidden", this.t(`kiosk.notice.hidden_${medium}`, { who: from.join(", ") })]);
    }
    if (["poor", "bad"].includes(this.health)) notes.push(["poor", this.t("kiosk.notice.poor")]);
    if (this.audioOnly.has(this.seat) || this.audioOnly.has("courtroom")) {
      notes.push(["audio-only", this.t("kiosk.notice.audio_only")]);
    }
    return notes;
  }

  // issue 12: how the interpreter is heard now, in words. The floor view says
  // the mode, its direction (which follows the floor by itself) and whether
  // this seat is one of those who need interpretation.
  interpretation() {
    const mode = this.floor.interpretation;
    if (mode === "consecutive") return this.t("kiosk.interpretation.everyone");
    if (mode !== "simultaneous") return null;
    const direction = this.floor.direction === "to_court" ? "to_court" : "to_party";
    if (this.floor.needs_interpretation && direction === "to_party") return this.t("kiosk.interpretation.to_you");
    // "holder" is this seat's own speaker holding the floor, or null.
    if (this.floor.needs_interpretation && this.floor.holder) return this.t("kiosk.interpretation.from_you");
    return this.t(`kiosk.interpretation.${direction}`);
  }

  draw() {
    const state = this.state();
    this.body.dataset.state = state;
    const hearing = this.shownHearing();
    const values = hearing ? { time: hearing.local_start, courtroom: hearing.courtroom, court: hearing.court } : {};
    this.el("headline").textContent = this.t(`kiosk.state.${state}`);
    this.el("detail").textContent = this.t(`kiosk.detail.${state}`, values);
    this.el("where").textContent = hearing
      ? `${this.t("kiosk.case", { case: hearing.case_number })} · ${this.t("kiosk.where", values)}`
      : "";
    const notices = this.el("notices");
    notices.replaceChildren(
      ...this.notices().map(([kind, text]) => Object.assign(document.createElement("li"), { className: `kiosk-notice kiosk-notice-${kind}`, textContent: text })),
    );
    this.el("screens").hidden = !(this.link || this.retry) || ["ended", "not_enrolled", "replaced"].includes(state);
    this.drawPictures();
    this.drawFloor(state);
    for (const caption of this.body.querySelectorAll("[data-text]")) caption.textContent = this.t(caption.dataset.text);
    for (const button of this.el("language").querySelectorAll("button")) {
      if (button.value === this.lang) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
    this.el("language").setAttribute("aria-label", this.t("kiosk.language"));
    document.title = this.t("kiosk.title");
  }

  // A picture the server does not send says so in words instead of freezing.
  drawPictures() {
    const interpreter = this.link && this.link.views.find((v) => v.startsWith("interpreter-"));
    this.el("interpreter").hidden = !interpreter;
    for (const [video, source, key] of [
      [this.courtroomVideo, "courtroom", "kiosk.no_picture"],
      [this.interpreterVideo, interpreter, "kiosk.no_interpreter_picture"],
    ]) {
      const overlay = video.closest("figure").querySelector("[data-role=overlay]");
      const picture = this.pictures && source && this.pictures.views[source];
      const shown = Boolean(this.link && picture && picture.shown);
      overlay.hidden = shown;
      overlay.textContent = shown ? "" : this.t(key);
    }
  }

  drawFloor(state) {
    const speaker = this.speaker();
    const area = this.el("floor-area");
    area.hidden = !speaker || !["admitted", "in_session", "paused"].includes(state);
    if (area.hidden) return;
    const button = this.el("ask");
    const holding = this.floor.holder === speaker;
    const queued = this.floor.queued.includes(speaker);
    button.hidden = holding;
    button.textContent = this.t(queued ? "kiosk.withdraw" : "kiosk.ask");
    this.body.dataset.floor = holding ? "holding" : queued ? "queued" : "";
    this.el("floor").textContent = holding ? this.t("kiosk.floor") : queued ? this.t("kiosk.queued") : this.floorError;
  }

  // --- the language: saved by the server, switched here without a reload ---------

  async chooseLanguage(event) {
    if (!event.submitter) return;
    event.preventDefault();
    const lang = event.submitter.value;
    const form = event.target;
    const body = new URLSearchParams(new FormData(form));
    body.set("lang", lang);
    const saved = await fetch(form.getAttribute("action"), { method: "POST", headers: { Accept: "application/json" }, body });
    if (!saved.ok) return;
    this.lang = lang;
    document.documentElement.lang = lang;
    this.draw();
  }
}

new Kiosk(document.body);
