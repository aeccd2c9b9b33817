// `npm run dev` runs this first: a fresh clone gets a .dev.vars with random local secrets
// and an owner token, printed once. An existing .dev.vars is left as it is.
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const path = fileURLToPath(new URL("../.dev.vars", import.meta.url));
if (!existsSync(path)) {
  const random = () => randomBytes(32).toString("base64url");
  const token = random();
  writeFileSync(path, [
    "# Local development secrets, made by scripts/dev-vars.mjs; never committed or deployed.",
    `JOB_ID_SECRET=${random()}`,
    `JWT_SECRET=${random()}`,
    `API_TOKENS=dev=${token}`,
    "",
  ].join("\n"), { mode: 0o600 });
  console.log(`\nCreated .dev.vars with local secrets. Your owner token (owner "dev"):\n\n  ${token}\n\nSend it as: Authorization: Bearer ${token}\n`);
}
