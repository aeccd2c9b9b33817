// The start page in the browser: fields from the chosen type's schema kept in step with
// the JSON box, inline validation before the form posts, and the list of your jobs.
import type { Json } from "../protocol";
import { codeSpans, timeoutHint, type TimeoutRange } from "../pages/format";
import { byId, el } from "./dom";
import { markStarting } from "./my-jobs";
import { showMyJobs } from "./my-jobs-list";
import { buildFields, valueProblem, type Field, type Schema } from "./schema-fields";

const form = byId<HTMLFormElement>("start-form");
const select = byId<HTMLSelectElement>("type");
const input = byId<HTMLTextAreaElement>("input");
const timeout = byId<HTMLInputElement>("timeoutMs");
const submit = byId<HTMLButtonElement>("start");
let schema: Schema = {};
let fields: Field[] = [];

type ParsedInput = { value: Record<string, Json>; error?: undefined } | { value?: undefined; error: string };

function parseInput(): ParsedInput {
  const text = input.value.trim();
  if (text === "") return { value: {} };
  try {
    const value = JSON.parse(text) as Json;
    if (value === null || typeof value !== "object" || Array.isArray(value)) return { error: "The input must be a JSON object, such as {}" };
    return { value };
  } catch (error) {
    return { error: `Not valid JSON: ${(error as Error).message}` };
  }
}

/** What is wrong with the box as a whole: not a JSON object, or properties the chosen type refuses ("Unknown field"). */
function inputProblem(parsed: ParsedInput): string | undefined {
  if (!parsed.value) return parsed.error;
  const known = Object.keys(schema.properties ?? {});
  const unknown = schema.additionalProperties === false ? Object.keys(parsed.value).filter((name) => !known.includes(name)) : [];
  if (!unknown.length) return undefined;
  return `Not ${unknown.length === 1 ? "a field" : "fields"} of ${select.value}: ${unknown.join(", ")}.${known.length ? ` Its fields: ${known.join(", ")}.` : ""}`;
}

/** As the server checks it: empty for the default, or a whole number of milliseconds from 1. */
function timeoutProblem(): string | undefined {
  // What a number input cannot read ("1e", "--3") comes back empty, flagged as bad input.
  if (timeout.validity.badInput) return "Expected a whole number";
  const text = timeout.value.trim();
  return text === "" ? undefined : valueProblem(Number(text), { minimum: 1, ...(timeout.max ? { maximum: Number(timeout.max) } : {}) }, "integer", false);
}

/** A problem under a server-rendered control, in its `<id>-error` paragraph. */
function showError(control: HTMLElement, message: string | undefined): void {
  const error = byId(`${control.id}-error`);
  error.hidden = !message;
  error.textContent = message ?? "";
  control.toggleAttribute("aria-invalid", Boolean(message));
}

const exampleOf = (option: HTMLOptionElement | undefined) => option?.dataset.example ?? "{}";

/** The example the JSON box was given: what it holds until the visitor edits it. */
let example = exampleOf(select.selectedOptions[0]);

/** Another type: its example replaces the input only if nothing was typed there (it is empty, or the last example as given). */
function switchType(): void {
  const text = input.value.trim();
  const untouched = text === "" || text === example.trim();
  example = exampleOf(select.selectedOptions[0]);
  if (untouched) input.value = example;
  showType();
  // Its budget may allow another timeout (a server's refusal shown at load stays as it is).
  if (timeout.value.trim()) showError(timeout, timeoutProblem());
}

/** The chosen type's description and fields, which take their values from the JSON box. */
function showType(): void {
  const option = select.selectedOptions[0];
  if (!option) return;
  byId("type-description").replaceChildren(...codeSpans(option.dataset.description ?? "").map((part) => (part.code ? el("code", "", part.text) : part.text)));
  schema = JSON.parse(option.dataset.schema ?? "{}") as Schema;
  fields = buildFields(schema, JSON.parse(option.dataset.hints ?? "{}") as Record<string, string>, byId("field-list"), fieldToJson);
  const range = JSON.parse(option.dataset.timeout!) as TimeoutRange;
  timeout.max = String(range.maxMs);
  byId("timeout-hint").textContent = `The job fails with a timeout after this long${timeoutHint(range)}.`;
  byId("fields").hidden = fields.length === 0;
  jsonToFields();
}

function jsonToFields(): void {
  const parsed = parseInput();
  showError(input, inputProblem(parsed));
  // A field writes the whole box, which would replace text that is not (yet) a JSON object.
  const group = byId<HTMLFieldSetElement>("fields");
  group.disabled = !parsed.value;
  byId("fields-off").hidden = Boolean(parsed.value);
  // Described by why they are off only while they are: a hidden description is still read.
  if (parsed.value) group.removeAttribute("aria-describedby");
  else group.setAttribute("aria-describedby", "fields-off");
  if (!parsed.value) return;
  for (const field of fields) {
    field.write(parsed.value[field.name]);
    field.showError(problemOf(field, parsed.value));
  }
}

function problemOf(field: Field, input: Record<string, Json>): string | undefined {
  const value = input[field.name];
  // A value the field cannot hold (text in a number field) would otherwise just vanish.
  if (value !== undefined && !field.holds(value)) return `Expected ${field.expects}`;
  return field.read().error;
}

/** The edited field's property into the JSON box; the rest of the box stays as it is, even values no field can show. */
function fieldToJson(field: Field): void {
  const value = parseInput().value;
  // The fields are disabled while the box is not a JSON object; never overwrite it.
  if (!value) return;
  // What was typed goes into the JSON even when it is wrong, with the field saying why.
  const read = field.read();
  field.showError(read.error);
  if (read.value === undefined) delete value[field.name];
  else value[field.name] = read.value;
  input.value = JSON.stringify(value, null, 2);
}

// Our inline messages replace the browser's validation bubbles, which would stop the
// submit before our checks run.
form.noValidate = true;
select.addEventListener("change", switchType);
input.addEventListener("input", jsonToFields);
timeout.addEventListener("input", () => showError(timeout, timeoutProblem()));
form.addEventListener("submit", (event) => {
  const parsed = parseInput();
  const inputError = inputProblem(parsed);
  showError(input, inputError);
  const invalid = fields.filter((field) => {
    const problem = parsed.value && problemOf(field, parsed.value);
    field.showError(problem);
    return problem !== undefined;
  });
  const timeoutError = timeoutProblem();
  showError(timeout, timeoutError);
  if (inputError || invalid.length || timeoutError) {
    event.preventDefault();
    // The first problem in the page's order: the fields, the box, the timeout.
    (invalid[0] ?? (inputError ? input : timeout)).focus();
    return;
  }
  markStarting();
  submit.disabled = true;
});
// A type's link in the list loads /?type= with its example; here it picks the type in
// the form instead, which keeps what was typed in the box.
byId("types").addEventListener("click", (event) => {
  const link = (event.target as Element).closest<HTMLAnchorElement>("a[data-type]");
  if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  select.value = link.dataset.type!;
  switchType();
  select.focus();
});
// Coming back with the Back button restores this page as it was left: usable again.
window.addEventListener("pageshow", () => (submit.disabled = false));

showType();
document.getElementById("form-errors")?.focus();
showMyJobs(byId("my-jobs"), byId<HTMLUListElement>("my-jobs-list"), byId<HTMLButtonElement>("clear-jobs"));
