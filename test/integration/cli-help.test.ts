/**
 * What `--help` and `--version` print: each command's help lists exactly the options of the table
 * its arguments are parsed with, each with its meaning and default; serve's also each variable.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { COMMANDS } from '../../src/cli/commands.js';
import { SETTINGS } from '../../src/config.js';
import { assertOneLine, run } from '../helpers/run-cli.js';

/** The options an option list of `--help` names: lines that start with two spaces and `--`. */
function optionsInHelp(help: string): string[] {
  return [...help.matchAll(/^ {2}--([a-z][a-z0-9-]*)/gm)].map((match) => match[1] ?? '');
}

describe('package-indexer help and version', () => {
  for (const command of COMMANDS) {
    test(`${command.name} --help lists exactly the options its parseArgs accepts, each with its meaning and default`, async (t) => {
      const result = await run(t, [command.name, '--help']);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(optionsInHelp(result.stdout).sort(), Object.keys(command.options).sort());
      for (const [name, doc] of Object.entries(command.options)) {
        const entry =
          result.stdout
            .slice(result.stdout.indexOf(`  --${name}`))
            .split(/\n {2}--/)[0]
            ?.replace(/\s+/g, ' ') ?? '';
        assert.ok(entry.includes(doc.meaning), `--${name}: ${entry}`);
        if (doc.default !== undefined) assert.ok(entry.includes(`default: ${doc.default}`), `--${name}: ${entry}`);
      }
    });
  }

  test('serve --help gives every setting its variable, its choices and its default', async (t) => {
    const result = await run(t, ['serve', '--help']);
    const entries = result.stdout.replace(/\s+/g, ' ');
    for (const setting of SETTINGS) {
      assert.ok(entries.includes(`[${setting.env}]`), setting.env);
      assert.ok(entries.includes(`default: ${setting.defaultText}`), setting.flag);
      if (setting.choices !== undefined) assert.ok(entries.includes(`one of: ${setting.choices.join(', ')}`), setting.flag);
    }
    assert.ok(entries.includes('one of: always, normal'));
    assert.ok(!entries.includes('default: ""'), 'an empty default is said in words');
  });

  test('a command refuses an option its help does not list, exiting 2', async (t) => {
    for (const command of COMMANDS) {
      const result = await run(t, [command.name, '--no-such-option']);
      assert.equal(result.code, 2, command.name);
      assertOneLine(result.stderr);
    }
  });

  test('--version and -v print the version in package.json and exit 0', async (t) => {
    const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const result = await run(t, [flag]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${manifest.version}\n`);
    }
  });
});
