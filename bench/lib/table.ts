// Markdown tables: readable in a terminal and pasted as-is into README.md.

export type Cell = string | number | boolean | null;

function text(cell: Cell): string {
  if (cell === null || (typeof cell === "number" && Number.isNaN(cell))) return "–";
  if (typeof cell === "boolean") return cell ? "yes" : "no";
  if (typeof cell === "number") return Number.isInteger(cell) ? cell.toLocaleString("en-US") : cell.toFixed(1);
  return cell;
}

export function markdownTable(header: string[], rows: Cell[][]): string {
  const cells = [header, ...rows.map((row) => row.map(text))];
  const widths = header.map((_, col) => Math.max(...cells.map((row) => row[col]!.length)));
  const numeric = header.map((_, col) => rows.length > 0 && rows.every((row) => typeof row[col] === "number" || row[col] === null));
  const line = (row: string[]) => `| ${row.map((cell, col) => (numeric[col] ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!))).join(" | ")} |`;
  const rule = `|${widths.map((width, col) => (numeric[col] ? `${"-".repeat(width + 1)}:` : "-".repeat(width + 2))).join("|")}|`;
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join("\n");
}
