// The judge's lobby cards (issue 12): whoever waits to be let in, with name,
// role and language (an interpreter's), their live picture, a signal when
// they arrive that can be seen and heard, and Admit / Turn away. The panel
// (panel.js) decides who waits and sends the commands; this module draws the
// cards, in place: a card keeps its video element from one draw to the next,
// so a picture does not restart with every presence or health update.
//
// The picture comes from the judge's video link (media.js): the server sends
// a lobby seat's picture to the bench on a view pinned to that seat
// (routing rule 7), and media.js hands each view's stream out by seat.

const HIGHLIGHT_MS = 8000; // how long a new arrival's card stays highlighted

// One short two-note chime, made here (no audio file). Browsers start an
// AudioContext suspended until the page has had a gesture; the bench always
// has had one (the judge opened the hearing, joined the link), and the first
// key or click on the page resumes it in any case.
class Chime {
  constructor() {
    this.context = null;
    this.rung = 0;
    this.unlock = () => this.ready();
    document.addEventListener("pointerdown", this.unlock, { once: true });
    document.addEventListener("keydown", this.unlock, { once: true });
  }

  ready() {
    if (!window.AudioContext) return null;
    if (!this.context) this.context = new AudioContext();
    if (this.context.state === "suspended") this.context.resume().catch(() => {});
    return this.context;
  }

  ring() {
    const context = this.ready();
    this.rung += 1;
    if (!context) return;
    const start = context.currentTime + 0.02;
    for (const [offset, frequency] of [[0, 880], [0.18, 660]]) {
      const tone = context.createOscillator();
      const gain = context.createGain();
      tone.type = "sine";
      tone.frequency.value = frequency;
      // A soft attack and decay: a bell, not a click.
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.25, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.35);
      tone.connect(gain).connect(context.destination);
      tone.start(start + offset);
      tone.stop(start + offset + 0.4);
    }
  }

  destroy() {
    document.removeEventListener("pointerdown", this.unlock);
    document.removeEventListener("keydown", this.unlock);
  }
}

// One chime for the page, and one memory of who has been announced: a
// language switch rebuilds the panel (and these cards), not an arrival.
const chime = new Chime();
const announced = new Set();
window.hearingChime = chime; // for diagnostics and the browser tests

export class Lobby {
  // section: the panel's lobby section; t(key): the panel's words;
  // seatName(seat); canAct; send(command); badge(seat): the health badge.
  constructor({ section, t, seatName, canAct, send, badge }) {
    this.section = section;
    this.list = section.querySelector("[data-role=lobby]");
    this.empty = section.querySelector("[data-role=lobby-empty]");
    this.announcer = section.querySelector("[data-role=lobby-announce]");
    this.t = t;
    this.seatName = seatName;
    this.canAct = canAct;
    this.send = send;
    this.badge = badge;
    this.cards = new Map(); // seat -> its card
    this.seen = null; // the seats waiting at this lobby's last draw (null: none yet)
    // A view's stream arrived (seat), or the link let go of all of them (null).
    this.onView = (event) => {
      const seat = event.detail.seat;
      for (const each of seat ? [seat] : [...this.cards.keys()]) this.attach(each);
    };
    this.onPictures = () => this.drawPictures();
    window.addEventListener("hearing:view", this.onView);
    window.addEventListener("hearing:pictures", this.onPictures);
  }

  destroy() {
    window.removeEventListener("hearing:view", this.onView);
    window.removeEventListener("hearing:pictures", this.onPictures);
    for (const card of this.cards.values()) clearTimeout(card.timer);
  }

  // waiting: the seats in the lobby now; people: who sits at each seat.
  draw(waiting, people) {
    const arrived = waiting.filter((seat) => !announced.has(seat));
    for (const [seat, card] of this.cards) {
      if (!waiting.includes(seat)) {
        clearTimeout(card.timer);
        card.item.remove();
        this.cards.delete(seat);
      }
    }
    waiting.forEach((seat, index) => {
      const card = this.cards.get(seat) || this.card(seat);
      this.fill(card, people[seat] || []);
      // Moved only when out of place: a video taken out of the page pauses.
      const there = this.list.children[index];
      if (there !== card.item) this.list.insertBefore(card.item, there || null);
    });
    this.empty.hidden = waiting.length > 0;
    // On the page's first draw, whoever already waits is announced too.
    if (arrived.length) this.arrive(arrived);
    announced.clear();
    for (const seat of waiting) announced.add(seat);
    const changed = !this.seen || arrived.length || this.seen.size !== waiting.length;
    this.seen = new Set(waiting);
    // The video link pins a view of whoever waits (media.js).
    if (changed) window.dispatchEvent(new CustomEvent("hearing:lobby", { detail: { waiting } }));
    this.drawPictures();
  }

  arrive(seats) {
    const words = [];
    for (const seat of seats) {
      const card = this.cards.get(seat);
      card.item.classList.add("arrived");
      card.item.dataset.arrived = "true";
      clearTimeout(card.timer);
      card.timer = setTimeout(() => {
        card.item.classList.remove("arrived");
        delete card.item.dataset.arrived;
      }, HIGHLIGHT_MS);
      words.push(this.t("panel.lobby.announce").replace("{who}", card.who));
    }
    // Said once, by the live region; the card keeps saying "… is waiting".
    this.announcer.textContent = words.join(" ");
    // The bell is for whoever decides (the judge); the clerk following the
    // panel sees and is told, without a sound in the office.
    if (this.canAct) chime.ring();
    this.section.dataset.chimes = String(chime.rung); // for the browser tests
  }

  card(seat) {
    const item = element("li", { class: "lobby-card", "data-seat": seat });
    const figure = element("figure", { class: "lobby-picture" });
    const video = element("video", { autoplay: "", playsinline: "", "data-lobby-view": seat });
    video.muted = true; // the bench does not hear who waits (rule 7); nor does this element
    const overlay = element("p", { class: "overlay", "data-role": "lobby-overlay" });
    figure.append(video, overlay);
    const about = element("div", { class: "lobby-about" });
    const who = element("p", { class: "lobby-who" });
    const what = element("p", { class: "lobby-what" });
    const waiting = element("p", { class: "lobby-waiting", "data-role": "lobby-waiting" });
    const health = element("span", { class: "lobby-health" });
    about.append(who, what, waiting, health);
    item.append(figure, about);
    const card = { seat, item, video, overlay, who: "", whoNode: who, what, waiting, health, timer: null };
    if (this.canAct) item.append(this.actions(card));
    this.cards.set(seat, card);
    this.attach(seat);
    return card;
  }

  actions(card) {
    const box = element("div", { class: "lobby-actions" });
    const admit = element("button", { type: "button", "data-lobby": "admit" }, this.t("panel.admit"));
    const deny = element("button", { type: "button", class: "danger", "data-lobby": "deny" }, this.t("panel.deny"));
    // Turning away is not undone by a click: the card asks first, in place.
    const confirm = element("div", { class: "lobby-confirm", role: "group", "data-role": "lobby-confirm" });
    confirm.hidden = true;
    const question = element("p", { class: "lobby-question" });
    const yes = element("button", { type: "button", class: "danger", "data-lobby": "deny-yes" }, this.t("panel.lobby.deny_yes"));
    const no = element("button", { type: "button", class: "secondary", "data-lobby": "deny-no" }, this.t("panel.lobby.deny_no"));
    confirm.append(question, yes, no);
    admit.addEventListener("click", () => this.send({ action: "admit", seat: card.seat }));
    deny.addEventListener("click", () => {
      confirm.hidden = false;
      deny.hidden = true;
      no.focus();
    });
    const back = () => {
      confirm.hidden = true;
      deny.hidden = false;
      deny.focus();
    };
    no.addEventListener("click", back);
    confirm.addEventListener("keydown", (event) => {
      if (event.key === "Escape") back();
    });
    yes.addEventListener("click", () => this.send({ action: "deny", seat: card.seat }));
    card.buttons = { admit, deny, yes, no, question };
    box.append(admit, deny, confirm);
    return box;
  }

  fill(card, people) {
    const names = people.map((p) => p.name).filter(Boolean);
    const seatName = this.seatName(card.seat);
    card.who = names.length ? names.join(", ") : seatName;
    card.whoNode.textContent = card.who;
    const roles = [...new Set(people.map((p) => this.t(`role.${p.role}`)))];
    const languages = [...new Set(people.map((p) => p.language).filter(Boolean))];
    const parts = [seatName];
    if (roles.length && !roles.every((role) => seatName.startsWith(role))) parts.push(roles.join(", "));
    if (languages.length) parts.push(`${this.t("panel.lobby.language")}: ${languages.join(", ")}`);
    card.what.textContent = parts.join(" · ");
    card.waiting.textContent = this.t("panel.lobby.is_waiting").replace("{who}", card.who);
    card.video.setAttribute("aria-label", this.t("panel.lobby.picture").replace("{who}", card.who));
    card.health.replaceChildren(this.badge(card.seat));
    if (card.buttons) {
      const subject = names.length ? `${seatName} — ${card.who}` : seatName;
      card.buttons.admit.setAttribute("aria-label", `${this.t("panel.admit")}: ${subject}`);
      card.buttons.deny.setAttribute("aria-label", `${this.t("panel.deny")}: ${subject}`);
      card.buttons.question.textContent = this.t("panel.lobby.deny_question").replace("{who}", card.who);
    }
  }

  // The card's picture: the stream the judge's video link receives for the seat.
  attach(seat) {
    const card = this.cards.get(seat);
    if (!card) return;
    const media = window.hearingMedia;
    const stream = media && media.streamFor ? media.streamFor(seat) : null;
    if (card.video.srcObject !== stream) card.video.srcObject = stream;
    this.drawPictures();
  }

  drawPictures() {
    const media = window.hearingMedia;
    for (const card of this.cards.values()) {
      const linked = Boolean(media && media.pc);
      const picture = linked && media.pictures && media.pictures.views ? media.pictures.views[card.seat] : null;
      const shown = Boolean(linked && card.video.srcObject && picture && picture.shown);
      card.overlay.hidden = shown;
      // Only the judge's page has a video link to join; elsewhere, say where the picture is.
      const why = linked ? "panel.lobby.no_picture" : media ? "panel.lobby.no_link" : "panel.lobby.no_media";
      card.overlay.textContent = shown ? "" : this.t(why);
      card.item.dataset.picture = shown ? "shown" : "none";
    }
  }
}

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}
