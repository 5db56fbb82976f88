// The agent's garbage is short-lived (the lines of one stretch of output), so its young generation
// stays at its initial size instead of doubling up to 16 MB per semi-space: a 50 MB burst then
// fits in the RSS budget at no measurable cost in speed.
import { setFlagsFromString } from 'node:v8';

/**
 * Call before anything big is loaded (loading the protocol package alone grows the young
 * generation to 8 MB), and again once a worker thread is online: starting one resets V8's flags.
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
