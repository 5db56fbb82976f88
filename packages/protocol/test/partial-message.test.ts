import { describe, expect, it } from 'vitest';
import { ClientMessageSchemas, ServerMessageSchemas, SubscribeOptionsSchema } from '../src/messages.js';
import { createValidator, parseClientMessage } from '../src/validate.js';

const partial = {
  type: 'partial',
  taskId: 't1',
  source: 'stdout',
  runId: '0b6f0c5e-8f4e-4c1a-9a53-2f4d1f7b8e11',
  lineNumber: 3,
  text: 'progress 50%',
  timestamp: '2026-01-01T00:00:00.000Z',
};

describe('partial messages', () => {
  it('parses an agent partial with its source, runId, lineNumber, text and timestamp', () => {
    expect(parseClientMessage(JSON.stringify(partial))).toEqual(partial);
    const { taskId: _taskId, ...onTaskPath } = partial;
    expect(parseClientMessage(JSON.stringify(onTaskPath))).toEqual(onTaskPath);
  });

  it('refuses a partial of the agent source, without a lineNumber, or with a text that is not a string, naming the field', () => {
    const refused = (value: unknown): string => {
      try {
        parseClientMessage(JSON.stringify(value));
      } catch (error) {
        return `${(error as { code: string }).code} ${(error as Error).message}`;
      }
      return 'accepted';
    };
    expect(refused({ ...partial, source: 'agent' })).toBe('INVALID_MESSAGE_FORMAT source: must be one of stdout, stderr');
    const { lineNumber: _lineNumber, ...noLine } = partial;
    expect(refused(noLine)).toBe('INVALID_MESSAGE_FORMAT lineNumber: is required');
    expect(refused({ ...partial, lineNumber: 0 })).toMatch(/^INVALID_MESSAGE_FORMAT lineNumber: /);
    expect(refused({ ...partial, text: 5 })).toMatch(/^INVALID_MESSAGE_FORMAT text: /);
    expect(refused({ ...partial, runId: '' })).toMatch(/^INVALID_MESSAGE_FORMAT runId: /);
  });

  it('has one shape for the subscriber: the same fields with the taskId required', () => {
    const isPartial = createValidator(ServerMessageSchemas.partial);
    expect(isPartial.check(partial)).toBe(true);
    const { taskId: _taskId, ...withoutTask } = partial;
    expect(isPartial.explain(withoutTask)).toBe('taskId: is required');
    expect(Object.keys(ServerMessageSchemas.partial.properties).sort()).toEqual(Object.keys(ClientMessageSchemas.partial.properties).sort());
  });

  it('is asked for with subscribe options.partial: true', () => {
    const options = createValidator(SubscribeOptionsSchema);
    expect(options.check({ partial: true })).toBe(true);
    expect(options.check({})).toBe(true);
    expect(options.explain({ partial: 'yes' })).toMatch(/^partial: /);
  });
});
