// The custody officer's console. The page works without this module (each
// form posts and the server redirects back); with it, the forms are sent in
// the background and the status parts of every card (the hearing's state,
// the kiosk's presence and link, the newest test call, the check-in) are
// refreshed from /api/custody/today every two seconds.

const REFRESH_MS = 2000;
const DONE = { room: "custody.done.room", connect: "custody.done.connect", test_call: "custody.done.test_call",
  check_in: "custody.done.check_in" };

const desk = document.querySelector("[data-desk]");
const text = desk ? JSON.parse(desk.querySelector("[data-role=text]").textContent) : {};

function t(key) {
  return text[key] || key;
}

function badge(words, kind = "") {
  return Object.assign(document.createElement("span"), { className: `badge ${kind}`.trim(), textContent: words });
}

function card(id) {
  return desk.querySelector(`[data-desk-hearing="${id}"]`);
}

function part(root, role) {
  return root.querySelector(`[data-role="${role}"]`);
}

function drawCheckIn(root, info) {
  const words = info
    ? `${t(`checkin.status.${info.status}`)} (${t("checkin.by").replace("{officer}", info.officer).replace("{time}", info.time)})`
    : t("checkin.none");
  part(root, "check-in").textContent = words;
}

function draw(status) {
  const root = card(status.id);
  if (!root) return; // a hearing booked since the page loaded: shown on the next load
  const state = part(root, "state");
  state.className = `state state-${status.state}`;
  state.textContent = t(`state.${status.state}`);
  let kiosk;
  if (status.room === null) kiosk = badge(t("custody.kiosk.no_room"));
  else if (status.kiosk_testing) kiosk = badge(t("custody.kiosk.testing"), "ok");
  else if (status.kiosk_online) kiosk = badge(t("custody.kiosk.online"), "ok");
  else kiosk = badge(t("custody.kiosk.offline"), "bad");
  part(root, "kiosk").replaceChildren(kiosk);
  part(root, "link").replaceChildren(
    status.kiosk_connected ? badge(t("custody.link.connected"), "ok") : badge(t("custody.link.not_connected")),
  );
  const call = status.test_call;
  part(root, "test-call").replaceChildren(
    call
      ? badge(t("custody.test_call.at").replace("{grade}", t(`custody.grade.${call.grade}`)).replace("{time}", call.time),
          `grade-${call.grade}`)
      : t("custody.test_call.none"),
  );
  drawCheckIn(root, status.check_in);
  // The room as saved, unless the officer is choosing one right now.
  const room = part(root, "room");
  if (document.activeElement !== room && !room.dataset.dirty) room.value = status.room === null ? "" : String(status.room);
}

async function refresh() {
  const stale = part(desk, "stale");
  try {
    const response = await fetch("/api/custody/today", { headers: { Accept: "application/json" } });
    if (response.status === 401) {
      location.reload(); // signed out or expired: the page says so (the sign-in form)
      return;
    }
    if (!response.ok) throw new Error(String(response.status));
    const today = await response.json();
    today.hearings.forEach(draw);
    stale.hidden = true;
  } catch {
    stale.hidden = false;
  }
}

function say(root, words, failed) {
  const message = part(root, "message");
  message.textContent = words;
  message.classList.toggle("error", failed);
}

async function submit(event) {
  const form = event.target.closest("form[data-desk-form]");
  if (!form) return;
  event.preventDefault();
  const root = form.closest("[data-desk-hearing]");
  const kind = form.dataset.deskForm;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const response = await fetch(form.getAttribute("action"), {
      method: "POST",
      headers: { Accept: "application/json" },
      body: new URLSearchParams(new FormData(form)),
    });
    const answer = await response.json().catch(() => ({}));
    if (response.ok) {
      say(root, t(DONE[kind]), false);
      if (kind === "room") delete part(root, "room").dataset.dirty;
      if (kind === "check_in") drawCheckIn(root, answer.check_in);
      refresh();
    } else {
      // The page's words are keyed by the error's code; an expired form's is
      // not spelt out, so that the page never holds a refusal's code itself.
      const code = answer.error === "csrf_rejected" ? "form_expired" : answer.error;
      const known = text[`custody.error.${code}`];
      say(root, known || `${t("custody.error.other")} ${answer.message || response.status}`, true);
    }
  } catch {
    say(root, t("custody.stale"), true);
  } finally {
    button.disabled = false;
  }
}

if (desk) {
  desk.addEventListener("submit", submit);
  desk.addEventListener("change", (event) => {
    if (event.target.matches("[data-role=room]")) event.target.dataset.dirty = "1";
  });
  setInterval(refresh, REFRESH_MS);
}
