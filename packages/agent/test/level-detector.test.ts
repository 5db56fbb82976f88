import { describe, expect, it } from 'vitest';
import { detectLevel } from '../src/level-detector.js';

describe('level detector', () => {
  it.each([
    ['{"level":"warn","msg":"disk almost full"}', 'WARN'],
    ['{"level": "ERROR", "msg": "x"}', 'ERROR'],
    ['{"time":1,"level":10,"msg":"pino trace"}', 'DEBUG'],
    ['{"level":20,"msg":"pino debug"}', 'DEBUG'],
    ['{"level":30,"msg":"pino info"}', 'INFO'],
    ['{"level":40,"msg":"pino warn"}', 'WARN'],
    ['{"level":50,"msg":"pino error"}', 'ERROR'],
    ['{"level":60,"msg":"pino fatal"}', 'ERROR'],
    ['{"msg":"no level here"}', 'INFO'],
    ['ERROR: connection refused', 'ERROR'],
    ['FATAL crash', 'ERROR'],
    ['Error: ENOENT', 'ERROR'],
    ['WARN low memory', 'WARN'],
    ['WARNING: deprecated', 'WARN'],
    ['DEBUG x=1', 'DEBUG'],
    ['TRACE enter', 'DEBUG'],
    ['[ERROR] failed', 'ERROR'],
    ['[2024-05-01 12:00:00] [WARN] slow', 'WARN'],
    ['[ debug ] verbose', 'DEBUG'],
    ['2024-05-01 12:00:00,123 ERROR [main] boom', 'ERROR'],
    ['2024-05-01T12:00:00Z WARN slow query', 'WARN'],
    ['time=2024-05-01 level=error msg=boom', 'ERROR'],
    ['level=warn msg="slow"', 'WARN'],
    ['hello world', 'INFO'],
    ['Debugger attached', 'INFO'],
    ['Errors: 0', 'INFO'],
    ['0000001 xxxxxxxx', 'INFO'],
    ['see [ERRORS] below', 'INFO'],
    ['', 'INFO'],
  ])('%j is %s', (line, level) => {
    expect(detectLevel(line)).toBe(level);
  });
});
