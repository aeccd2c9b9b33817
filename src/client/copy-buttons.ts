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
      // The button's new name is not read out by every screen reader; a status region is.
      const news = document.getElementById("copy-news");
      const said = `${button.dataset.copied ?? "Copied"} to the clipboard`;
      button.textContent = "Copied";
      if (news) news.textContent = said;
      setTimeout(() => {
        button.textContent = label;
        if (news?.textContent === said) news.textContent = "";
      }, FEEDBACK_MS);
    });
  }
}
