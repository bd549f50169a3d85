// The hearing's recording on its page (issue 14): its state in words, from the
// panel's feed ("hearing:feed": the snapshot's recording_state, then
// "recording_state" and "recording_alert" messages), and the judge's buttons
// enabled for what applies now. The buttons are plain forms (they work
// without this script); with it they post in the background so that the
// page, and the judge's video link, stay.

let state = "off";
// After a fault, until segments are written again (the server's "recording"
// truth): the desk is still recording, its recorder starting a new segment.
let failing = false;

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
  const shown = state === "recording" && failing ? "failing" : state;
  section.querySelector("[data-role=recording-state]").textContent = t[`recording.state.${shown}`] || shown;
  section.dataset.state = shown;
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

function say(text) {
  const box = root()?.querySelector("[data-role=recording-alert]");
  if (!box) return;
  box.textContent = text;
  box.hidden = false;
}

function clearAlert() {
  const box = root()?.querySelector("[data-role=recording-alert]");
  if (box) box.hidden = true;
}

function alertWith(reason) {
  const section = root();
  if (!section) return;
  say((texts(section)["recording.alert"] || "{reason}").replace("{reason}", reason));
}

window.addEventListener("hearing:feed", (event) => {
  const message = event.detail;
  if (message.type === "snapshot" && message.recording_state) {
    state = message.recording_state;
    draw();
  } else if (message.type === "recording" && message.recording && failing) {
    // Segments are written again after the fault: the alert has been answered.
    failing = false;
    clearAlert();
    draw();
  } else if (message.type === "recording_state") {
    state = message.state;
    failing = false;
    if (state === "recording") clearAlert();
    draw();
  } else if (message.type === "recording_alert") {
    failing = true;
    alertWith(message.reason);
    draw();
  }
});

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("[data-recording] form");
  if (!form) return;
  event.preventDefault();
  // getAttribute: the form's field named "action" shadows its .action property.
  const response = await fetch(form.getAttribute("action"), {
    method: "POST",
    body: new URLSearchParams(new FormData(form)),
    headers: { Accept: "application/json" },
  });
  if (!response.ok) {
    // A refused request is not a failed recording: the server's own words.
    const body = await response.json().catch(() => ({}));
    say(body.message || response.statusText);
  }
});

window.addEventListener("hearing:language", draw);
draw();
