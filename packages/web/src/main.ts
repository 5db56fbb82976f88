// The admin page: puts the log viewer, the live feed, the task list and the controls together.
// Everything about a line goes through the viewer; this file only wires the page's elements.
import './styles.css';
import { createRestClient, createSummaryClient, type ConnectionStateChange } from 'keruta-client';
import { LOG_LEVELS, LOG_SOURCES, type TaskSummary } from '@keruta/protocol';
import { renderConnection, type ConnectionView } from './connection-badge.js';
import { byId, element } from './dom.js';
import { setUpDownloads } from './downloads.js';
import { createCompareView } from './compare-view.js';
import { createFailureNav, type FailureNav } from './failure-nav.js';
import { createFailuresView } from './failures-view.js';
import { createFilterControls } from './filter-controls.js';
import { createLogViewer } from './log-viewer.js';
import { OLDER_CHUNK, createOlderHistory } from './older-history.js';
import { DEFAULT_TAIL, lineFromHash, readPageOptions, startForLine, type StartPoint } from './page-options.js';
import { createSearchBox } from './search-box.js';
import { createServerSearch } from './server-search.js';
import { installShortcuts } from './shortcuts.js';
import { startLiveFeed, type LiveFeed } from './live-feed.js';
import { createPendingLines } from './pending-lines.js';
import { createStatusView } from './status-view.js';
import { startTaskList } from './task-list.js';
import { setUpTaskSearch } from './task-search.js';
import { setStatusBadge } from './task-status.js';
import { applyTheme, cycleTheme, savedTheme, themeLabel, type ThemeChoice } from './theme.js';
import { saveToken, takeToken } from './token.js';

/** Most lines the page holds: about 230 MB of JS heap at 100-character lines (113 MB a million, measured). */
const MAX_LINES = 2_000_000;
/** Must match `--row-height` in styles.css. */
const ROW_HEIGHT = 20;

const options = readPageOptions(window.location);
const token = takeToken();
const taskId = options.taskId;
const rest = createRestClient(token === undefined ? {} : { token });
const summaries = createSummaryClient(token === undefined ? {} : { token });

let theme: ThemeChoice = options.theme ?? savedTheme();
applyTheme(theme);
const themeButton = byId<HTMLButtonElement>('themeBtn');
themeButton.title = themeLabel(theme);
themeButton.addEventListener('click', () => {
  theme = cycleTheme(theme);
  themeButton.title = themeLabel(theme);
});

document.title = `${taskId} · keruta`;
byId('taskId').textContent = options.invalidTaskId ?? taskId;

const container = byId('logContainer');
const autoScrollBox = byId<HTMLInputElement>('autoScroll');
const timestampBox = byId<HTMLInputElement>('showTimestamp');
const pauseButton = byId<HTMLButtonElement>('pauseBtn');
const resumeButton = byId<HTMLButtonElement>('resumeBtn');
const searchInput = byId<HTMLInputElement>('searchInput');
const searchCount = byId('searchCount');
const connectionBadge = byId('connection');
const statusBadge = byId('taskStatus');
const historyText = byId('historyText');
const olderButton = byId<HTMLButtonElement>('olderBtn');
const counterElements = {
  total: byId('totalLogs'),
  DEBUG: byId('debugCount'),
  INFO: byId('infoCount'),
  WARN: byId('warnCount'),
  ERROR: byId('errorCount'),
};

const connection: ConnectionView = { state: 'connecting', historyLoaded: false };
/** The end of the stored log when the subscription began: history is loaded once it is held. */
let historyEnd: number | undefined;
/** A line from the address (#L123) still to be shown once it arrives. */
let pendingLine = options.lineSeq;

/** What is made after the viewer that the viewer's callbacks use: the failure navigation, below. */
const late: { failures?: FailureNav } = {};
const viewer = createLogViewer({
  container,
  cap: MAX_LINES,
  rowHeight: ROW_HEIGHT,
  onChange: updateStatus,
  onTopReached() {
    if (connection.historyLoaded && older.state !== 'loading' && older.state !== 'failed') void older.load();
  },
  onAutoScrollChange(on) {
    autoScrollBox.checked = on;
  },
  onFirstRows() {
    performance.mark('keruta:first-lines');
  },
  onRowsDrawn: (firstLine) => late.failures?.drawn(firstLine),
  sectionInfo: (seq) => late.failures?.sectionInfo(seq),
});

const pendingElement = element('div', 'pending-lines');
pendingElement.id = 'pendingLines';
pendingElement.setAttribute('aria-label', 'Lines being written');
container.after(pendingElement);
// Shown for the sources the filter shows, as the stored lines are.
const pending = createPendingLines(pendingElement, (source) => ((viewer.rules.sourceMask >> LOG_SOURCES.indexOf(source)) & 1) === 1);

// The list, with the error minimap beside it and the sticky section header over it.
const logFrame = element('div', 'log-frame');
container.before(logFrame);
const stickySection = element('div', 'sticky-section');
stickySection.id = 'stickySection';
stickySection.hidden = true;
const minimap = element('canvas', 'error-minimap');
minimap.id = 'errorMinimap';
logFrame.append(container, stickySection, minimap);
const failures = createFailureNav({
  summaries,
  taskId,
  viewer,
  elements: { previous: byId('prevErrorBtn'), next: byId('nextErrorBtn'), position: byId('errorPosition'), minimap, sticky: stickySection },
  goToLine: (seq) => goToLine(seq),
});
late.failures = failures;

const older = createOlderHistory({ rest, taskId, viewer, onChange: updateStatus });
olderButton.addEventListener('click', () => void older.load());

const statusView = createStatusView({
  viewer,
  older,
  maxLines: MAX_LINES,
  container,
  elements: {
    counters: counterElements,
    waitingStat: byId('waitingStat'),
    waitingCount: byId('waitingCount'),
    viewNote: byId('viewNote'),
    searchCount,
    historyText,
    olderButton,
  },
});

function updateStatus(): void {
  const { store } = viewer;
  // Lines cleared away while the history was coming count as received.
  const received = Math.max(store.lastSeq, store.floorSeq);
  if (!connection.historyLoaded && historyEnd !== undefined && received >= historyEnd) {
    connection.historyLoaded = true;
    renderConnection(connectionBadge, connection);
  }
  if (pendingLine > 0 && store.lastSeq >= pendingLine) revealPendingLine();
  pending.refresh();
  statusView.update(connection.historyLoaded);
}

// --- The live feed -------------------------------------------------------------------------

let feed: LiveFeed | undefined;
/** Bumped for every feed started, so that events of a feed given up on are ignored. */
let feedGeneration = 0;

function startFeed(start: StartPoint): void {
  historyEnd = undefined;
  connection.historyLoaded = false;
  const mine = ++feedGeneration;
  feed = startLiveFeed({
    taskId,
    token,
    start,
    onEntries(entries) {
      if (mine !== feedGeneration) return;
      viewer.append(entries);
      pending.settle(entries);
      failures.noteEntries(entries);
    },
    onPartial(message) {
      if (mine === feedGeneration) pending.show(message);
    },
    onState(change: ConnectionStateChange) {
      if (mine !== feedGeneration) return;
      connection.state = change.state;
      if (change.attempt === undefined) delete connection.attempt;
      else connection.attempt = change.attempt;
      if (change.delayMs === undefined) delete connection.delayMs;
      else connection.delayMs = change.delayMs;
      if (change.state !== 'closed') delete connection.problem;
      else if (connection.problem === undefined && change.reason !== undefined) connection.problem = change.reason;
      renderConnection(connectionBadge, connection);
    },
    onSubscribed(message) {
      if (mine !== feedGeneration) return;
      historyEnd ??= message.lastSeq;
      updateStatus();
      renderConnection(connectionBadge, connection);
    },
    onTask(message) {
      if (message.status !== 'running') pending.clear();
      setStatusBadge(statusBadge, message);
      void taskList.refresh();
    },
    onError(message) {
      if (mine !== feedGeneration) return;
      connection.problem = `${message.code}: ${message.message}`;
      renderConnection(connectionBadge, connection);
    },
  });
}

/** Starts the view again from another place in the log (a line far from the lines held). */
function restartAt(start: StartPoint): void {
  feedGeneration += 1;
  void feed?.stop();
  feed = undefined;
  viewer.reset();
  pending.clear();
  older.reset();
  startFeed(start);
}

function revealPendingLine(): void {
  const seq = pendingLine;
  // Cleared first: revealing redraws, and a redraw comes back here through updateStatus.
  pendingLine = 0;
  let result = viewer.reveal(seq);
  if (result === 'filtered') {
    // The address names a line the filters hide: show everything rather than nothing.
    filters.set(LOG_SOURCES, LOG_LEVELS);
    result = viewer.reveal(seq);
  }
  // A line not held yet may still arrive (history still loading, or a line not written yet), and
  // one held but not shown yet (it came in this frame) is shown in the next.
  if (result === 'not-held' && (seq > viewer.store.lastSeq || viewer.store.indexOfSeq(seq) !== undefined)) pendingLine = seq;
}

/** Goes to line `seq`: at once when held, after loading older lines when close, else by starting there. */
async function goToLine(seq: number): Promise<void> {
  if (seq <= 0) return;
  const url = new URL(window.location.href);
  if (url.hash !== `#L${seq}`) {
    url.hash = `L${seq}`;
    window.history.replaceState(window.history.state, '', url.href);
  }
  const { store } = viewer;
  if (store.indexOfSeq(seq) !== undefined || seq > store.lastSeq) {
    pendingLine = seq;
    revealPendingLine();
    return;
  }
  if (seq < store.firstSeq && store.firstSeq - seq <= 2 * OLDER_CHUNK && seq > store.floorSeq) {
    while (store.firstSeq > seq && older.more && (await older.load()) > 0) {
      // Each load brings the next chunk of older lines; the loop stops at the line or the start.
    }
    pendingLine = seq;
    revealPendingLine();
    return;
  }
  pendingLine = seq;
  restartAt(startForLine(seq));
}

window.addEventListener('hashchange', () => void goToLine(lineFromHash(window.location.hash)));

// --- Controls --------------------------------------------------------------------------------

function setPaused(paused: boolean): void {
  viewer.setPaused(paused);
  // The usage guide's buttons: one shows while the other hides.
  pauseButton.hidden = paused;
  resumeButton.hidden = !paused;
}

byId('clearBtn').addEventListener('click', () => viewer.clear());
pauseButton.addEventListener('click', () => setPaused(true));
resumeButton.addEventListener('click', () => setPaused(false));
autoScrollBox.addEventListener('change', () => viewer.setAutoScroll(autoScrollBox.checked));
timestampBox.addEventListener('change', () => viewer.setShowTimestamp(timestampBox.checked));
byId('foldAllBtn').addEventListener('click', () => viewer.setAllFolded(true));
byId('unfoldAllBtn').addEventListener('click', () => viewer.setAllFolded(false));

const filters = createFilterControls({ sourceFilter: byId('sourceFilter'), levelFilter: byId('levelFilter'), viewer });
filters.set(options.sources, options.levels);

const searchBox = createSearchBox({
  input: searchInput,
  form: byId('searchForm'),
  next: byId('searchNext'),
  previous: byId('searchPrev'),
  viewer,
});
if (options.query !== '') searchBox.start(options.query);

const serverSearch = createServerSearch({
  rest,
  taskId,
  elements: {
    panel: byId('serverResults'),
    title: byId('serverResultsTitle'),
    list: byId<HTMLOListElement>('serverResultsList'),
    more: byId<HTMLButtonElement>('serverResultsMore'),
    close: byId<HTMLButtonElement>('serverResultsClose'),
  },
  onPick: (seq) => void goToLine(seq),
});
byId('serverSearchBtn').addEventListener('click', () => void serverSearch.run(searchInput.value));

const failuresView = createFailuresView({
  summaries,
  taskId,
  elements: {
    panel: byId('failuresPanel'),
    title: byId('failuresTitle'),
    list: byId('failuresList'),
    more: byId<HTMLButtonElement>('failuresMore'),
    close: byId<HTMLButtonElement>('failuresClose'),
    context: byId<HTMLInputElement>('failuresContext'),
  },
  onPick: (seq) => void goToLine(seq),
});
byId('failuresBtn').addEventListener('click', () => void failuresView.toggle());

const compareView = createCompareView({
  summaries,
  taskId,
  elements: {
    panel: byId('comparePanel'),
    title: byId('compareTitle'),
    list: byId('compareList'),
    close: byId<HTMLButtonElement>('compareClose'),
    withInput: byId<HTMLInputElement>('compareWith'),
    form: byId<HTMLFormElement>('compareForm'),
  },
  onPick: (seq) => void goToLine(seq),
});
byId('compareBtn').addEventListener('click', () => void compareView.toggle());

container.addEventListener('click', (event) => {
  const target = event.target as HTMLElement;
  if (target.closest('a') !== null) return;
  const header = target.closest<HTMLElement>('.group-header');
  const seq = Number(header?.dataset['seq']);
  if (header !== null && Number.isFinite(seq)) viewer.toggleGroup(seq);
});

setUpDownloads({
  rest,
  taskId,
  token,
  links: { json: byId('downloadJson'), csv: byId('downloadCsv'), txt: byId('downloadTxt') },
});

// --- Task list and status ----------------------------------------------------------------------

function showSummary(summary: TaskSummary): void {
  setStatusBadge(statusBadge, summary);
}

const taskList = startTaskList({
  rest,
  currentTaskId: taskId,
  list: byId<HTMLUListElement>('taskList'),
  count: byId('taskCount'),
  error: byId('taskListError'),
  onCurrent: showSummary,
});

setUpTaskSearch({
  rest,
  form: byId<HTMLFormElement>('taskSearchForm'),
  input: byId<HTMLInputElement>('taskSearchInput'),
  results: byId<HTMLUListElement>('taskSearchResults'),
  status: byId('taskSearchStatus'),
});

rest.getTask(taskId).then(showSummary, () => {
  // A task without lines yet is TASK_NOT_FOUND: it shows as waiting until its first line.
  setStatusBadge(statusBadge, undefined);
});

const taskPanel = byId('taskPanel');
const tasksToggle = byId<HTMLButtonElement>('tasksToggle');
tasksToggle.addEventListener('click', () => {
  taskPanel.hidden = !taskPanel.hidden;
  tasksToggle.setAttribute('aria-expanded', String(!taskPanel.hidden));
});

// --- Token, help, shortcuts ------------------------------------------------------------------

const tokenDialog = byId<HTMLDialogElement>('tokenDialog');
const tokenInput = byId<HTMLInputElement>('tokenInput');
byId('tokenBtn').addEventListener('click', () => {
  tokenInput.value = token ?? '';
  tokenDialog.showModal();
});
tokenDialog.addEventListener('close', () => {
  const choice = tokenDialog.returnValue;
  if (choice === 'save' && tokenInput.value !== '' && tokenInput.value !== token) saveToken(tokenInput.value);
  else if (choice === 'clear' && token !== undefined) saveToken(undefined);
  else return;
  // Every connection and request of the page takes the token at start: start again with it.
  window.location.reload();
});

const helpDialog = byId<HTMLDialogElement>('helpDialog');
byId('helpBtn').addEventListener('click', () => helpDialog.showModal());

installShortcuts({
  focusSearch() {
    searchInput.focus();
    searchInput.select();
  },
  // With a search, n and N move between its matches; without one, between the log's errors.
  nextMatch: () => (viewer.search.pattern !== undefined ? viewer.nextMatch(1) : void failures.go(1)),
  previousMatch: () => (viewer.search.pattern !== undefined ? viewer.nextMatch(-1) : void failures.go(-1)),
  togglePause: () => setPaused(!viewer.paused),
  top: () => viewer.goTop(),
  bottom: () => viewer.goBottom(),
  toggleTimestamps() {
    timestampBox.checked = !timestampBox.checked;
    viewer.setShowTimestamp(timestampBox.checked);
  },
  foldAll: () => viewer.setAllFolded(true),
  unfoldAll: () => viewer.setAllFolded(false),
  help: () => helpDialog.showModal(),
  escape() {
    if (document.activeElement === searchInput) {
      searchInput.blur();
      container.focus();
    }
  },
});

// --- Start -----------------------------------------------------------------------------------

/**
 * Where a failed task opens: at its first failure, its section unfolded and the line marked,
 * unless the address names a place (#L123, since, tail). A failure within the default tail is
 * reached in the tail; one further back starts the view there, as a line link does.
 */
async function openingStart(): Promise<StartPoint> {
  const params = new URLSearchParams(window.location.search);
  if (options.lineSeq > 0 || params.has('since') || params.has('tail')) {
    void failures.load();
    return options.start;
  }
  const [summary, task] = await Promise.all([failures.load(), rest.getTask(taskId).catch(() => undefined)]);
  const first = summary?.firstFailure;
  if (first === null || first === undefined || task?.status !== 'failed') return options.start;
  pendingLine = first.seq;
  return summary !== undefined && summary.lastSeq - first.seq < DEFAULT_TAIL ? options.start : startForLine(first.seq);
}

updateStatus();
if (options.invalidTaskId === undefined) {
  renderConnection(connectionBadge, connection);
  void openingStart().then((start) => startFeed(start));
} else {
  connection.state = 'closed';
  connection.problem = `INVALID_TASK_ID: ${JSON.stringify(options.invalidTaskId)} is not a task id`;
  renderConnection(connectionBadge, connection);
}
