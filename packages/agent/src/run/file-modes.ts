// What the agent writes to disk holds the script's output (and, until it is masked, no secret):
// readable by its user only, in directories only its user can enter.

export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;
