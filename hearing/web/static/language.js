// Switching language without reloading, where a reload would cost something:
// on a page with a live video link, the choice is saved, the same page is
// fetched again in the new language and its words are swapped in, while the
// video link (and its connection) stays. The live parts take their new words
// from their freshly rendered twins ("hearing:language", with the new page).
// Elsewhere the form posts and the page reloads as usual.

async function switchInPlace(form, lang) {
  const body = new URLSearchParams(new FormData(form));
  body.set("lang", lang);
  const saved = await fetch(form.getAttribute("action"), {
    method: "POST",
    headers: { Accept: "application/json" },
    body,
  });
  if (!saved.ok) return false;
  const response = await fetch(location.href, { headers: { Accept: "text/html" } });
  if (!response.ok) return false;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  document.documentElement.lang = page.documentElement.lang;
  document.title = page.title;
  document.querySelector("header.bar").replaceWith(document.adoptNode(page.querySelector("header.bar")));
  const main = document.querySelector("main");
  const kept = main.querySelector("[data-media-panel]");
  const next = [...page.querySelector("main").childNodes].map((node) => {
    if (kept && node.nodeType === Node.ELEMENT_NODE && node.matches("[data-media-panel]")) return kept;
    return document.adoptNode(node);
  });
  main.replaceChildren(...next);
  window.dispatchEvent(new CustomEvent("hearing:language", { detail: page }));
  bind(); // the new header has a new form
  return true;
}

function bind() {
  const form = document.querySelector("form.language");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    if (!document.querySelector("[data-media-panel]") || !event.submitter) return;
    event.preventDefault();
    const lang = event.submitter.value;
    if (await switchInPlace(form, lang)) return;
    // Something went wrong: the plain way, a reload.
    const chosen = Object.assign(document.createElement("input"), { type: "hidden", name: "lang", value: lang });
    form.append(chosen);
    form.submit();
  });
}

bind();
