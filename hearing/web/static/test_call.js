// The pre-hearing test call (kiosk): sends this device's camera and
// microphone to the server's loopback and shows what comes back, with a
// level meter for the sound the court would hear. When the server asks, it
// reports what it received (picture size, frame rate, loudest sound level,
// from getStats); the server grades and records the call and answers with
// the result, which is said here in words. No framework, no build step.

const PING_MS = 2000; // the server gives up after 5 s of silence
const SAMPLE_MS = 250;
// Asked for by the officer's console (?auto=1): the result stays up this
// long, then the kiosk goes back to its own page, to be ready for the hearing.
const RETURN_MS = 15000;
const FPS_WINDOW_MS = 3000; // the frame rate is the last three seconds'

function waitForGathering(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
  });
}

function dbfs(rms) {
  return rms > 0 ? Math.max(-127, 20 * Math.log10(rms)) : -127;
}

class TestCall {
  constructor(root) {
    this.root = root;
    this.text = JSON.parse(root.querySelector("[data-role=text]").textContent);
    this.status = root.querySelector("[data-role=status]");
    this.local = root.querySelector("video[data-role=local]");
    this.looped = root.querySelector("video[data-role=looped]");
    this.meter = root.querySelector("meter[data-role=level]");
    this.resultBox = root.querySelector("[data-role=result]");
    this.button = root.querySelector("button[data-role=start]");
    this.button.addEventListener("click", () => this.start());
    this.state = "idle";
    this.result = null;
    window.testCall = this; // for diagnostics and the browser tests
    if (root.dataset.auto === "true") this.start();
  }

  t(key) {
    return this.text[key] || key;
  }

  say(state, detail = "") {
    this.state = state;
    this.status.textContent = this.t(`test_call.${state}`) + detail;
  }

  async start() {
    this.release();
    this.failure = null;
    this.button.disabled = true;
    this.button.hidden = true;
    this.resultBox.hidden = true;
    this.result = null;
    this.say("connecting");
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 25 } },
      });
    } catch (error) {
      this.say("no_camera", ` (${error.name})`);
      this.again();
      return;
    }
    this.local.srcObject = this.stream;
    this.pc = new RTCPeerConnection({ iceServers: [] });
    this.pc.addEventListener("track", (event) => {
      if (!this.looped.srcObject) this.looped.srcObject = new MediaStream();
      this.looped.srcObject.addTrack(event.track);
    });
    for (const track of this.stream.getTracks()) {
      if (track.kind === "video") track.contentHint = "detail"; // as in a hearing: sharpness first
      this.pc.addTrack(track, this.stream);
    }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.socket = new WebSocket(`${scheme}://${location.host}/ws/device/test-call`);
    this.socket.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
    this.socket.addEventListener("close", () => this.closed());
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  async receive(message) {
    if (message.type === "welcome") {
      await this.pc.setLocalDescription(await this.pc.createOffer());
      await waitForGathering(this.pc);
      this.send({ type: "offer", sdp: this.pc.localDescription.sdp });
    } else if (message.type === "answer") {
      await this.pc.setRemoteDescription({ type: "answer", sdp: message.sdp });
      let nonce = 0;
      this.pinger = setInterval(() => this.send({ type: "ping", nonce: nonce++ }), PING_MS);
    } else if (message.type === "progress" && message.phase === "looping") {
      this.say("looping");
      this.samples = [];
      this.loudest = null;
      this.sampler = setInterval(() => this.sample(), SAMPLE_MS);
    } else if (message.type === "report_due") {
      clearInterval(this.sampler);
      await this.sample();
      this.say("measuring");
      this.send({ type: "report", ...this.report() });
    } else if (message.type === "result") {
      this.result = message;
      this.show(message);
      this.finish();
      if (this.root.dataset.auto === "true") {
        this.status.textContent = this.t("test_call.returning");
        setTimeout(() => location.assign("/device"), RETURN_MS);
      }
    } else if (message.type === "error") {
      this.failure = message.error;
    }
  }

  // What came back, from the receiving side's statistics.
  async sample() {
    if (!this.pc) return;
    const now = performance.now();
    const point = { at: now, frames: null, width: null, height: null, energy: null, duration: null };
    (await this.pc.getStats()).forEach((stats) => {
      if (stats.type !== "inbound-rtp") return;
      if (stats.kind === "video") {
        point.frames = stats.framesDecoded ?? null;
        point.width = stats.frameWidth ?? null;
        point.height = stats.frameHeight ?? null;
      } else if (stats.kind === "audio") {
        point.energy = stats.totalAudioEnergy ?? null;
        point.duration = stats.totalSamplesDuration ?? null;
      }
    });
    const previous = this.samples[this.samples.length - 1];
    if (previous && point.energy !== null && previous.energy !== null && point.duration > previous.duration) {
      const level = dbfs(Math.sqrt((point.energy - previous.energy) / (point.duration - previous.duration)));
      this.meter.value = Math.max(this.meter.min, level);
      this.loudest = this.loudest === null ? level : Math.max(this.loudest, level);
    }
    this.samples.push(point);
  }

  report() {
    const last = this.samples[this.samples.length - 1] || {};
    const first = this.samples.find((s) => s.at >= (last.at || 0) - FPS_WINDOW_MS && s.frames !== null);
    let fps = null;
    if (first && last.frames !== null && last.at > first.at) {
      fps = Math.round(((last.frames - first.frames) * 1000 * 10) / (last.at - first.at)) / 10;
    }
    const loudest = this.loudest === null ? null : Math.round(this.loudest * 10) / 10;
    return { width: last.width ?? null, height: last.height ?? null, fps, audio_dbfs: loudest };
  }

  show(result) {
    this.status.textContent = this.t("test_call.done");
    this.state = "done";
    const grade = this.resultBox.querySelector("[data-role=grade]");
    grade.textContent = this.t(`test_call.grade.${result.grade}`);
    grade.dataset.grade = result.grade;
    const f = result.figures;
    const unmeasured = this.t("test_call.unmeasured");
    const shown = [
      ["rtt_ms", f.rtt_ms === null ? unmeasured : `${f.rtt_ms} ms`],
      ["loss_percent", f.loss_percent === null ? unmeasured : `${f.loss_percent} %`],
      ["jitter_ms", f.jitter_ms === null ? unmeasured : `${f.jitter_ms} ms`],
      ["picture", f.width ? `${f.width}×${f.height}, ${f.fps ?? "–"} fps` : unmeasured],
      ["audio_dbfs", f.audio_dbfs === null ? unmeasured : `${f.audio_dbfs} dBFS`],
    ];
    const list = this.resultBox.querySelector("[data-role=figures]");
    list.replaceChildren(
      ...shown.flatMap(([key, value]) => [
        Object.assign(document.createElement("dt"), { textContent: this.t(`test_call.figure.${key}`) }),
        Object.assign(document.createElement("dd"), { textContent: value }),
      ]),
    );
    const reasons = this.resultBox.querySelector("[data-role=reasons]");
    reasons.replaceChildren(
      ...result.reasons.map((r) => {
        const item = Object.assign(document.createElement("li"), { textContent: this.t(`test_call.reason.${r}`) });
        item.dataset.reason = r;
        return item;
      }),
    );
    this.resultBox.querySelector("[data-role=reasons-box]").hidden = result.reasons.length === 0;
    this.resultBox.hidden = false;
  }

  // The call is over: the server has closed its loop. The pictures stay
  // (the last one looped back, the camera live) until the next test or Back.
  finish() {
    clearInterval(this.pinger);
    clearInterval(this.sampler);
    this.send({ type: "leave" });
    this.again();
  }

  release() {
    clearInterval(this.pinger);
    clearInterval(this.sampler);
    if (this.pc) this.pc.close();
    this.pc = null;
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.looped.srcObject = null;
  }

  again() {
    this.button.textContent = this.t("test_call.again");
    this.button.hidden = false;
    this.button.disabled = false;
  }

  closed() {
    if (this.state === "done") return;
    clearInterval(this.pinger);
    clearInterval(this.sampler);
    this.say("failed", this.failure ? ` (${this.failure})` : "");
    this.release();
    this.again();
  }
}

const root = document.querySelector("[data-test-call]");
if (root) new TestCall(root);
