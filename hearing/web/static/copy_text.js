// A button that copies a text field's whole text (issue 12: the invitation
// the clerk sends a remote party). The field stays selectable by hand too;
// where the clipboard is not allowed, the text is selected for the clerk.

for (const button of document.querySelectorAll("button[data-copy]")) {
  button.addEventListener("click", async () => {
    const field = document.getElementById(button.dataset.copy);
    const status = button.parentElement.querySelector("[data-role=copied]");
    field.focus();
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      if (status) status.textContent = status.dataset.copiedText;
    } catch {
      // Selected: Ctrl+C copies it.
    }
  });
}
