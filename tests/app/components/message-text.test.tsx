// @vitest-environment happy-dom
import { cleanup, render } from '@testing-library/preact';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageText } from '../../../src/app/components/MessageText.tsx';
import { linkSegments, safeHref } from '../../../src/app/components/message-links.ts';

afterEach(cleanup);

function renderText(text: string): HTMLParagraphElement {
  const { container } = render(<MessageText text={text} />);
  return container.querySelector('p')!;
}

const links = (p: HTMLElement) => [...p.querySelectorAll('a')];

describe('message text', () => {
  it('lays out in the direction of its own script', () => {
    expect(renderText('שלום, מה נשמע?').getAttribute('dir')).toBe('auto');
    expect(renderText('مرحبا').getAttribute('dir')).toBe('auto');
  });

  it('makes http and https links clickable in a new tab that cannot reach back', () => {
    const p = renderText('see https://example.org/a?b=1#c and HTTP://Example.com/x.');
    const [a, b] = links(p);
    expect(links(p)).toHaveLength(2);
    expect(a!.getAttribute('href')).toBe('https://example.org/a?b=1#c');
    expect(a!.textContent).toBe('https://example.org/a?b=1#c');
    expect(a!.getAttribute('target')).toBe('_blank');
    expect(a!.getAttribute('rel')).toBe('noopener noreferrer');
    expect(b!.getAttribute('href')).toBe('http://example.com/x');
    expect(b!.textContent).toBe('HTTP://Example.com/x');
    expect(p.textContent).toBe('see https://example.org/a?b=1#c and HTTP://Example.com/x.');
  });

  it('keeps sentence punctuation out of a link but balanced parentheses in', () => {
    expect(linkSegments('(https://en.wikipedia.org/wiki/Petrel_(bird)).')).toEqual([
      { kind: 'text', text: '(' },
      { kind: 'link', text: 'https://en.wikipedia.org/wiki/Petrel_(bird)', href: 'https://en.wikipedia.org/wiki/Petrel_(bird)' },
      { kind: 'text', text: ').' },
    ]);
  });

  const hostile = [
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    ' javascript:alert(1)',
    'java\tscript:alert(1)',
    'java\nscript:alert(1)',
    '&#106;avascript:alert(1)',
    '&#x6A;avascript:alert(1)',
    'javascript&colon;alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'vbscript:msgbox(1)',
    'VBScript:msgbox(1)',
    'file:///etc/passwd',
    'FILE://c:/windows/win.ini',
    'blob:https://example.org/uuid',
    'ftp://example.org/file',
    'mailto:a@example.org',
    'xhttps://example.org',
    'javascript://https://example.org/%0aalert(1)',
    'https:javascript:alert(1)',
    'https://',
    'https:///nohost',
    'https:/\\evil.example',
    'https://\\evil.example',
    'https://bank.example@evil.example/login',
    'https://user:pass@example.org',
    '<a href="javascript:alert(1)">x</a>',
    '<img src=x onerror=alert(1)>',
  ];
  it.each(hostile)('leaves %j as plain text', (text) => {
    const p = renderText(text);
    expect(links(p)).toEqual([]);
    expect(p.querySelectorAll('*')).toHaveLength(0);
    expect(p.textContent).toBe(text);
  });

  it('never links anything but http(s), whatever precedes it', () => {
    const p = renderText('x javascript:alert(1) https://ok.example/ data:text/html,hi');
    expect(links(p).map((a) => a.getAttribute('href'))).toEqual(['https://ok.example/']);
  });

  it('decides with the URL parser: only http: and https: with a plain host pass', () => {
    expect(safeHref('https://example.org')).toBe('https://example.org/');
    expect(safeHref('https://[::1]:8443/x')).toBe('https://[::1]:8443/x');
    expect(safeHref('https://example.org:99999')).toBeUndefined();
    expect(safeHref('javascript:alert(1)')).toBeUndefined();
    expect(safeHref('https://a@b.example')).toBeUndefined();
  });

  it('property: the rendered text always equals the message text, and every link is http(s)', () => {
    const pieces = fc.constantFrom('https://', 'http://', 'HTTPS://', 'javascript:', 'data:', ' ', '\n', '(', ')', '.', ',', '<', '>', '"', '&#106;', 'example.org', '/', 'שלום', '@', ':');
    const text = fc.oneof(fc.string({ unit: 'binary' }), fc.array(fc.oneof(pieces, fc.string()), { maxLength: 12 }).map((a) => a.join('')));
    fc.assert(
      fc.property(text, (t) => {
        const p = renderText(t);
        const ok = p.textContent === t && links(p).every((a) => /^https?:\/\//u.test(a.getAttribute('href') ?? ''));
        cleanup();
        return ok;
      }),
      { numRuns: 300 },
    );
  });
});
