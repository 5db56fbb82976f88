// Copies the admin page's build (packages/web/dist) into keruta-api's own package
// (packages/server/admin-page), which keruta-api serves at `/` and its tarball ships, so that an
// installed keruta-api needs no keruta-web. Run by keruta-web's `npm run build`, after Vite.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const from = fileURLToPath(new URL('../packages/web/dist', import.meta.url));
const to = fileURLToPath(new URL('../packages/server/admin-page', import.meta.url));

if (!existsSync(`${from}/index.html`)) {
  process.stderr.write(`copy-admin-page: ${from}/index.html is missing: build the page first (npm run build -w keruta-web)\n`);
  process.exit(1);
}
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
