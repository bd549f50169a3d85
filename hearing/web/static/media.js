// The judge's video link: joins the hearing's media room over the signaling
// socket (media_link.js, shared with the kiosk), sends this browser's camera
// and microphone, plays what the server routes back. Each picture's tile
// says in words what it shows, and why not when the server sends nothing
// there (a consultation, screening, the lobby), instead of freezing on the
// last frame. No framework, no build step.

import { MediaLink, camera } from "/static/media_link.js";

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
    window.addEventListener("hearing:language", (event) => this.relabel(event.detail));
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
      const views = this.views.map((video) => video.dataset.view);
      this.link = new MediaLink({
        hearing: this.hearing,
        stream,
        views: () => views,
        onTrack: (track, view) => {
          const target = view ? this.views[views.indexOf(view)] : this.remote;
          if (!target.srcObject) target.srcObject = new MediaStream();
          target.srcObject.addTrack(track);
        },
        onAnswer: () => {
          this.button.disabled = false;
          this.say("connected");
        },
        onMessage: (message) => this.receive(message),
        onClose: (code, last) => this.closed(last),
      });
      this.link.open();
      window.hearingMedia = this; // for diagnostics and the browser tests
    } catch (error) {
      this.say("failed", ` (${error.name})`);
      this.button.disabled = false;
    }
  }

  receive(message) {
    if (message.type === "pictures") {
      this.pictures = message;
      this.drawPictures();
    } else if (message.type === "error") {
      this.status.textContent = message.message;
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
    this.button.disabled = false;
    // The server's last word, said once the socket closes.
    this.say(last && `media.gone.${last}` in this.text ? `gone.${last}` : "idle");
    this.drawPictures();
  }
}

for (const root of document.querySelectorAll("[data-media-panel]")) new MediaPanel(root);
