// `keruta logs TASK --summary | --errors | --compare [OTHER]`: where a task broke, from the
// server's error index. --summary: counts, the first failure with the lines around it, and the
// sections with their status and duration; --errors: only the failures, each with the lines around
// it, windows apart by `--` (as grep -C); --compare: the lines that differ from another run (the
// last succeeded one by default) as a unified diff, section by section.
import type { Writable } from 'node:stream';
import type { CompareLine, LogEntry, LogGroup, TaskCompare, TaskLogSummary } from '@keruta/protocol';
import type { SummaryClient } from '../summary-client.js';
import { formatEntry, type EntryFormat } from './format.js';
import { safeText } from './safe-text.js';

export type FailureView = { kind: 'summary' } | { kind: 'errors' } | { kind: 'compare'; with: string | undefined };

export interface FailureViewOptions {
  readonly summaries: SummaryClient;
  readonly taskId: string;
  readonly view: FailureView;
  /** Lines before and after each failure. */
  readonly context: number | undefined;
  readonly format: EntryFormat;
  readonly out: Writable;
  notice(text: string): void;
}

const paint = (on: boolean, code: string, text: string): string => (on ? `\u001b[${code}m${text}\u001b[0m` : text);

export async function printFailureView(options: FailureViewOptions): Promise<void> {
  const { view } = options;
  if (view.kind === 'summary') return printSummary(options);
  if (view.kind === 'errors') return printErrors(options);
  return printCompare(options, view.with);
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A line of the log, marked `>` when it is a failure. */
function contextLine(entry: LogEntry, failing: boolean, format: EntryFormat): string {
  return `${failing ? paint(format.color, '31;1', '>') : ' '} ${String(entry.seq).padStart(6)} ${formatEntry(entry, format)}`;
}

function groupLine(group: LogGroup, color: boolean): string {
  const mark = group.status === 'failed' ? paint(color, '31', '✗') : group.status === 'open' ? paint(color, '36', '…') : paint(color, '32', '✓');
  const errors = group.errorCount === 0 ? '' : `  ${group.errorCount} error${group.errorCount === 1 ? '' : 's'}`;
  const name = safeText(group.name === '' ? '(unnamed)' : group.name, { colors: false, showControls: true }).text;
  return `  ${mark} ${name.padEnd(32)} ${seconds(group.durationMs).padStart(9)}  line ${group.startSeq}${errors}`;
}

async function printSummary({ summaries, taskId, context, format, out }: FailureViewOptions): Promise<void> {
  const summary: TaskLogSummary = await summaries.getSummary(taskId, context === undefined ? {} : { context });
  if (format.output === 'json') {
    out.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const { counts } = summary;
  const rows = [
    `${taskId}: ${summary.lastSeq} lines, ${counts.errors} error${counts.errors === 1 ? '' : 's'}, ${counts.annotations} ::error:: annotation${counts.annotations === 1 ? '' : 's'}; ${counts.groups} section${counts.groups === 1 ? '' : 's'}, ${counts.failedGroups} failed`,
  ];
  const first = summary.firstFailure;
  if (first === null) rows.push('no failure in the log');
  else {
    const section = summary.groups.find((g) => g.startSeq === first.groupSeq);
    rows.push(`first failure at line ${first.seq}${section === undefined ? '' : ` in section "${section.name}"`}:`);
    for (const entry of first.lines) rows.push(contextLine(entry, entry.seq === first.seq, format));
  }
  if (summary.groups.length > 0) {
    rows.push('sections:');
    for (const group of summary.groups) rows.push(groupLine(group, format.color));
    if (summary.nextGroupsAfter !== null) rows.push(`  … more sections after line ${summary.nextGroupsAfter}`);
  }
  out.write(`${rows.join('\n')}\n`);
}

async function printErrors({ summaries, taskId, context, format, out, notice }: FailureViewOptions): Promise<void> {
  let after: number | undefined;
  let windows = 0;
  for (;;) {
    const page = await summaries.getErrorContext(taskId, { ...(context === undefined ? {} : { context }), ...(after === undefined ? {} : { errorsAfter: after }) });
    const rows: string[] = [];
    for (const window of page.windows) {
      const failing = new Set(window.errors.map((e) => e.seq));
      if (format.output === 'json') {
        for (const entry of window.lines) rows.push(formatEntry(entry, format));
        continue;
      }
      if (windows > 0) rows.push(paint(format.color, '2', '--'));
      for (const entry of window.lines) rows.push(contextLine(entry, failing.has(entry.seq), format));
      windows += 1;
    }
    if (rows.length > 0) out.write(`${rows.join('\n')}\n`);
    if (page.nextErrorsAfter === null || (after !== undefined && page.nextErrorsAfter <= after)) break;
    after = page.nextErrorsAfter;
  }
  if (windows === 0 && format.output !== 'json') notice(`no failure in the log of ${taskId}`);
}

function diffLine(line: CompareLine, color: boolean): string {
  const text = safeText(line.text, { colors: false, showControls: true }).text;
  if (line.op === 'added') return paint(color, '32', `+${text}`);
  if (line.op === 'removed') return paint(color, '31', `-${text}`);
  return ` ${text}`;
}

async function printCompare({ summaries, taskId, format, out, notice }: FailureViewOptions, withTaskId: string | undefined): Promise<void> {
  const compare: TaskCompare = await summaries.compare(taskId, withTaskId === undefined ? {} : { with: withTaskId });
  if (format.output === 'json') {
    out.write(`${JSON.stringify(compare)}\n`);
    return;
  }
  const { color } = format;
  const rows = [paint(color, '1', `--- ${compare.withTaskId}`), paint(color, '1', `+++ ${taskId}`)];
  for (const section of compare.sections) {
    if (section.lines.length === 0) continue;
    const name = section.name === null ? '(outside sections)' : section.name;
    const where = !section.inWith ? ' (only in this run)' : !section.inTask ? ` (only in ${compare.withTaskId})` : '';
    rows.push(paint(color, '36', `@@ ${name}${where}: +${section.added} -${section.removed} @@`));
    for (const line of section.lines) {
      if (line.gapBefore === true) rows.push(paint(color, '2', '…'));
      rows.push(diffLine(line, color));
    }
    if (section.truncated === true) rows.push(paint(color, '2', '… (more changes than one answer holds)'));
  }
  out.write(`${rows.join('\n')}\n`);
  const { added, removed } = compare.totals;
  notice(
    added === 0 && removed === 0
      ? `no line differs from ${compare.withTaskId} (${compare.normalised.join(', ')} ignored)`
      : `${added} lines added and ${removed} removed against ${compare.withTaskId} (${compare.normalised.join(', ')} ignored)`,
  );
}
