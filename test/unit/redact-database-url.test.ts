/**
 * A database URL reaches logs and error messages only through redactDatabaseUrl: every form the
 * `postgres` client accepts keeps its location and loses its secrets, and a URL too odd to split
 * with certainty is masked more, never less.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import postgres from 'postgres';
import { redactDatabaseUrl, redactUrlsIn } from '../../src/config.js';

/** [what the case is, the URL, how it must read once redacted]; every secret here contains "s3cr". */
const CASES: ReadonlyArray<readonly [string, string, string]> = [
  ['user and password', 'postgres://indexer:s3cret@db.internal:5432/index', 'postgres://indexer:***@db.internal:5432/index'],
  ['postgresql scheme', 'postgresql://indexer:s3cret@db/index', 'postgresql://indexer:***@db/index'],
  ['password without a user', 'postgres://:s3cret@db/x', 'postgres://:***@db/x'],
  ['an unencoded @ in the password', 'postgres://u:p@s3cr@db/x', 'postgres://u:***@db/x'],
  ['a percent-encoded password', 'postgres://indexer:s3cr%40t%2F@db/index', 'postgres://indexer:***@db/index'],
  ['an empty password', 'postgres://indexer:@db/index', 'postgres://indexer:***@db/index'],
  ['a user and no password', 'postgresql://indexer@db/index', 'postgresql://indexer@db/index'],
  ['no user info', 'postgres://db.internal/index', 'postgres://db.internal/index'],
  ['password in the query', 'postgres://db/x?password=s3cret', 'postgres://db/x?password=***'],
  [
    'password among other parameters',
    'postgres://u@db/x?sslmode=require&password=s3cret&application_name=a',
    'postgres://u@db/x?sslmode=require&password=***&application_name=a',
  ],
  ['a percent-encoded parameter name', 'postgres://db/x?pass%77ord=s3cret', 'postgres://db/x?pass%77ord=***'],
  ['sslpassword in the query', 'postgres://db/x?sslpassword=s3cret', 'postgres://db/x?sslpassword=***'],
  ['a malformed escape in a parameter name', 'postgres://db/x?%zz=s3cret&a=1', 'postgres://db/x?***&a=1'],
  ['both places at once', 'postgres://u:s3cret@db/x?password=s3cr2', 'postgres://u:***@db/x?password=***'],
  ['multi-host', 'postgres://u:s3cret@h1:5432,h2:5433/x', 'postgres://u:***@h1:5432,h2:5433/x'],
  ['multi-host without ports', 'postgres://u:s3cret@h1,h2/x?target_session_attrs=read-write', 'postgres://u:***@h1,h2/x?target_session_attrs=read-write'],
  ['an IPv6 host', 'postgres://u:s3cret@[::1]:5432/x', 'postgres://u:***@[::1]:5432/x'],
  ['a fragment', 'postgres://u:s3cret@db/x#part', 'postgres://u:***@db/x#part'],
  ['an unencoded # in the password', 'postgres://u:12#s3cr@db/x', 'postgres://***@db/x'],
  ['an unencoded / in the password', 'postgres://u:a/s3cr@db/x', 'postgres://***@db/x'],
  ['an unencoded ? in the password', 'postgres://u:a?s3cr@db/x', 'postgres://***@db/x'],
  ['no scheme', 'u:s3cret@db/x', '***'],
  ['a key=value string', 'host=db password=s3cret', '***'],
];

describe('redactDatabaseUrl', () => {
  for (const [what, url, expected] of CASES) {
    test(`masks ${what}`, () => {
      const redacted = redactDatabaseUrl(url);
      assert.equal(redacted, expected);
      assert.ok(!redacted.includes('s3cr'), redacted);
    });
  }

  test('keeps nothing the postgres client would send as a password, for every case it accepts', async () => {
    for (const [, url] of CASES) {
      let sql: postgres.Sql;
      try {
        sql = postgres(url);
      } catch {
        continue; // the client refuses this one, so nothing of it is ever sent
      }
      const { pass } = sql.options;
      const connection = sql.options.connection as Record<string, unknown>;
      const secrets = [pass, connection['password'], connection['sslpassword']].filter(
        (secret): secret is string => typeof secret === 'string' && secret !== '',
      );
      const redacted = redactDatabaseUrl(url);
      for (const secret of secrets) assert.ok(!redacted.includes(secret), `${url}: "${secret}" left in ${redacted}`);
      await sql.end();
    }
  });
});

test('redactUrlsIn masks each URL inside a message and leaves the rest of it', () => {
  assert.equal(
    redactUrlsIn(`Unexpected argument 'postgres://u:s3cret@db/x'. This command does not take positional arguments`),
    `Unexpected argument 'postgres://u:***@db/x'. This command does not take positional arguments`,
  );
  assert.equal(
    redactUrlsIn('a: postgres://:s3cret@h1,h2/x?password=s3cr b: http://example.org/'),
    'a: postgres://:***@h1,h2/x?password=*** b: http://example.org/',
  );
  assert.equal(redactUrlsIn(`argument 'postgres://u:pa's3cr@db/x'`), `argument 'postgres://u:***@db/x'`);
  assert.equal(redactUrlsIn('no URL here'), 'no URL here');
});
