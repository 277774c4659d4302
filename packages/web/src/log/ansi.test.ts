import { describe, expect, it } from 'vitest';
import { ansiToHtml, MAX_SHOWN_CHARACTERS } from './ansi.ts';

describe('ansiToHtml', () => {
  it('turns colours into classes and escapes the text', () => {
    const html = ansiToHtml('\x1b[31m<b>fail</b> & \x1b[0mok');
    expect(html).toContain('class="ansi-red-fg"');
    expect(html).toContain('&lt;b&gt;fail&lt;/b&gt; &amp; ');
    expect(html).not.toContain('<b>');
    expect(html.endsWith('ok')).toBe(true);
  });

  it('does not carry a colour from one line to the next', () => {
    expect(ansiToHtml('\x1b[32mgreen, never reset')).toContain('ansi-green-fg');
    expect(ansiToHtml('plain')).toBe('plain');
  });

  it('cuts a huge line and says how much is left out', () => {
    const html = ansiToHtml('x'.repeat(MAX_SHOWN_CHARACTERS + 5));
    expect(html).toContain('… 5 more characters');
  });
});
