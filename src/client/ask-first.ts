// Cancel asks first, in the page, on the job page and in the dashboard's rows. The form
// holds its submit button `.ask` and, hidden, the question: a `.confirm` group with `.yes`
// (submit) and `.no` (a plain button). Without JavaScript the question stays hidden and
// one click on `.ask` posts the form.

/**
 * The first submit asks instead: the question takes the button's place and "No" takes
 * the focus as the safe choice; "No" or Escape backs out. Only "Yes" goes on, to `onYes`
 * (the page cancels itself, src/client/cancel.ts): the form never posts.
 * Returns `asking`, which shows or withdraws the question and moves the focus with it.
 */
export function askFirst(form: HTMLFormElement, onYes: () => void): (on: boolean) => void {
  const part = <T extends HTMLElement>(name: string) => form.querySelector<T>(`.${name}`)!;
  const ask = part<HTMLButtonElement>("ask");
  const question = part("confirm");
  const yes = part<HTMLButtonElement>("yes");
  const no = part<HTMLButtonElement>("no");
  const asking = (on: boolean) => {
    ask.hidden = on;
    question.hidden = !on;
    (on ? no : ask).focus();
  };
  // A double click's second click lands where the question now stands (in a dashboard row,
  // whose column widens to hold it, that can be "Yes"), or on "Cancel" again after "No":
  // it changes nothing, and the focus its press took goes back.
  form.addEventListener("click", (click) => {
    if (click.detail < 2) return;
    click.preventDefault();
    click.stopPropagation();
    (question.hidden ? ask : no).focus();
  }, { capture: true });
  no.addEventListener("click", () => asking(false));
  question.addEventListener("keydown", (key) => {
    if (key.key === "Escape") asking(false);
  });
  form.addEventListener("submit", (submit) => {
    submit.preventDefault();
    if (submit.submitter === yes) onYes();
    else asking(true);
  });
  return asking;
}
