// The judge's media panel: joins the hearing's media room over the signaling
// socket, sends this browser's camera and microphone, plays what the server
// routes back. No framework, no build step.

const PING_MS = 2000; // the server gives up after 5 s of silence

function waitForGathering(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
  });
}

class MediaPanel {
  constructor(root) {
    this.root = root;
    this.hearing = root.dataset.hearing;
    this.status = root.querySelector("[data-role=status]");
    this.local = root.querySelector("video[data-role=local]");
    this.remote = root.querySelector("video[data-role=remote]");
    // Pictures pinned to named sources (the detainee, the courtroom program),
    // each received on a video section of its own.
    this.views = [...root.querySelectorAll("video[data-view]")];
    this.button = root.querySelector("button[data-role=join]");
    this.button.addEventListener("click", () => (this.pc ? this.leave() : this.join()));
  }

  say(text) {
    this.status.textContent = text;
  }

  async join() {
    this.button.disabled = true;
    this.say(this.root.dataset.connecting);
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 25 } },
      });
      this.local.srcObject = stream;
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      this.socket = new WebSocket(`${scheme}://${location.host}/ws/hearings/${this.hearing}/media`);
      this.socket.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
      this.socket.addEventListener("close", () => this.closed());
      this.pc = new RTCPeerConnection({ iceServers: [] });
      this.pc.addEventListener("track", (event) => {
        const videos = this.pc.getTransceivers().filter((t) => t.receiver.track.kind === "video");
        const slot = videos.indexOf(event.transceiver) - 1;
        const target = event.track.kind === "video" && slot >= 0 ? this.views[slot] : this.remote;
        if (!target.srcObject) target.srcObject = new MediaStream();
        target.srcObject.addTrack(event.track);
      });
      for (const track of stream.getTracks()) {
        // A court needs the picture sharp: under pressure, drop frames before
        // resolution (the browser would otherwise start at a lower size).
        if (track.kind === "video") track.contentHint = "detail";
        this.pc.addTrack(track, stream);
      }
      for (const _ of this.views) this.pc.addTransceiver("video", { direction: "recvonly" });
      window.hearingMedia = this; // for diagnostics and the browser tests
    } catch (error) {
      this.say(`${this.root.dataset.failed} (${error.name})`);
      this.button.disabled = false;
    }
  }

  async receive(message) {
    if (message.type === "welcome") {
      await this.pc.setLocalDescription(await this.pc.createOffer());
      await waitForGathering(this.pc);
      const views = this.views.map((video) => video.dataset.view);
      this.socket.send(JSON.stringify({ type: "offer", sdp: this.pc.localDescription.sdp, views }));
    } else if (message.type === "answer") {
      await this.pc.setRemoteDescription({ type: "answer", sdp: message.sdp });
      this.say(this.root.dataset.connected);
      this.button.textContent = this.root.dataset.leaveLabel;
      this.button.disabled = false;
      let nonce = 0;
      this.pinger = setInterval(() => this.socket.send(JSON.stringify({ type: "ping", nonce: nonce++ })), PING_MS);
    } else if (message.type === "error") {
      this.say(message.message);
    }
  }

  leave() {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ type: "leave" }));
    }
    this.closed();
  }

  closed() {
    clearInterval(this.pinger);
    if (this.pc) this.pc.close();
    for (const video of [this.local, this.remote, ...this.views]) {
      if (video.srcObject) video.srcObject.getTracks().forEach((track) => track.stop());
      video.srcObject = null;
    }
    this.pc = null;
    this.say(this.root.dataset.idle);
    this.button.textContent = this.root.dataset.joinLabel;
    this.button.disabled = false;
  }
}

for (const root of document.querySelectorAll("[data-media-panel]")) new MediaPanel(root);
