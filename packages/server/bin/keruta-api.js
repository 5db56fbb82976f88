#!/usr/bin/env -S node --max-semi-space-size=4
// The `keruta-api` command. It lives outside dist/ so that `npm ci` can link it before the
// first build (npm skips a bin whose file does not exist yet); the program is dist/cli.js.
// The shebang's flags are NODE_FLAGS (src/node-flags.ts); a test keeps the two the same.
import '../dist/cli.js';
