// The remote party's page at the external gateway (an interpreter, remote
// counsel, a remote prosecutor or witness): one state at a time, in words,
// where the person looks. First the device check (the camera's preview, the
// microphone's level, a choice where there are several devices, Continue);
// then the hearing's media (media_link.js on the gateway's socket,
// /ws/remote/media): the lobby until the judge lets them in, then the floor
// holder's picture and the detainee's, their own controls (mute themself,
// ask to speak, or for an interpreter ask for clarification), the
// interpretation's mode and who hears them now, and the link's notices.
// The seat is the session's: a drop reconnects with the session's cookie,
// never the code, and keeps the seat (the floor is the server's).

import { MediaLink } from "/static/media_link.js";

const BACKOFF_MS = [1000, 2000, 4000, 8000];
const NOT_OPEN_MS = 5000; // how often to look again while the hearing has not begun
const OVER = ["adjourned", "closed", "converted_to_physical"];
// The server's last words after which trying again would be wrong.
const FINAL = {
  ended: "ended",
  denied: "denied",
  replaced: "replaced",
  remote_ended: "session_ended",
  session_ended: "session_ended",
};
const CHECK_PHASES = ["starting", "no_devices", "check"];
const LEVEL_MS = 100;
const HEARD_LEVEL = 15; // of 100: the microphone hears something

class RemoteParty {
  constructor(body) {
    this.body = body;
    this.seat = body.dataset.seat;
    this.kind = body.dataset.kind;
    this.texts = JSON.parse(body.querySelector("[data-role=text]").textContent);
    this.lang = document.documentElement.lang;
    this.el = (role) => body.querySelector(`[data-role=${role}]`);
    this.mainVideo = this.el("main");
    this.detaineeVideo = body.querySelector("video[data-view=custody]");
    this.phase = "starting"; // starting | no_devices | check | joined
    this.stream = null;
    this.chosen = { videoinput: null, audioinput: null };
    this.meter = null;
    this.level = 0;
    this.heard = false;
    this.link = null;
    this.tries = 0;
    this.retry = null;
    this.final = null;
    this.notOpen = false;
    this.muted = false;
    this.resetSeat();
    this.el("continue").addEventListener("click", () => this.proceed());
    this.el("retry").addEventListener("click", () => this.start());
    this.el("camera").addEventListener("change", (event) => this.choose("videoinput", event.target.value));
    this.el("microphone").addEventListener("change", (event) => this.choose("audioinput", event.target.value));
    this.el("mute").addEventListener("click", () => this.toggleMute());
    this.el("ask").addEventListener("click", () => this.ask());
    this.el("language").addEventListener("submit", (event) => this.chooseLanguage(event));
    window.remoteParty = this; // for diagnostics and the browser tests
    this.draw();
    this.start();
  }

  resetSeat() {
    this.welcome = null;
    this.floor = null;
    this.hearingState = null;
    this.recording = false;
    this.health = null;
    this.audioOnly = new Set();
    this.pictures = null;
    this.interpretation = null;
    this.floorError = "";
    this.reconnecting = false;
  }

  t(key, values = {}) {
    const text = (this.texts[this.lang] || {})[key] || key;
    return text.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
  }

  has(key) {
    return Boolean((this.texts[this.lang] || {})[key]);
  }

  // A seat, in words ("the detainee", "the prosecutor").
  seatName(seat) {
    for (const key of [`remote.seat.${seat}`, `remote.seat.${String(seat).split("-")[0]}`]) {
      if (this.has(key)) return this.t(key);
    }
    return seat;
  }

  names(seatIds) {
    const words = [...new Set(seatIds.map((s) => this.seatName(s)))];
    if (words.length <= 1) return words.join("");
    return `${words.slice(0, -1).join(", ")}${this.t("remote.interp.and")}${words[words.length - 1]}`;
  }

  // --- the device check -----------------------------------------------------------

  async start() {
    this.phase = "starting";
    this.draw();
    try {
      await this.openDevices();
      this.phase = "check";
    } catch (error) {
      this.deviceError = error.name;
      this.phase = "no_devices";
    }
    this.draw();
  }

  constraints() {
    const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 25 } };
    if (this.chosen.videoinput) video.deviceId = { exact: this.chosen.videoinput };
    const audio = this.chosen.audioinput ? { deviceId: { exact: this.chosen.audioinput } } : true;
    return { audio, video };
  }

  async openDevices() {
    const stream = await navigator.mediaDevices.getUserMedia(this.constraints());
    // A court needs the picture sharp: under pressure, drop frames before resolution.
    for (const track of stream.getVideoTracks()) track.contentHint = "detail";
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = stream;
    for (const track of stream.getAudioTracks()) track.enabled = !this.muted;
    this.el("preview").srcObject = stream;
    this.el("local").srcObject = stream;
    await this.listDevices();
    this.listen();
  }

  async listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    for (const [kind, role] of [
      ["videoinput", "camera"],
      ["audioinput", "microphone"],
    ]) {
      const found = devices.filter((d) => d.kind === kind && d.deviceId);
      const inUse = this.stream.getTracks().find((t) => t.kind === (kind === "videoinput" ? "video" : "audio"));
      const current = (inUse && inUse.getSettings().deviceId) || this.chosen[kind];
      const select = this.el(role);
      select.replaceChildren(
        ...found.map((d, i) =>
          Object.assign(document.createElement("option"), {
            value: d.deviceId,
            textContent: d.label || `${this.t(`remote.check.${role}`)} ${i + 1}`,
            selected: d.deviceId === current,
          }),
        ),
      );
      this.el(`${role}-choice`).hidden = found.length < 2;
    }
  }

  async choose(kind, deviceId) {
    this.chosen[kind] = deviceId;
    try {
      await this.openDevices();
      if (this.link && this.link.pc) {
        // Mid-hearing: the new tracks replace the old on the same connection.
        for (const sender of this.link.pc.getSenders()) {
          const track = this.stream.getTracks().find((t) => sender.track && t.kind === sender.track.kind);
          if (track) await sender.replaceTrack(track);
        }
      }
    } catch (error) {
      this.deviceError = error.name;
      this.phase = this.phase === "joined" ? this.phase : "no_devices";
    }
    this.draw();
  }

  // The microphone's level, from the stream itself (Web Audio), every 100 ms.
  listen() {
    this.stopListening();
    const tracks = this.stream.getAudioTracks();
    if (!tracks.length) return;
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    context.createMediaStreamSource(new MediaStream(tracks)).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const timer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      const dbfs = 10 * Math.log10(sum / samples.length || 1e-12);
      this.level = Math.max(0, Math.min(100, Math.round(((dbfs + 60) / 60) * 100)));
      if (this.level >= HEARD_LEVEL) this.heard = true;
      this.drawLevel();
    }, LEVEL_MS);
    context.resume();
    this.meter = { context, timer };
  }

  stopListening() {
    if (!this.meter) return;
    clearInterval(this.meter.timer);
    this.meter.context.close();
    this.meter = null;
  }

  proceed() {
    if (this.phase !== "check" || !this.stream) return;
    this.phase = "joined";
    this.stopListening();
    this.join();
  }

  // --- the media link ---------------------------------------------------------------

  join() {
    this.retry = null;
    this.link = new MediaLink({
      path: "/ws/remote/media",
      stream: this.stream,
      views: (welcome) => ((welcome.seats || []).includes("custody") ? ["custody"] : []),
      onTrack: (track, view) => {
        let target = this.el("remote");
        if (view === "custody") target = this.detaineeVideo;
        else if (view) return;
        else if (track.kind === "video") target = this.mainVideo;
        if (!target.srcObject) target.srcObject = new MediaStream();
        target.srcObject.addTrack(track);
      },
      onAnswer: () => {
        this.tries = 0;
        this.draw();
      },
      onMessage: (message) => this.seatMessage(message),
      onClose: (code, last) => this.closed(code, last),
    });
    window.hearingMedia = this.link;
    this.link.open();
    this.draw();
  }

  seatMessage(message) {
    switch (message.type) {
      case "welcome":
        this.resetSeat();
        this.welcome = message;
        this.floor = message.floor;
        this.hearingState = message.hearing_state;
        this.recording = Boolean(message.recording);
        if (message.interpretation && typeof message.interpretation === "object") {
          this.interpretation = message.interpretation;
        }
        this.notOpen = false;
        break;
      case "floor":
        this.floor = message;
        this.floorError = "";
        break;
      case "hearing":
        this.hearingState = message.hearing_state;
        break;
      case "recording":
        this.recording = Boolean(message.recording);
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
      case "interpretation":
        this.interpretation = message;
        break;
      case "error":
        if (message.error === "hearing_not_open") this.notOpen = true;
        this.floorError = message.message || "";
        break;
      default:
        break;
    }
    this.draw();
  }

  closed(code, last) {
    this.link = null;
    for (const video of [this.el("remote"), this.mainVideo, this.detaineeVideo]) {
      if (video.srcObject) video.srcObject.getTracks().forEach((track) => track.stop());
      video.srcObject = null;
    }
    if (last && last in FINAL) this.final = FINAL[last];
    else if (code === 4401) this.final = "session_ended";
    if (this.final) {
      this.resetSeat();
      if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    } else {
      // A drop keeps what the seat was told; the screen says "reconnecting" over it.
      this.reconnecting = Boolean(this.welcome);
      const wait = this.notOpen ? NOT_OPEN_MS : BACKOFF_MS[Math.min(this.tries++, BACKOFF_MS.length - 1)];
      this.retry = setTimeout(() => this.join(), wait);
    }
    this.draw();
  }

  // --- the person's own controls ------------------------------------------------------

  toggleMute() {
    this.muted = !this.muted;
    // A disabled track sends nothing of the microphone: silence, at the source.
    if (this.stream) for (const track of this.stream.getAudioTracks()) track.enabled = !this.muted;
    this.draw();
  }

  speaker() {
    const speakers = (this.welcome && this.welcome.speakers) || [];
    return speakers[0] || null;
  }

  ask() {
    const speaker = this.speaker();
    if (!this.link || !speaker || !this.floor) return;
    const queued = (this.floor.queued || []).includes(speaker);
    this.link.send({ type: queued ? "withdraw" : "request", speaker });
  }

  // --- what the screen says -------------------------------------------------------------

  state() {
    if (this.final) return this.final;
    if (CHECK_PHASES.includes(this.phase)) return this.phase;
    if (this.reconnecting || (this.retry && this.welcome)) return "reconnecting";
    if (this.notOpen && !this.welcome) return "not_open";
    if (this.link && this.welcome && this.floor) {
      if (this.floor.consultation) return "consulting";
      if (this.hearingState === "consultation") return "consultation";
      if (!this.floor.admitted) return "lobby";
      if (this.hearingState === "paused") return "paused";
      if (OVER.includes(this.hearingState)) return "ended";
      if (this.hearingState === "open") return "admitted";
      return "in_session";
    }
    return "connecting";
  }

  notices() {
    const notes = [];
    if (!this.link || !this.welcome || !this.floor) return notes;
    const consulting = this.floor.consultation || this.hearingState === "consultation";
    if (this.recording && this.floor.consultation) notes.push(["not-recorded", this.t("remote.notice.not_recorded")]);
    else if (this.recording && !consulting) notes.push(["recording", this.t("remote.notice.recording")]);
    if (this.muted) notes.push(["muted", this.t("remote.muted_self")]);
    if (this.floor.muted) notes.push(["muted", this.t("remote.notice.muted")]);
    for (const medium of ["audio", "video"]) {
      const from = (this.floor.hidden_from || []).filter((h) => h.medium === medium).map((h) => h.receiver);
      if (from.length) notes.push(["hidden", this.t(`remote.notice.hidden_${medium}`, { who: this.names(from) })]);
    }
    if (["poor", "bad"].includes(this.health)) notes.push(["poor", this.t("remote.notice.poor")]);
    if (this.audioOnly.has(this.seat)) notes.push(["audio-only", this.t("remote.notice.audio_only")]);
    return notes;
  }

  draw() {
    const state = this.state();
    this.body.dataset.state = state;
    this.el("headline").textContent = this.t(`remote.state.${state}`);
    this.el("detail").textContent = this.t(`remote.detail.${state}`);
    const where = this.el("where");
    where.textContent = this.t("remote.where", {
      start: where.dataset.start,
      end: where.dataset.end,
      court: where.dataset.court,
      courtroom: where.dataset.courtroom,
    });
    this.el("notices").replaceChildren(
      ...this.notices().map(([kind, text]) =>
        Object.assign(document.createElement("li"), { className: `remote-notice remote-notice-${kind}`, textContent: text }),
      ),
    );
    const checking = CHECK_PHASES.includes(this.phase) && !this.final;
    this.el("check").hidden = !checking;
    this.el("continue").disabled = this.phase !== "check";
    this.el("retry").hidden = this.phase !== "no_devices";
    this.el("screens").hidden =
      checking || ["ended", "denied", "replaced", "session_ended"].includes(state) || state === "not_open";
    this.drawLevel();
    this.drawPictures(state);
    this.drawControls(state);
    this.drawInterpretation(state);
    for (const node of this.body.querySelectorAll("[data-text]")) {
      node.textContent = this.t(node.dataset.text, { case: node.dataset.case || "" });
    }
    for (const button of this.el("language").querySelectorAll("button")) {
      if (button.value === this.lang) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
    this.el("language").setAttribute("aria-label", this.t("remote.language"));
    this.el("screens").setAttribute("aria-label", this.t("remote.main"));
    this.el("notices").setAttribute("aria-label", this.t("remote.notices"));
    document.title = this.t("remote.title");
  }

  drawLevel() {
    const meter = this.el("level");
    meter.value = this.level;
    this.el("level-words").textContent = this.stream ? this.t(this.heard ? "remote.check.heard" : "remote.check.silent") : "";
  }

  // A picture the server does not send says so in words instead of freezing.
  drawPictures(state) {
    const main = this.pictures && this.pictures.main;
    const detainee = this.pictures && this.pictures.views && this.pictures.views.custody;
    // "lobby" is this seat's waiting, or the source's: each said in its own words.
    const reason = (picture, fallback) => {
      if (state === "lobby") return this.t("remote.reason.lobby");
      const why = picture && picture.reason === "lobby" ? "source_lobby" : picture && picture.reason;
      const key = why ? `remote.reason.${why}` : null;
      return key && this.has(key) ? this.t(key) : this.t(fallback);
    };
    for (const [video, picture, fallback] of [
      [this.mainVideo, main, "remote.no_picture"],
      [this.detaineeVideo, detainee, "remote.no_detainee_picture"],
    ]) {
      const overlay = video.closest("figure").querySelector("[data-role=overlay]");
      const shown = Boolean(this.link && picture && picture.shown);
      overlay.hidden = shown;
      overlay.textContent = shown ? "" : reason(picture, fallback);
    }
    const caption = this.el("main-caption");
    caption.textContent =
      main && main.shown && main.source ? this.t("remote.main_of", { who: this.seatName(main.source) }) : this.t("remote.main");
    this.el("detainee-tile").hidden = !(this.link && this.link.views.includes("custody"));
  }

  drawControls(state) {
    const mute = this.el("mute");
    mute.textContent = this.t(this.muted ? "remote.unmute" : "remote.mute");
    mute.setAttribute("aria-pressed", String(this.muted));
    this.body.dataset.muted = this.muted ? "true" : "false";
    this.el("mic").textContent = this.t(this.muted ? "remote.muted_self" : "remote.mic_on");
    const speaker = this.speaker();
    const button = this.el("ask");
    const floorText = this.el("floor");
    const canAsk = speaker && this.floor && ["admitted", "in_session", "paused"].includes(state);
    if (!canAsk) {
      button.hidden = true;
      this.body.dataset.floor = "";
      floorText.textContent = this.floorError;
      return;
    }
    const interpreter = this.kind === "interpreter";
    const holding = this.floor.holder === speaker;
    const queued = (this.floor.queued || []).includes(speaker);
    button.hidden = holding;
    if (interpreter) button.textContent = this.t(queued ? "remote.clarify_withdraw" : "remote.clarify");
    else button.textContent = this.t(queued ? "remote.withdraw" : "remote.ask");
    this.body.dataset.floor = holding ? "holding" : queued ? "queued" : "";
    if (holding) floorText.textContent = this.t("remote.floor");
    else if (queued) floorText.textContent = this.t(interpreter ? "remote.clarify_queued" : "remote.queued");
    else floorText.textContent = this.floorError;
  }

  // Which mode is active, and who hears this seat now (the interpretation
  // message, docs/protocol.md; read defensively: a field it lacks is not shown).
  drawInterpretation(state) {
    const section = this.el("interpretation");
    const told = this.interpretation || {};
    const mode = told.mode || (this.floor && this.floor.interpretation) || null;
    const inHearing = ["admitted", "in_session", "paused", "consultation", "consulting"].includes(state);
    section.hidden = !inHearing || (!mode && this.kind !== "interpreter");
    if (section.hidden) return;
    const direction = told.direction || (this.floor && this.floor.direction) || null;
    const needs = Array.isArray(told.needs) ? told.needs : [];
    let words = this.t("remote.interp.none");
    if (mode === "consecutive") words = this.t("remote.interp.consecutive");
    else if (mode === "simultaneous" && direction === "to_party" && needs.length) {
      words = this.t("remote.interp.simultaneous.to_party", { who: this.names(needs) });
    } else if (mode === "simultaneous" && direction === "to_court" && needs.length) {
      words = this.t("remote.interp.simultaneous.to_court", { who: this.names(needs) });
    } else if (mode === "simultaneous") words = this.t("remote.interp.simultaneous");
    this.el("interp-mode").textContent = words;
    this.body.dataset.interpretation = mode || "none";
    const heard = told.heard_by && Array.isArray(told.heard_by[this.seat]) ? told.heard_by[this.seat] : null;
    const heardText = this.el("interp-heard");
    if (heard === null) heardText.textContent = "";
    else if (!heard.length) heardText.textContent = this.t("remote.interp.heard_by_nobody");
    else heardText.textContent = this.t("remote.interp.heard_by", { who: this.names(heard) });
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

new RemoteParty(document.body);
