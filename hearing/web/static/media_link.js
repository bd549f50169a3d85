// One seat's media link to the hearing's room, shared by the judge's page
// (media.js), the detainee's kiosk (kiosk.js) and the remote party's page at
// the gateway (remote.js, whose socket is /ws/remote/media): the signaling socket
// (/ws/hearings/<id>/media, docs/protocol.md), the heartbeat the server's
// liveness timer expects, and the one peer connection: this browser's
// camera and microphone out, the routed sound and pictures back. What the
// page shows is the page's business: the link hands it the server's
// messages, each received track with the view it belongs to, and how the
// socket closed.

export const PING_MS = 2000; // the server gives up after 5 s of silence

function waitForGathering(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
  });
}

export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}`;
}

export async function camera() {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: true,
    video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 25 } },
  });
  // A court needs the picture sharp: under pressure, drop frames before
  // resolution (the browser would otherwise start at a lower size).
  for (const track of stream.getVideoTracks()) track.contentHint = "detail";
  return stream;
}

export class MediaLink {
  // hearing: its id; path: the socket's, where not the hearing's media socket
  // (the gateway's); stream: what this seat sends; views(welcome): the
  // sources to pin, each on a receive-only video section of its own (known
  // only once the welcome names the hearing's seats); onTrack(track, view):
  // view is null for the main picture and the sound; onAnswer(); onMessage(m)
  // for everything else the server says; onClose(code, last) where last is
  // the server's last word (`ended`, `replaced`, ...) or null.
  constructor({ hearing, path, stream, views = () => [], onTrack, onAnswer, onMessage, onClose }) {
    this.hearing = hearing;
    this.path = path || `/ws/hearings/${hearing}/media`;
    this.stream = stream;
    this.chooseViews = views;
    this.onTrack = onTrack;
    this.onAnswer = onAnswer || (() => {});
    this.onMessage = onMessage || (() => {});
    this.onClose = onClose || (() => {});
    this.views = [];
    this.pc = null;
    this.socket = null;
    this.last = null;
    this.pinger = null;
  }

  open() {
    this.pc = new RTCPeerConnection({ iceServers: [] });
    this.pc.addEventListener("track", (event) => {
      const videos = this.pc.getTransceivers().filter((t) => t.receiver.track.kind === "video");
      const slot = videos.indexOf(event.transceiver) - 1;
      const view = event.track.kind === "video" && slot >= 0 ? this.views[slot] : null;
      this.onTrack(event.track, view);
    });
    for (const track of this.stream.getTracks()) this.pc.addTrack(track, this.stream);
    this.socket = new WebSocket(socketUrl(this.path));
    this.socket.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
    this.socket.addEventListener("close", (event) => this.closed(event.code));
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  async receive(message) {
    if (message.type === "welcome") {
      this.views = this.chooseViews(message);
      for (const _ of this.views) this.pc.addTransceiver("video", { direction: "recvonly" });
      await this.pc.setLocalDescription(await this.pc.createOffer());
      await waitForGathering(this.pc);
      this.send({ type: "offer", sdp: this.pc.localDescription.sdp, views: this.views });
      this.onMessage(message);
    } else if (message.type === "answer") {
      await this.pc.setRemoteDescription({ type: "answer", sdp: message.sdp });
      let nonce = 0;
      this.pinger = setInterval(() => this.send({ type: "ping", nonce: nonce++ }), PING_MS);
      this.onAnswer();
    } else if (message.type !== "pong") {
      // The server's last word before it closes (ended, replaced, denied,
      // revoked...) carries a message and no other field but its type.
      if (Object.keys(message).length === 2 && "message" in message) this.last = message.type;
      this.onMessage(message);
    }
  }

  // This page leaves on purpose: the server is told, the socket closes.
  leave() {
    this.send({ type: "leave" });
    this.closed(1000);
  }

  closed(code) {
    if (!this.pc) return;
    clearInterval(this.pinger);
    this.pc.close();
    this.pc = null;
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close();
    this.onClose(code, this.last);
  }
}
