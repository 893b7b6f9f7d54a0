#!/usr/bin/env node
// The installed command: runs the compiled CLI in dist/, which `npm run build` writes (`npm install`
// runs it through `prepare`; a packed tarball ships it). `npm run cli -- <command>` runs the
// TypeScript sources instead.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    `access-bot: not built yet; run "npm run build" in ${fileURLToPath(new URL('..', import.meta.url))}\n`,
  );
  process.exit(2);
}
await import(main.href);
