// The custody officer's check-in on the hearing page: the judge and the clerk
// see it change without a reload. The panel's feed carries it (the snapshot's
// "check_in", then a "check_in" message each time the officer saves); this
// module opens no socket of its own, it listens to "hearing:feed".

function section() {
  return document.querySelector("[data-check-in]");
}

function texts(root) {
  return JSON.parse(root.querySelector("[data-role=text]").textContent);
}

function confirmed(info) {
  if (info.name_confirmed && info.reference_confirmed) return "both";
  if (info.name_confirmed) return "name";
  if (info.reference_confirmed) return "reference";
  return "none";
}

function element(tag, text, attributes = {}) {
  const node = Object.assign(document.createElement(tag), { textContent: text });
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

// The same words the server renders (hearing.html), from the same texts.
export function draw(info) {
  const root = section();
  if (!root) return;
  const t = texts(root);
  const line = root.querySelector("[data-role=check-in]");
  if (!info) {
    line.replaceChildren(element("span", t["checkin.none"], { "data-role": "check-in-status" }));
    return;
  }
  const parts = [
    element("strong", t[`checkin.status.${info.status}`] || info.status, {
      class: `badge checkin-${info.status}`,
      "data-role": "check-in-status",
    }),
    " ",
    element("span", t[`checkin.confirmed.${confirmed(info)}`], { "data-role": "check-in-confirmed" }),
    " — ",
    element("span", t["checkin.by"].replace("{officer}", info.officer).replace("{time}", info.time), {
      "data-role": "check-in-by",
    }),
  ];
  if (info.note) {
    parts.push(document.createElement("br"));
    parts.push(element("span", `${t["checkin.note"]}: ${info.note}`, { "data-role": "check-in-note" }));
  }
  line.replaceChildren(...parts);
}

window.addEventListener("hearing:feed", (event) => {
  const message = event.detail;
  if (message.type === "snapshot" && "check_in" in message) draw(message.check_in);
  if (message.type === "check_in") draw(message.check_in);
});
