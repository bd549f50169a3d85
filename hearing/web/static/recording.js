// The hearing's recording on its page (issue 14): its state in words, from the
// panel's feed ("hearing:feed": the snapshot's recording_state, then
// "recording_state" and "recording_alert" messages), and the judge's buttons
// enabled for what applies now. The buttons are plain forms (they work
// without this script); with it they post in the background so that the
// page, and the judge's video link, stay.

let state = "off";

function root() {
  return document.querySelector("[data-recording]");
}

function texts(section) {
  return JSON.parse(section.querySelector("[data-role=text]").textContent);
}

function draw() {
  const section = root();
  if (!section) return;
  const t = texts(section);
  section.querySelector("[data-role=recording-state]").textContent = t[`recording.state.${state}`] || state;
  section.dataset.state = state;
  const applies = {
    start: state === "off",
    pause: state === "recording",
    resume: state === "paused",
  };
  for (const button of section.querySelectorAll("[data-recording-action]")) {
    const action = button.dataset.recordingAction;
    button.disabled = !applies[action];
    button.title = applies[action] ? "" : t[`recording.why_not.${state}`] || "";
  }
}

function alertWith(reason) {
  const section = root();
  if (!section) return;
  const t = texts(section);
  const box = section.querySelector("[data-role=recording-alert]");
  box.textContent = (t["recording.alert"] || "{reason}").replace("{reason}", reason);
  box.hidden = false;
}

window.addEventListener("hearing:feed", (event) => {
  const message = event.detail;
  if (message.type === "snapshot" && message.recording_state) {
    state = message.recording_state;
    draw();
  } else if (message.type === "recording_state") {
    state = message.state;
    if (state === "recording") {
      const box = root()?.querySelector("[data-role=recording-alert]");
      if (box) box.hidden = true;
    }
    draw();
  } else if (message.type === "recording_alert") {
    alertWith(message.reason);
  }
});

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("[data-recording] form");
  if (!form) return;
  event.preventDefault();
  const response = await fetch(form.action, {
    method: "POST",
    body: new URLSearchParams(new FormData(form)),
    headers: { Accept: "application/json" },
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    alertWith(body.message || response.statusText);
  }
});

window.addEventListener("hearing:language", draw);
draw();
