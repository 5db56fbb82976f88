// GET /tasks/{taskId}/compare's work: both logs read in order, cut into sections (`::group::`),
// the sections paired by name (and the gaps between them by position), and each pair diffed on
// normalised lines. The answer is written section by section as it is diffed.
import { groupNameOf, isGroupEnd, isGroupStart, type CompareLine, type CompareSection } from '@keruta/protocol';
import type { LogStore } from '@keruta/storage';
import { diffLines, type DiffStep } from './line-diff.js';
import { normaliseLine } from './normalize-line.js';

/** Unchanged lines kept either side of a change. */
const HUNK_CONTEXT = 3;
/** Entries per store read. */
const READ_CHUNK = 5000;
/** Most changed and context lines one answer holds; past it the answer says `truncated`. */
export const MAX_COMPARE_LINES = 20_000;

interface Line {
  seq: number;
  message: string;
  normalised: string;
}

interface Segment {
  /** null for lines outside any section. */
  name: string | null;
  key: string;
  lines: Line[];
}

/** Every line of the task, in seq order, cut into segments. */
export async function readSegments(store: LogStore, taskId: string): Promise<Segment[]> {
  const segments: Segment[] = [];
  const seen = new Map<string, number>();
  let current: Segment | undefined;
  const open = (name: string | null): Segment => {
    const base = name === null ? '\u0000outside' : name;
    const occurrence = seen.get(base) ?? 0;
    seen.set(base, occurrence + 1);
    const segment: Segment = { name, key: `${base}\u0000${occurrence}`, lines: [] };
    segments.push(segment);
    return segment;
  };
  let inSection = false;
  let afterSeq = 0;
  for (;;) {
    const { entries, scannedTo, done } = await store.readRange({ taskId, afterSeq, limit: READ_CHUNK });
    for (const entry of entries) {
      const { message } = entry;
      if (isGroupStart(message)) {
        current = open(groupNameOf(message));
        inSection = true;
      } else if (!inSection && current?.name !== null) {
        current = open(null);
      }
      (current as Segment).lines.push({ seq: entry.seq, message, normalised: normaliseLine(message) });
      if (inSection && isGroupEnd(message)) {
        inSection = false;
        current = undefined;
      }
    }
    if (done || scannedTo <= afterSeq) break;
    afterSeq = scannedTo;
  }
  return segments;
}

/** The sections of both logs, paired in the order of both (a diff of their keys). */
export function pairSegments(task: Segment[], other: Segment[]): { task?: Segment; other?: Segment }[] {
  const steps = diffLines(
    other.map((s) => s.key),
    task.map((s) => s.key),
  );
  return steps.map((step) => {
    const pair: { task?: Segment; other?: Segment } = {};
    if (step.b !== undefined) pair.task = task[step.b] as Segment;
    if (step.a !== undefined) pair.other = other[step.a] as Segment;
    return pair;
  });
}

/**
 * One section's comparison: its changed lines with HUNK_CONTEXT unchanged ones around them, the
 * other run's lines as `removed`, this run's as `added`. `budget` is how many lines it may hold.
 */
export function compareSection(pair: { task?: Segment; other?: Segment }, budget: number): { section: CompareSection; used: number } {
  const a = pair.other?.lines ?? [];
  const b = pair.task?.lines ?? [];
  const steps = diffLines(
    a.map((l) => l.normalised),
    b.map((l) => l.normalised),
  );
  let added = 0;
  let removed = 0;
  for (const step of steps) {
    if (step.op === 'added') added += 1;
    else if (step.op === 'removed') removed += 1;
  }
  const lines: CompareLine[] = [];
  let truncated = false;
  const keep = keptSteps(steps);
  let previous = -2;
  for (const i of keep) {
    if (lines.length >= budget) {
      truncated = true;
      break;
    }
    const step = steps[i] as DiffStep;
    const line: CompareLine = { op: step.op, text: step.b !== undefined ? (b[step.b] as Line).message : (a[step.a as number] as Line).message };
    if (step.b !== undefined) line.seq = (b[step.b] as Line).seq;
    if (step.a !== undefined) line.withSeq = (a[step.a] as Line).seq;
    if (i !== previous + 1 && lines.length > 0) line.gapBefore = true;
    previous = i;
    lines.push(line);
  }
  const section: CompareSection = {
    name: (pair.task ?? pair.other)?.name ?? null,
    inTask: pair.task !== undefined,
    inWith: pair.other !== undefined,
    taskLines: b.length,
    withLines: a.length,
    added,
    removed,
    lines,
  };
  if (truncated) section.truncated = true;
  return { section, used: lines.length };
}

/** The indexes of the steps shown: every change and HUNK_CONTEXT unchanged steps either side. */
function keptSteps(steps: readonly DiffStep[]): number[] {
  const kept: number[] = [];
  let lastKept = -1;
  for (let i = 0; i < steps.length; i += 1) {
    if ((steps[i] as DiffStep).op === 'same') continue;
    for (let j = Math.max(lastKept + 1, i - HUNK_CONTEXT); j <= i; j += 1) kept.push(j);
    lastKept = i;
    let after = i + 1;
    while (after < steps.length && after <= i + HUNK_CONTEXT && (steps[after] as DiffStep).op === 'same') {
      kept.push(after);
      lastKept = after;
      after += 1;
    }
  }
  return kept;
}
