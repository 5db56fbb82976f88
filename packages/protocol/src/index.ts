// The public entry of @keruta/protocol: the data model, messages, error codes and validators.
export * from './errors.js';
export * from './retry.js';
export * from './log-entry.js';
export * from './rest.js';
export * from './messages.js';
export * from './truncation.js';
export * from './validate.js';
export * from './terminal-line.js';
export * from './log-summary.js';
