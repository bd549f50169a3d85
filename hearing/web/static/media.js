// The judge's video link: joins the hearing's media room over the signaling
// socket (media_link.js, shared with the kiosk), sends this browser's camera
// and microphone, plays what the server routes back. Each picture's tile
// says in words what it shows, and why not when the server sends nothing
// there (a consultation, screening, the lobby), instead of freezing on the
// last frame. No framework, no build step.

import { MediaLink, camera } from "/static/media_link.js";

// What one offer may pin (hearing/media/signaling.py MAX_VIEWS).
const MAX_VIEWS = 4;

// A remote party's seat ("interpreter-12"): pinned for the lobby card (lobby.js).
function remote(seat) {
  return seat.includes("-");
}

class MediaPanel {
  constructor(root) {
    this.root = root;
    this.hearing = root.dataset.hearing;
    this.text = JSON.parse(root.querySelector("[data-role=text]").textContent);
    this.status = root.querySelector("[data-role=status]");
    this.local = root.querySelector("video[data-role=local]");
    this.remote = root.querySelector("video[data-role=remote]");
    this.mainTile = root.querySelector("[data-tile=main]");
    // Pictures pinned to named sources (the detainee, the courtroom program),
    // each received on a video section of its own.
    this.views = [...root.querySelectorAll("video[data-view]")];
    this.button = root.querySelector("button[data-role=join]");
    this.button.addEventListener("click", () => (this.pc ? this.leave() : this.join()));
    this.state = "idle";
    this.pictures = null; // what the server last said each tile shows
    // issue 12: each view's stream by source, for the tiles above and the
    // lobby cards; and who waits in the lobby (the panel says, "hearing:lobby").
    this.streams = {};
    this.waiting = [];
    this.seats = null; // the hearing's seats, as the panel's feed last said (null: not yet)
    window.hearingMedia = this; // for the lobby cards, diagnostics and the browser tests
    window.addEventListener("hearing:language", (event) => this.relabel(event.detail));
    window.addEventListener("hearing:lobby", (event) => this.lobbyChanged(event.detail.waiting));
    window.addEventListener("hearing:feed", (event) => {
      const floor = event.detail.floor;
      if (floor && floor.seats) this.seats = Object.keys(floor.seats);
    });
  }

  streamFor(view) {
    return this.streams[view] || null;
  }

  // The views to pin: the page's tiles, then the remote seats, those who
  // wait first (their card needs the picture), as many as an offer takes.
  chooseViews(seats) {
    const fixed = this.views.map((video) => video.dataset.view);
    // A seat the hearing no longer has (a party removed) is not offered: the server would refuse the offer.
    const known = (seat) => !this.seats || this.seats.includes(seat);
    const others = seats.filter((seat) => remote(seat) && !fixed.includes(seat) && known(seat));
    others.sort((a, b) => Number(this.waiting.includes(b)) - Number(this.waiting.includes(a)));
    return [...fixed, ...others].slice(0, MAX_VIEWS);
  }

  // Someone waits whose picture this link does not carry (a party added
  // after it was made, or one more than fitted): the link pins it again.
  lobbyChanged(waiting) {
    this.waiting = waiting;
    if (!this.link || !this.link.pc || this.state !== "connected") return;
    const pinned = this.link.pending || this.link.views;
    const missing = waiting.filter((seat) => remote(seat) && !pinned.includes(seat));
    if (!missing.length) return;
    const seats = [...new Set([...missing, ...pinned])];
    this.link.repin(this.chooseViews(seats));
  }

  resetStreams() {
    for (const video of [this.remote, ...this.views]) video.srcObject = null;
    this.streams = {};
    window.dispatchEvent(new CustomEvent("hearing:view", { detail: { seat: null } }));
  }

  t(key) {
    return this.text[key] || key;
  }

  sourceName(seat) {
    return this.text[`media.source.${seat}`] || this.text[`media.source.${seat.split("-")[0]}`] || seat;
  }

  say(state, detail = "") {
    this.state = state;
    this.status.textContent = this.t(`media.${state}`) + detail;
    this.button.textContent = this.t(this.pc && state === "connected" ? "media.leave" : "media.join");
  }

  get pc() {
    return this.link ? this.link.pc : null;
  }

  async join() {
    this.button.disabled = true;
    this.say("connecting");
    try {
      const stream = await camera();
      this.local.srcObject = stream;
      this.link = new MediaLink({
        hearing: this.hearing,
        stream,
        views: (welcome) => this.chooseViews(welcome.seats || []),
        onTrack: (track, view) => {
          if (!view) {
            if (!this.remote.srcObject) this.remote.srcObject = new MediaStream();
            this.remote.srcObject.addTrack(track);
            return;
          }
          const stream = (this.streams[view] = this.streams[view] || new MediaStream());
          stream.addTrack(track);
          const tile = this.views.find((video) => video.dataset.view === view);
          if (tile && tile.srcObject !== stream) tile.srcObject = stream;
          window.dispatchEvent(new CustomEvent("hearing:view", { detail: { seat: view } }));
        },
        onReset: () => this.resetStreams(),
        onAnswer: () => {
          this.button.disabled = false;
          this.say("connected");
          this.lobbyChanged(this.waiting); // someone may wait who did not fit
        },
        onMessage: (message) => this.receive(message),
        onClose: (code, last) => this.closed(last),
      });
      this.link.open();
    } catch (error) {
      this.say("failed", ` (${error.name})`);
      this.button.disabled = false;
    }
  }

  receive(message) {
    if (message.type === "pictures") {
      this.pictures = message;
      this.drawPictures();
      window.dispatchEvent(new CustomEvent("hearing:pictures"));
    } else if (message.type === "error") {
      this.status.textContent = message.message;
      // A pinned seat left the hearing as the link offered again: offer the page's own tiles.
      if (message.error === "unknown_seat" && this.link) this.link.repin(this.views.map((video) => video.dataset.view));
    }
  }

  drawPictures() {
    const message = this.pictures;
    if (!message) {
      this.drawTile(this.mainTile, null, this.t("media.main"), "media.idle");
      for (const video of this.views) {
        const source = video.dataset.view;
        this.drawTile(video.closest("figure"), null, this.sourceName(source), "media.idle");
      }
      return;
    }
    if (message.main) {
      const main = message.main;
      const caption = main.shown ? this.sourceName(main.source) : this.t("media.no_picture");
      this.drawTile(this.mainTile, main, caption, `media.reason.${main.reason}`);
    }
    for (const video of this.views) {
      const source = video.dataset.view;
      const picture = message.views[source];
      if (picture) this.drawTile(video.closest("figure"), picture, this.sourceName(source), `media.reason.${picture.reason}`);
    }
  }

  drawTile(tile, picture, caption, reasonKey) {
    tile.querySelector("[data-role=caption]").textContent = caption;
    const overlay = tile.querySelector("[data-role=overlay]");
    const shown = Boolean(picture && picture.shown);
    overlay.hidden = shown;
    overlay.textContent = shown ? "" : this.t(reasonKey);
    tile.dataset.showing = shown ? picture.source : "";
  }

  // The page switched language without reloading: take the new words from
  // its freshly rendered twin, keep the connection.
  relabel(page) {
    const twin = page.querySelector("[data-media-panel]");
    if (!twin) return;
    this.text = JSON.parse(twin.querySelector("[data-role=text]").textContent);
    for (const [mine, theirs] of [...this.root.querySelectorAll("figcaption:not([data-role])")].map((f, i) => [
      f,
      twin.querySelectorAll("figcaption:not([data-role])")[i],
    ])) {
      if (theirs) mine.textContent = theirs.textContent;
    }
    this.say(this.state);
    this.drawPictures();
  }

  leave() {
    if (this.link) this.link.leave();
  }

  closed(last) {
    this.link = null;
    for (const video of [this.local, this.remote, ...this.views]) {
      if (video.srcObject) video.srcObject.getTracks().forEach((track) => track.stop());
      video.srcObject = null;
    }
    this.pictures = null;
    this.streams = {};
    window.dispatchEvent(new CustomEvent("hearing:view", { detail: { seat: null } }));
    this.button.disabled = false;
    // The server's last word, said once the socket closes.
    this.say(last && `media.gone.${last}` in this.text ? `gone.${last}` : "idle");
    this.drawPictures();
  }
}

for (const root of document.querySelectorAll("[data-media-panel]")) new MediaPanel(root);
