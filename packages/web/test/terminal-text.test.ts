// Terminal output as the page reads it: SGR styles (vitest's and jest's badges, conceal, inverse),
// OSC 8 hyperlinks (http and https only), the sequences a terminal does not print, backspace, and
// the other control characters as caret glyphs.
import { describe, expect, it } from 'vitest';
import { ansiSegments, hasControls, printedText } from '../src/ansi-segments.js';
import { stripAnsi } from '../src/line-markers.js';

const ESC = '\u001b';
const ST = `${ESC}\\`;
const BEL = '\u0007';

describe('SGR styles', () => {
  it("leaves vitest's ` FAIL ` on red and ` PASS ` on green on the default foreground, bold", () => {
    expect(ansiSegments(`${ESC}[41m${ESC}[1m FAIL ${ESC}[22m${ESC}[49m src/a.test.ts`)).toEqual([
      { text: ' FAIL ', style: { bg: 'var(--ansi-red-bg)', bold: true } },
      { text: ' src/a.test.ts' },
    ]);
    expect(ansiSegments(`${ESC}[42m${ESC}[1m PASS ${ESC}[22m${ESC}[49m`)).toEqual([{ text: ' PASS ', style: { bg: 'var(--ansi-green-bg)', bold: true } }]);
  });

  it("swaps the colours under inverse (SGR 7, jest's badges), the defaults included, until 27", () => {
    // chalk.reset.inverse.bold.red(' FAIL ')
    expect(ansiSegments(`${ESC}[0m${ESC}[7m${ESC}[1m${ESC}[31m FAIL ${ESC}[39m${ESC}[22m${ESC}[27m${ESC}[0m x`)).toEqual([
      { text: ' FAIL ', style: { fg: 'var(--log-bg)', bg: 'var(--ansi-red)', bold: true } },
      { text: ' x' },
    ]);
    expect(ansiSegments(`${ESC}[7mrev${ESC}[27m${ESC}[33;44minv${ESC}[7mx`)).toEqual([
      { text: 'rev', style: { fg: 'var(--log-bg)', bg: 'var(--log-fg)' } },
      { text: 'inv', style: { fg: 'var(--ansi-yellow)', bg: 'var(--ansi-blue-bg)' } },
      { text: 'x', style: { fg: 'var(--ansi-blue-bg)', bg: 'var(--ansi-yellow)' } },
    ]);
  });

  it("lifts the background under black text on a colour (ls's 30;42), so that black reads on the dark theme's deep shades", () => {
    expect(ansiSegments(`${ESC}[30;42mshared${ESC}[0m`)).toEqual([
      { text: 'shared', style: { fg: 'var(--ansi-black-on-colour)', bg: 'color-mix(in srgb, var(--ansi-green-bg), white var(--ansi-lift-under-black))' } },
    ]);
  });

  it('hides concealed text (SGR 8) as blanks of its length, in the row and in the search text, until 28', () => {
    const line = `password: ${ESC}[8mhunter2${ESC}[28m ok ${ESC}[8msecret${ESC}[0m!`;
    expect(ansiSegments(line)).toEqual([{ text: 'password: ' }, { text: '       ' }, { text: ' ok ' }, { text: '      ' }, { text: '!' }]);
    expect(printedText(line)).toBe('password:         ok       !');
    expect(stripAnsi(line)).not.toContain('hunter2');
  });

  it('reads the 16, 256 and true colours, in their semicolon and colon forms, and the other styles', () => {
    expect(ansiSegments(`a${ESC}[1;31mred${ESC}[0m${ESC}[38;5;21mpal${ESC}[48;2;1;2;3mtc${ESC}[0m`)).toEqual([
      { text: 'a' },
      { text: 'red', style: { fg: 'var(--ansi-red)', bold: true } },
      { text: 'pal', style: { fg: 'rgb(0, 0, 255)' } },
      { text: 'tc', style: { fg: 'rgb(0, 0, 255)', bg: 'rgb(1, 2, 3)' } },
    ]);
    expect(ansiSegments(`${ESC}[38;5;9mb${ESC}[38:2::10:20:30;48:5:232mc${ESC}[39;49;2;3;4;9md${ESC}[22;23;24;29m${ESC}[4:3mu${ESC}[4:0me${ESC}[97;100mf`)).toEqual([
      { text: 'b', style: { fg: 'var(--ansi-bright-red)' } },
      { text: 'c', style: { fg: 'rgb(10, 20, 30)', bg: 'rgb(8, 8, 8)' } },
      { text: 'd', style: { dim: true, italic: true, underline: true, strikethrough: true } },
      { text: 'u', style: { underline: true } },
      { text: 'e' },
      { text: 'f', style: { fg: 'var(--ansi-bright-white)', bg: 'var(--ansi-bright-black-bg)' } },
    ]);
    // `ESC[m` resets; private sequences such as xterm's `ESC[>4;2m` are not styles.
    expect(ansiSegments(`${ESC}[31mr${ESC}[mn${ESC}[>4;2mx`)).toEqual([{ text: 'r', style: { fg: 'var(--ansi-red)' } }, { text: 'nx' }]);
  });
});

describe('OSC 8 hyperlinks', () => {
  it('link the text between `ESC]8;;URL ST` and `ESC]8;; ST`, in the ST and the BEL form, across style changes', () => {
    const segments = ansiSegments(`see ${ESC}]8;;https://example.com/a?b=1${ST}the ${ESC}[1mdocs${ESC}[0m${ESC}]8;;${ST} and ${ESC}]8;id=x;http://h.test/${BEL}h${ESC}]8;;${BEL}.`);
    expect(segments.map((s) => [s.text, s.link?.href])).toEqual([
      ['see ', undefined],
      ['the ', 'https://example.com/a?b=1'],
      ['docs', 'https://example.com/a?b=1'],
      [' and ', undefined],
      ['h', 'http://h.test/'],
      ['.', undefined],
    ]);
    // One link, one object: the row makes one <a> of its runs.
    expect(segments[1]?.link).toBe(segments[2]?.link);
  });

  it('keep the text but make no link for any other scheme, or an address that is not absolute', () => {
    for (const uri of ['javascript:alert(1)', 'JavaScript:alert(1)', ' javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'file:///etc/passwd', 'vbscript:x', '/relative', 'not a url']) {
      const segments = ansiSegments(`${ESC}]8;;${uri}${ST}click <img src=x onerror=alert(1)>${ESC}]8;;${ST}`);
      expect(segments).toEqual([{ text: 'click <img src=x onerror=alert(1)>' }]);
    }
    // Markup in an http address is only ever part of the address, escaped by the URL parser.
    const [link] = ansiSegments(`${ESC}]8;;https://e.test/"><img src=x onerror=alert(1)>${ST}x${ESC}]8;;${ST}`);
    expect(link?.link?.href).toBe('https://e.test/%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E');
  });
});

describe('sequences a terminal does not print', () => {
  it('removes titles (OSC 0, 2), other OSC, DCS, APC, PM and SOS strings, and cursor, erase and mode sequences', () => {
    const line = `${ESC}]0;my title${BEL}${ESC}]2;other${ST}${ESC}]133;A${ST}${ESC}Pq#0;2;0;0;0${ST}${ESC}_Gapc${ST}${ESC}^pm${ST}${ESC}Xsos${ST}a${ESC}[K${ESC}[2J${ESC}[1A${ESC}[?25l${ESC}[10;20H${ESC}[2K${ESC}[1Gb${ESC}7${ESC}8${ESC}(Bc${ESC}=`;
    expect(ansiSegments(line)).toEqual([{ text: 'abc' }]);
    expect(stripAnsi(`${ESC}[2K${ESC}[1G${ESC}[32mok${ESC}[0m ${ESC}]0;title${BEL}done`)).toBe('ok done');
  });

  it('swallows an unterminated string to the end of the line, as a terminal would, and a lone ESC', () => {
    expect(printedText(`kept ${ESC}]0;title that never ends`)).toBe('kept ');
    expect(printedText(`kept${ESC}`)).toBe('kept');
    expect(printedText(`a${ESC}[12`)).toBe('a');
  });

  it('applies backspace to the character before it, across runs, and drops one with nothing before it', () => {
    expect(printedText('\bab\bc')).toBe('ac');
    expect(printedText('_\bX bold: X\bX')).toBe('X bold: X');
    expect(printedText('50%\b\b\b75%')).toBe('75%');
    expect(ansiSegments(`${ESC}[31mab${ESC}[0m\bc`)).toEqual([{ text: 'a', style: { fg: 'var(--ansi-red)' } }, { text: 'c' }]);
    expect(printedText('emoji \u{1f600}\b!')).toBe('emoji !');
  });

  it('shows BEL, DEL, NUL, other C0 and C1 controls as caret glyphs that name them, and drops a CRLF ending', () => {
    expect(ansiSegments(`ding${BEL} del\u007f nul\u0000 csi\u009b lf\n end\r\n`.replace(/\n$/, ''))).toEqual([
      { text: 'ding' },
      { text: '^G', control: 'BEL, U+0007' },
      { text: ' del' },
      { text: '^?', control: 'DEL, U+007F' },
      { text: ' nul' },
      { text: '^@', control: 'NUL, U+0000' },
      { text: ' csi' },
      { text: 'M-^[', control: 'CSI, U+009B' },
      { text: ' lf' },
      { text: '^J', control: 'LF, U+000A' },
      { text: ' end' },
    ]);
    expect(printedText('a\tb')).toBe('a\tb');
  });

  it('starts the line again at a carriage return inside it (a redrawn progress bar), keeping the style, as keruta-agent does', () => {
    expect(printedText('10%\r50%\r100% done')).toBe('100% done');
    expect(ansiSegments(`${ESC}[32m10%\r100%${ESC}[0m ok`)).toEqual([{ text: '100%', style: { fg: 'var(--ansi-green)' } }, { text: ' ok' }]);
  });

  it('knows which lines need reading at all: escapes and controls, not tabs or plain text', () => {
    expect(hasControls('plain text\twith a tab, <b>, ü and 😀')).toBe(false);
    expect(hasControls(`x${ESC}[0m`)).toBe(true);
    expect(hasControls(`x${BEL}`)).toBe(true);
    expect(hasControls('x\u0085')).toBe(true);
    expect(ansiSegments('plain <b>')).toEqual([{ text: 'plain <b>' }]);
  });

  it('gives the search the same text the row shows, the usual line through one replace', () => {
    const lines = [
      `${ESC}[41m${ESC}[1m FAIL ${ESC}[22m${ESC}[49m a.test.ts ${ESC}[2m(12 ms)${ESC}[22m`,
      `${ESC}[0m${ESC}[01;34mdocs${ESC}[0m  ${ESC}[01;32mbuild.sh${ESC}[0m  README.md`,
      `a${ESC}]0;t${ST}b`,
      `a${ESC}]0;unterminated`,
      `${ESC}[38;5;8mgrey${ESC}[0m`,
      `${ESC}[8mhidden${ESC}[0m shown`,
      `x${ESC}(By${ESC}[?25l`,
      `${ESC}Pdcs${ST}z`,
      `a${ESC}`,
      `${ESC}]8;;https://x.test/${BEL}l${ESC}]8;;${BEL}`,
      'b\bc',
      `${ESC}[2Kz\r`,
      `\u202e${ESC}[1mrtl`,
    ];
    for (const line of lines) expect(stripAnsi(line), JSON.stringify(line)).toBe(printedText(line));
  });
});
