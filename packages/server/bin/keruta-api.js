#!/usr/bin/env node
// The `keruta-api` command. It lives outside dist/ so that `npm ci` can link it before the
// first build (npm skips a bin whose file does not exist yet); the program is dist/cli.js.
import '../dist/cli.js';
