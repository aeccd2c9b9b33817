// Form fields generated from a job type's JSON Schema (the subset our job types use:
// numbers, booleans, strings, enums, string-or-number, durations, lists of strings). Each
// field reads and writes one top-level property of the input and checks it as it goes.
import { parseDuration } from "../lib/duration";
import { spanText } from "../pages/format";
import type { Json } from "../protocol";
import { el } from "./dom";

export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  anyOf?: Schema[];
  enum?: Json[];
  items?: Schema;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxLength?: number;
  default?: Json;
  /** A duration as job code writes one (durationInput in src/jobs/duration-input.ts), up to maxMs. */
  "x-duration"?: { maxMs: number };
}

export interface Field {
  name: string;
  /** What the property holds, for messages: "a whole number", "true or false"… */
  expects: string;
  /** The property's value, undefined when left empty (the job's default applies), and its problem if any. */
  read(): { value?: Json; error?: string };
  write(value: Json | undefined): void;
  /**
   * Whether the JSON box's value (just written) is one this field holds: it reads back the
   * same, or is of the field's kind but shown approximately (a list line with a line break
   * in it, or an empty one; the JSON box keeps it exactly).
   */
  holds(value: Json): boolean;
  showError(error: string | undefined): void;
  focus(): void;
}

type Kind = "integer" | "number" | "boolean" | "string" | "enum" | "string-or-number" | "duration" | "lines";

const EXPECTS: Record<Kind, string> = {
  integer: "a whole number", number: "a number", boolean: "true or false", string: "text", enum: "one of the choices",
  "string-or-number": "a number or text", duration: "a duration", lines: "a list of lines of text",
};

function kindOf(schema: Schema): Kind | null {
  if (schema["x-duration"]) return "duration";
  if (schema.enum?.every((v) => typeof v === "string")) return "enum";
  const types = schema.anyOf ? schema.anyOf.map((s) => s.type) : [schema.type];
  if (types.length === 2 && types.includes("string") && types.some((t) => t === "number" || t === "integer")) return "string-or-number";
  const [type] = types;
  if (type === "array" && schema.items?.type === "string") return "lines";
  return type === "integer" || type === "number" || type === "boolean" || type === "string" ? type : null;
}

/**
 * Fields for the properties we know how to edit; the JSON box covers the rest. `hints`,
 * by property, add to what the schema says (what the visitor's budget allows).
 */
export function buildFields(schema: Schema, hints: Record<string, string>, container: HTMLElement, onInput: (field: Field) => void): Field[] {
  container.replaceChildren();
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).flatMap(([name, property]) => {
    const kind = kindOf(property);
    return kind ? [buildField(name, property, kind, required.has(name), hints[name], container, onInput)] : [];
  });
}

function buildField(name: string, schema: Schema, kind: Kind, required: boolean, extraHint: string | undefined, container: HTMLElement, onInput: (field: Field) => void): Field {
  const id = `field-${name}`;
  const wrapper = el("div", kind === "boolean" ? "field check" : "field");
  const label = el("label", "", name);
  label.htmlFor = id;
  if (required) label.append(" ", el("span", "required", "(required)"));
  const control = controlFor(kind, schema);
  // No name: only the JSON box is submitted; fields edit its text.
  control.id = id;
  if (schema.default !== undefined && kind !== "boolean") control.setAttribute("placeholder", kind === "lines" && Array.isArray(schema.default) ? schema.default.join("\n") : String(schema.default));
  const hint = el("p", "hint", [hintFor(kind, schema), extraHint].filter(Boolean).join("; "));
  hint.id = `${id}-hint`;
  const error = el("p", "field-error");
  error.id = `${id}-error`;
  error.hidden = true;
  control.setAttribute("aria-describedby", `${hint.id} ${error.id}`);
  wrapper.append(...(kind === "boolean" ? [control, label] : [label, control]), hint, error);
  container.append(wrapper);
  const field: Field = {
    name,
    expects: EXPECTS[kind],
    read: () => check(readControl(kind, control), schema, kind, required),
    write: (value) => writeControl(kind, control, kind === "boolean" ? (value ?? schema.default) : value),
    holds: (value) =>
      (kind === "lines" && Array.isArray(value) && value.every((line) => typeof line === "string")) ||
      JSON.stringify(readControl(kind, control)) === JSON.stringify(value),
    showError: (message) => {
      error.hidden = !message;
      error.textContent = message ?? "";
      control.toggleAttribute("aria-invalid", Boolean(message));
    },
    focus: () => control.focus(),
  };
  control.addEventListener("input", () => onInput(field));
  return field;
}

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

function controlFor(kind: Kind, schema: Schema): Control {
  if (kind === "enum") {
    const select = el("select");
    for (const value of schema.enum as string[]) select.append(new Option(value, value));
    return select;
  }
  if (kind === "lines") {
    const area = el("textarea");
    area.rows = 4;
    return area;
  }
  const input = el("input");
  input.type = kind === "boolean" ? "checkbox" : kind === "integer" || kind === "number" ? "number" : "text";
  if (input.type === "number") {
    input.step = kind === "integer" ? "1" : "any";
    if (schema.minimum !== undefined) input.min = String(schema.minimum);
    if (schema.maximum !== undefined) input.max = String(schema.maximum);
  }
  return input;
}

function hintFor(kind: Kind, schema: Schema): string {
  const parts: string[] = [];
  if (kind === "lines") parts.push("One per line");
  if (kind === "string-or-number") parts.push("A number or text");
  if (kind === "duration") parts.push(`A duration: ${DURATION_FORMAT}; at most ${spanText(schema["x-duration"]!.maxMs)}`);
  if (schema.minimum !== undefined || schema.maximum !== undefined) parts.push(`${kind === "integer" ? "Whole number" : "Number"} from ${schema.minimum ?? "−∞"} to ${schema.maximum ?? "∞"}`);
  if (schema.default !== undefined) parts.push(`default ${JSON.stringify(schema.default)}`);
  return parts.join("; ");
}

function readControl(kind: Kind, control: Control): Json | undefined {
  if (kind === "boolean") return (control as HTMLInputElement).checked;
  const text = control.value.trim();
  if (kind === "lines") {
    const lines = control.value.split("\n").filter((line) => line.trim() !== "");
    return lines.length ? lines : undefined;
  }
  if (text === "") return undefined;
  if (kind === "integer" || kind === "number") return Number(text);
  if ((kind === "string-or-number" || kind === "duration") && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return kind === "string" ? control.value : text;
}

function writeControl(kind: Kind, control: Control, value: Json | undefined): void {
  if (kind === "boolean") (control as HTMLInputElement).checked = value === true;
  else if (kind === "lines") control.value = Array.isArray(value) ? value.join("\n") : "";
  else control.value = value === undefined || value === null ? "" : String(value);
}

function check(value: Json | undefined, schema: Schema, kind: Kind, required: boolean): { value?: Json; error?: string } {
  const error = valueProblem(value, schema, kind, required);
  return error ? { value, error } : { value };
}

/** What is wrong with a value for a property of this schema and kind, in the words the fields show. */
export function valueProblem(value: Json | undefined, schema: Schema, kind: Kind, required: boolean): string | undefined {
  if (value === undefined) return required ? "Required" : undefined;
  if (kind === "duration") return durationProblem(value, schema["x-duration"]!.maxMs);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return "Expected a number";
    if (kind === "integer" && !Number.isInteger(value)) return "Expected a whole number";
    if (schema.minimum !== undefined && value < schema.minimum) return `At least ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `At most ${schema.maximum}`;
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return `At least ${schema.minItems} lines`;
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return `At most ${schema.maxItems} lines`;
    const max = schema.items?.maxLength;
    // UTF-16 units, as the server's valibot counts them.
    if (max !== undefined && value.some((line) => typeof line === "string" && line.length > max)) return `At most ${max} characters a line`;
  }
  return undefined;
}

const DURATION_FORMAT = 'milliseconds, or a number and a unit such as "30 seconds"';

/** Read by the server's own parser, so the page refuses exactly what the server would. */
function durationProblem(value: Json, maxMs: number): string | undefined {
  const ms = typeof value === "number" || typeof value === "string" ? parseDuration(value) : null;
  if (ms === null) return `Expected a duration: ${DURATION_FORMAT}`;
  return ms > maxMs ? `At most ${spanText(maxMs)}` : undefined;
}
