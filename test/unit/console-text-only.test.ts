/**
 * The console renders what the index holds as text, never as markup: no source file of it uses
 * an API that parses HTML from a string, so no package name can become an element.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CONSOLE_SOURCE = fileURLToPath(new URL('../../../console/src/', import.meta.url));
const MARKUP_APIS = /\b(innerHTML|outerHTML|insertAdjacentHTML|createContextualFragment|DOMParser|document\.write|srcdoc)\b/;

test('no console source parses markup from a string', () => {
  const files = readdirSync(CONSOLE_SOURCE).filter((file) => file.endsWith('.ts'));
  assert.ok(files.length > 5, `console sources found in ${CONSOLE_SOURCE}`);
  const offenders = files
    .flatMap((file) =>
      readFileSync(path.join(CONSOLE_SOURCE, file), 'utf8')
        .split('\n')
        .map((line, index) => ({ file, line, index })),
    )
    .filter(({ line }) => MARKUP_APIS.test(line))
    .map(({ file, line, index }) => `${file}:${index + 1}: ${line.trim()}`);
  assert.deepEqual(offenders, []);
});
