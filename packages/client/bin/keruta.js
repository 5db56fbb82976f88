#!/usr/bin/env node
// The `keruta` command (`keruta logs`, `keruta tasks`). It lives outside dist/ so that `npm ci`
// can link it before the first build (npm skips a bin whose file does not exist yet).
import '../dist/cli.js';
