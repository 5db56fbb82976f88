// The usage guide's own page script (its "HTML/CSS実装例"), verbatim except for the server's
// address, run on keruta-client's LogStreamingClient against a real server: the page code must
// work unchanged. A small stand-in for the DOM (not keruta code) holds what the script writes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createContext, runInContext, type Context } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '@keruta/testing';
import { LogStreamingClient, createRestClient } from '../src/index.js';
import { waitUntil } from './helpers.js';

const GUIDE_PATH = fileURLToPath(new URL('../../../docs/usage-guide.ja.md', import.meta.url));
const GUIDE_HOST = 'keruta-api:8080';

/** The `<script>` of the guide's ```html sample. */
function guidePage(): { html: string; script: string } {
  const guide = readFileSync(GUIDE_PATH, 'utf8');
  const html = /```html\n([\s\S]*?)\n```/.exec(guide)?.[1];
  const script = html === undefined ? undefined : /<script>([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (html === undefined || script === undefined) throw new Error(`no html sample with a <script> in ${GUIDE_PATH}`);
  return { html, script };
}

/** Just enough of an element for the guide's script: text, class, children, style, checkboxes. */
class PageElement {
  className = '';
  textContent = '';
  checked = false;
  scrollTop = 0;
  readonly style: Record<string, string> = {};
  readonly children: PageElement[] = [];
  appendChild(child: PageElement): PageElement {
    this.children.push(child);
    return child;
  }
  get scrollHeight(): number {
    return this.children.length * 20;
  }
  set innerHTML(value: string) {
    if (value !== '') throw new Error('the page only ever clears innerHTML');
    this.children.length = 0;
  }
}

/** Elements for every id and class the page's markup declares; `checked` from its attributes. */
function pageDocument(html: string, search: string) {
  const byId = new Map<string, PageElement>();
  const byClass = new Map<string, PageElement>();
  for (const match of html.matchAll(/<(\w+)([^>]*)>/g)) {
    const attributes = match[2] ?? '';
    const element = new PageElement();
    element.checked = /\schecked\b/.test(attributes);
    const id = /\sid="([^"]+)"/.exec(attributes)?.[1];
    const className = /\sclass="([^"]+)"/.exec(attributes)?.[1];
    if (id !== undefined) byId.set(id, element);
    if (className !== undefined) byClass.set(`.${className.split(' ')[0]}`, element);
  }
  const ready: (() => void)[] = [];
  const document = {
    getElementById: (id: string) => byId.get(id) ?? null,
    querySelector: (selector: string) => byClass.get(selector) ?? null,
    createElement: () => new PageElement(),
    addEventListener: (type: string, listener: () => void) => {
      if (type === 'DOMContentLoaded') ready.push(listener);
    },
  };
  return { document, window: { location: { search } }, byId, ready };
}

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server.close();
});

describe("the usage guide's page on LogStreamingClient", () => {
  it('shows live lines with level classes, source tags, timestamps and counters, and server errors', async () => {
    const { html, script } = guidePage();
    expect(script).toContain(`ws://${GUIDE_HOST}/ws/tasks`);
    const page = pageDocument(html, '?taskId=guide-page');
    const logged: unknown[][] = [];
    const context: Context = createContext({
      document: page.document,
      window: page.window,
      LogStreamingClient,
      URLSearchParams,
      console: { log: (...args: unknown[]) => logged.push(args), error: (...args: unknown[]) => logged.push(args), warn: (...args: unknown[]) => logged.push(args) },
    });
    runInContext(script.replaceAll(GUIDE_HOST, `127.0.0.1:${server.port}`), context);
    for (const listener of page.ready) listener();
    try {
      await waitUntil(() => logged.some((args) => args[0] === 'ログストリーミング購読開始:'), 'the page to be subscribed');
      const rest = createRestClient({ baseUrl: server.apiUrl });
      const posted = [
        { source: 'stdout', level: 'INFO', message: 'build started' },
        { source: 'stderr', level: 'WARN', message: 'deprecated flag' },
        { source: 'stdout', level: 'ERROR', message: 'test failed' },
        { source: 'agent', level: 'DEBUG', message: 'heartbeat' },
        { source: 'stdout', level: 'INFO', message: '<script>alert(1)</script><img src=x onerror=alert(2)>' },
      ] as const;
      for (const entry of posted) await rest.postLogs('guide-page', entry);
      const container = page.byId.get('logContainer') as PageElement;
      await waitUntil(() => container.children.length === posted.length, 'every line on the page');
      const stored = (await rest.getLogs('guide-page')).content;
      expect(container.children.map((child) => child.className)).toEqual(posted.map((entry) => `log-entry level-${entry.level}`));
      expect(container.children.map((child) => child.textContent)).toEqual(
        stored.map((entry) => `[${new Date(entry.timestamp).toLocaleTimeString()}] [${entry.source.toUpperCase()}] [${entry.level}] ${entry.message}`),
      );
      const counter = (id: string) => page.byId.get(id)?.textContent;
      expect([counter('totalLogs'), counter('infoCount'), counter('warnCount'), counter('errorCount')]).toEqual([5, 2, 1, 1]);
      expect(container.scrollTop).toBe(container.scrollHeight);

      // An error frame from the server reaches the page's handleError through the `error` event.
      runInContext("logClient.ws.send('not json')", context);
      await waitUntil(() => container.children.length === posted.length + 1, 'the error line');
      const errorLine = container.children[posted.length] as PageElement;
      expect(errorLine.className).toBe('log-entry level-ERROR');
      expect(errorLine.textContent).toMatch(/^\[ERROR\] .*JSON/);
    } finally {
      await (runInContext('logClient.disconnect()', context) as Promise<void>);
    }
  });
});
