// "Copy link" and "Copy command": buttons with data-copy, hidden until a script can run them.
const FEEDBACK_MS = 2_000;

export function enableCopyButtons(): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>("button[data-copy]")) {
    const label = button.textContent ?? "Copy";
    button.hidden = false;
    button.addEventListener("click", async () => {
      const text = button.dataset.copy!;
      // The Clipboard API needs a secure context (https or localhost); elsewhere the
      // reader copies from a prompt.
      const copied = await navigator.clipboard?.writeText(text).then(() => true, () => false);
      if (!copied) return void window.prompt("Copy this:", text);
      button.textContent = "Copied";
      setTimeout(() => (button.textContent = label), FEEDBACK_MS);
    });
  }
}
