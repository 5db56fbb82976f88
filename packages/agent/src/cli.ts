#!/usr/bin/env node
// The `keruta-agent` command (commands.ts), loaded once the heap is set up (heap.ts).
import { keepYoungGenerationSmall } from './run/heap.js';

keepYoungGenerationSmall();
await import('./run/commands.js');
