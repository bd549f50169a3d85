// Plan B at the bench: the link's notices, in words. Follows the panel's live
// feed (panel.js dispatches every message as a `hearing:feed` event) and opens
// no socket of its own. Says when the custody room is not answering (also when
// it never connected), when a seat's connection was lost and whether that
// paused the hearing, when it is back and after how long (with Resume, one
// click, for the judge), and which links carry sound only.

const ANSWERING_AGAIN_MS = 10000; // how long "answering again" stays up

class LinkNotices {
  constructor(root) {
    this.root = root;
    this.canAct = root.dataset.canAct === "true";
    this.timeZone = root.dataset.timezone || null;
    this.text = JSON.parse(root.querySelector("[data-role=link-text]").textContent);
    this.lang = document.documentElement.lang || "da";
    this.state = null; // the hearing's lifecycle state
    this.seats = null; // presence per seat, from the feed
    this.seatIds = []; // the hearing's seats, from the floor
    this.interruptions = {}; // seat -> {since, paused}
    this.restored = null; // {seat, duration, lobby}: the last return, until resumed
    this.audioOnly = new Set();
    this.unanswered = null; // since when (epoch ms) the custody room is not answering
    this.onFeed = (event) => this.receive(event.detail);
    window.addEventListener("hearing:feed", this.onFeed);
    this.ticker = setInterval(() => this.draw(), 1000);
    const form = root.querySelector("[data-role=resume-form]");
    if (form) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.resume(form);
      });
    }
  }

  destroy() {
    window.removeEventListener("hearing:feed", this.onFeed);
    clearInterval(this.ticker);
  }

  t(key, values = {}) {
    let text = this.text[key] || key;
    for (const [name, value] of Object.entries(values)) text = text.replace(`{${name}}`, value);
    return text;
  }

  seatName(seat) {
    return this.text[`seat.${seat}`] || this.text[`seat.${seat.split("-")[0]}`] || seat;
  }

  duration(seconds) {
    const whole = Math.max(0, Math.round(seconds));
    if (whole < 60) return this.t("link.seconds", { n: whole });
    return this.t("link.minutes", { m: Math.floor(whole / 60), n: whole % 60 });
  }

  clock(epochSeconds) {
    // In the court's time zone and on a 24-hour clock, as every other time on the page.
    const options = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
    if (this.timeZone) options.timeZone = this.timeZone;
    return new Date(epochSeconds * 1000).toLocaleTimeString(this.lang, options);
  }

  receive(message) {
    switch (message.type) {
      case "snapshot":
        this.state = message.hearing_state;
        this.seats = message.seats || {};
        this.seatIds = Object.keys((message.floor && message.floor.seats) || {});
        this.interruptions = { ...(message.interruptions || {}) };
        this.audioOnly = new Set(message.audio_only || []);
        break;
      case "presence":
        this.seats = message.seats;
        break;
      case "hearing":
        this.state = message.hearing_state;
        if (this.state !== "paused") this.restored = null; // resumed (or ended): nothing left to offer
        break;
      case "interruption":
        if (message.since) {
          this.interruptions[message.seat] = { since: message.since, paused: message.paused };
          this.restored = null;
        } else {
          delete this.interruptions[message.seat];
          this.restored = { seat: message.seat, duration: message.duration_seconds || 0, lobby: message.in_time === false };
        }
        break;
      case "link":
        if (message.audio_only) this.audioOnly.add(message.seat);
        else this.audioOnly.delete(message.seat);
        break;
      default:
        return;
    }
    this.draw();
    // panel.js redraws its seat list after this event: mark the seats after it.
    setTimeout(() => this.markSeats(), 0);
  }

  custodyAnswering() {
    const custody = this.seats && this.seats.custody;
    return Boolean(custody && custody.present);
  }

  draw() {
    if (this.seats === null) return; // no snapshot yet
    this.drawNotAnswering();
    this.drawInterrupted();
    this.drawRestored();
    this.drawAudioOnly();
    const form = this.root.querySelector("[data-role=resume-form]");
    if (form) form.hidden = !(this.state === "paused" && (this.restored || Object.keys(this.interruptions).length));
  }

  drawNotAnswering() {
    const notice = this.notice("not-answering");
    const answering = this.custodyAnswering();
    if (!answering && this.unanswered === null) this.unanswered = Date.now();
    if (answering && this.unanswered !== null) {
      this.unanswered = null;
      this.flashAnswering();
    }
    if (!answering) this.notice("answering").hidden = true;
    // An interruption says more: its notice takes the place of this one.
    const shown = !answering && !this.interruptions.custody;
    setText(notice, shown ? this.t("link.not_answering", { time: this.clock(this.unanswered / 1000) }) : "");
    notice.hidden = !shown;
  }

  flashAnswering() {
    const notice = this.notice("answering");
    notice.hidden = false;
    clearTimeout(this.answeringTimer);
    this.answeringTimer = setTimeout(() => (notice.hidden = true), ANSWERING_AGAIN_MS);
  }

  drawInterrupted() {
    const notice = this.notice("interrupted");
    const seats = Object.keys(this.interruptions);
    notice.hidden = seats.length === 0;
    if (!seats.length) return;
    const now = Date.now() / 1000;
    const lines = seats.map((seat) => {
      const { since, paused } = this.interruptions[seat];
      const line = this.t("link.interrupted", { seat: this.seatName(seat), time: this.clock(since), duration: this.duration(now - since) });
      return paused ? `${line} ${this.t("link.interrupted_paused")}` : line;
    });
    setText(notice.querySelector("[data-role=interrupted-text]"), lines.join(" "));
    setText(notice.querySelector("[data-role=interrupted-help]"), this.t("link.waiting_reconnect"));
  }

  drawRestored() {
    const notice = this.notice("restored");
    const restored = this.restored;
    notice.hidden = !restored;
    if (!restored) return;
    // "Back after N s" says that it answers again: one notice, not two.
    if (restored.seat === "custody") this.notice("answering").hidden = true;
    const key = restored.lobby ? "link.restored_lobby" : "link.restored";
    setText(notice.querySelector("[data-role=restored-text]"), this.t(key, { seat: this.seatName(restored.seat), duration: this.duration(restored.duration) }));
  }

  drawAudioOnly() {
    const notice = this.notice("audio-only");
    const seats = [...this.audioOnly];
    notice.hidden = seats.length === 0;
    setText(notice, seats.map((seat) => this.t("link.audio_only", { seat: this.seatName(seat) })).join(" "));
  }

  markSeats() {
    for (const item of document.querySelectorAll("[data-role=seats] li[data-seat]")) {
      const seat = item.dataset.seat;
      const marks = [];
      if (seat === "custody" && !this.custodyAnswering()) marks.push("link.seat_not_answering");
      if (this.audioOnly.has(seat)) marks.push("link.seat_audio_only");
      for (const old of item.querySelectorAll("[data-link-mark]")) old.remove();
      for (const key of marks) {
        const badge = document.createElement("span");
        badge.className = "badge link-mark";
        badge.dataset.linkMark = key;
        badge.textContent = this.t(key);
        item.append(badge);
      }
    }
  }

  async resume(form) {
    const response = await fetch(form.getAttribute("action"), {
      method: "POST",
      headers: { Accept: "application/json" },
      body: new URLSearchParams(new FormData(form)),
    });
    if (response.ok) {
      const body = await response.json();
      // The feed says so too; this makes the click's effect immediate.
      this.receive({ type: "hearing", hearing_state: body.state, transitions: body.transitions });
      if (window.hearingPanel) window.hearingPanel.hearingMoved(body.state, body.transitions);
    }
  }

  notice(name) {
    return this.root.querySelector(`[data-notice="${name}"]`);
  }
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

let notices = null;
for (const root of document.querySelectorAll("[data-link-notices]")) notices = new LinkNotices(root);

window.addEventListener("hearing:language", () => {
  if (notices) notices.destroy();
  const root = document.querySelector("[data-link-notices]");
  notices = root ? new LinkNotices(root) : null;
});
