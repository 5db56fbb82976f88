// The flags keruta-api's Node runs with: the `keruta-api` command's shebang carries them, and
// whatever starts dist/cli.js another way (tests, the bench, a container) passes the same.

/**
 * V8's young generation grows to 16 MB per semi-space under a sustained ingest, ~30 MB of RSS that
 * a log server spends better elsewhere: its garbage (the entries of one batch) dies young. Capped
 * at 4 MB, keruta-api's peak RSS while storing a 200,000-line burst fell from 194-204 to 176-182 MB
 * (idle 105-112 -> 95-98 MB) at the same ingest rate, within the run-to-run noise.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
