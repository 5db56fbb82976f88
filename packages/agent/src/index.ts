// The public entry of keruta-agent for programs that embed it; the command itself is cli.ts.
export { loadConfig, SETTINGS, type AgentConfig, type LoadConfigInput, type LoadedConfig } from './config.js';
export { createAgentLog, type AgentLog } from './agent-log.js';
export { execute, type ExecuteOptions } from './run/execute.js';
export { runFlush } from './deliver/flush.js';
export { detectLevel } from './process/level-detector.js';
